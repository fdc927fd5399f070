"""Delivery reports that arrive before their outbox row knows the message's id; the choices
last offered to a resident, for typed numbers

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveryreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("problem", sa.String(length=24), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveryreport", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveryreport_reference"), ["reference"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deliveryreport_received_at"), ["received_at"], unique=False
        )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("choices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_column("choices")
    with op.batch_alter_table("deliveryreport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveryreport_received_at"))
        batch_op.drop_index(batch_op.f("ix_deliveryreport_reference"))
    op.drop_table("deliveryreport")
