"""document.agency_norm by prefix: the member reports of a summary report

Revision ID: 0013_agency_prefix_index
Revises: 0012_portal_build_seconds

Validating a government's summary report reads its members' reports: the agencies whose
names start with the government's place name. Under a collation other than "C" the
(agency_norm, year) index cannot serve LIKE 'prefix%', so each summary scanned every
document of its year (274 ms at 100,000 documents); text_pattern_ops compares bytes.
"""

from __future__ import annotations

from alembic import op

revision = "0013_agency_prefix_index"
down_revision = "0012_portal_build_seconds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_document_agency_prefix",
        "document",
        ["agency_norm", "year"],
        postgresql_ops={"agency_norm": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_document_agency_prefix", table_name="document")
