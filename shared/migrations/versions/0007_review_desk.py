"""review desk: reviewer claims, cell corrections, decisions per finding

Revision ID: 0007_review_desk
Revises: 0006_claim_heartbeat
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_review_desk"
down_revision = "0006_claim_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_holder", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("review_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "cellcorrection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("cell", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cellcorrection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cellcorrection_document_id"), ["document_id"], unique=False)
    op.create_table(
        "findingdecision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("finding", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("findingdecision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findingdecision_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findingdecision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findingdecision_document_id"))
    op.drop_table("findingdecision")
    with op.batch_alter_table("cellcorrection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cellcorrection_document_id"))
    op.drop_table("cellcorrection")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("review_expires_at")
        batch_op.drop_column("review_holder")
