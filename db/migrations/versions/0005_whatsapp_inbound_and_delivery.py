"""WhatsApp: inbound messages kept until answered, residents' numbers and window, delivery status

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_key", sa.String(length=128), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "message_key"),
    )
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_status"), ["status"], unique=False)
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_message_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_platform_message_id"), ["platform_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_platform_message_id"))
        batch_op.drop_column("delivery")
        batch_op.drop_column("platform_message_id")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_column("last_inbound_at")
        batch_op.drop_column("phone")
    with op.batch_alter_table("inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_status"))
        batch_op.drop_index(batch_op.f("ix_inbound_received_at"))
        batch_op.drop_index(batch_op.f("ix_inbound_sender"))
    op.drop_table("inbound")
