"""copy check: LSH band buckets per document, so a check looks up its candidates

Revision ID: 0010_copy_buckets
Revises: 0009_web_signin

Existing signatures are bucketed here with the same hashing as
services/validator/copied_text.py `band_buckets` (blake2b of each band's uint64 values).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_copy_buckets"
down_revision = "0009_web_signin"
branch_labels = None
depends_on = None

NUM_PERM = 128
BANDS, ROWS = 11, 11  # datasketch's (b, r) for threshold 0.75 and 128 permutations


def upgrade() -> None:
    op.create_table(
        "copybucket",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("year", "bucket", "band", "document_id"),
    )
    op.create_index(op.f("ix_copybucket_document_id"), "copybucket", ["document_id"], unique=False)
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, year, text_signature FROM document WHERE year IS NOT NULL AND text_signature IS NOT NULL")
    )
    table = sa.table(
        "copybucket", sa.column("year"), sa.column("band"), sa.column("bucket"), sa.column("document_id")
    )
    for document_id, year, signature in rows:
        values = signature if isinstance(signature, list) else json.loads(signature)
        if len(values) != NUM_PERM:  # [] for a text too short to compare
            continue
        array = np.asarray(values, dtype=np.uint64)
        op.bulk_insert(
            table,
            [
                {
                    "year": year,
                    "band": band,
                    "bucket": bucket_of(array, band),
                    "document_id": document_id,
                }
                for band in range(BANDS)
            ],
        )


def bucket_of(values: np.ndarray, band: int) -> str:
    return hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).hexdigest()


def downgrade() -> None:
    op.drop_index(op.f("ix_copybucket_document_id"), table_name="copybucket")
    op.drop_table("copybucket")
