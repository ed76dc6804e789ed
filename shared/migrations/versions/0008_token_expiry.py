"""token expiry; request digest of an upload (Idempotency-Key reuse with another body)

Revision ID: 0008_token_expiry
Revises: 0007_review_desk
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_token_expiry"
down_revision = "0007_review_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apitoken") as batch:
        batch.add_column(sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("upload") as batch:
        batch.add_column(sa.Column("request_sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload") as batch:
        batch.drop_column("request_sha256")
    with op.batch_alter_table("apitoken") as batch:
        batch.drop_column("expires_at")
