"""portalstate.last_build_seconds: how long the last site-wide rebuild took

Revision ID: 0012_portal_build_seconds
Revises: 0011_publication_site_part

The rebuild interval grows with it, so rebuilds never take more than a fixed share of
the publisher's time however large the archive.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_portal_build_seconds"
down_revision = "0011_publication_site_part"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("portalstate", sa.Column("last_build_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("portalstate", "last_build_seconds")
