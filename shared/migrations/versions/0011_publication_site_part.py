"""publication.site_part: what the site-wide pages read of a published report's parse result

Revision ID: 0011_publication_site_part
Revises: 0010_copy_buckets

Filled here for existing publications with the same selection as
services/publisher/tasks.py `site_part_of`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011_publication_site_part"
down_revision = "0010_copy_buckets"
branch_labels = None
depends_on = None

FIELDS = ("cells", "published_on", "report_kind", "report_format")
HYBRID_DETAILS = ("t3_other_all__natural", "t3_other_all__total")


def upgrade() -> None:
    op.add_column("publication", sa.Column("site_part", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT publication.id, document.parsed FROM publication"
            " JOIN document ON document.id = publication.document_id WHERE document.parsed IS NOT NULL"
        )
    )
    table = sa.table("publication", sa.column("id"), sa.column("site_part", sa.JSON()))
    for publication_id, parsed in rows.fetchall():
        part = _site_part(parsed if isinstance(parsed, dict) else json.loads(parsed))
        connection.execute(table.update().where(table.c.id == publication_id).values(site_part=part))


def _site_part(parsed: dict[str, Any]) -> dict[str, Any]:
    part = {name: parsed.get(name) for name in FIELDS}
    details = parsed.get("cell_details") or {}
    part["cell_details"] = {key: details[key] for key in HYBRID_DETAILS if key in details}
    return part


def downgrade() -> None:
    op.drop_column("publication", "site_part")
