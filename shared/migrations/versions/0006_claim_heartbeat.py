"""claim heartbeat: a killed worker's document is taken over in seconds

Revision ID: 0006_claim_heartbeat
Revises: 0005_series_versions
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_claim_heartbeat"
down_revision = "0005_series_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("claim_heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("claim_heartbeat_at")
