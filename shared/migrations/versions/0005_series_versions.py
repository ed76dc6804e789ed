"""versions unique per agency and year

Existing rows are renumbered in receipt order (document id) within each series first, so
that a database where two uploads both became version 1 (the bug this fixes) can take the
unique index; publications keep the number of their document.

Revision ID: 0005_series_versions
Revises: 0004_portal_state
"""

from __future__ import annotations

from alembic import op

revision = "0005_series_versions"
down_revision = "0004_portal_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE document SET version = (
            SELECT numbered.n FROM (
                SELECT id, ROW_NUMBER() OVER (PARTITION BY agency_norm, year ORDER BY id) AS n
                FROM document WHERE version IS NOT NULL
            ) AS numbered WHERE numbered.id = document.id
        ) WHERE version IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE publication SET version = (
            SELECT document.version FROM document WHERE document.id = publication.document_id
        ) WHERE EXISTS (
            SELECT 1 FROM document
            WHERE document.id = publication.document_id AND document.version IS NOT NULL
        )
        """
    )
    op.create_index(
        "uq_document_series_version", "document", ["agency_norm", "year", "version"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_document_series_version", table_name="document")
