"""Broadcasts written in the chat: the organiser's one draft (an activity or a broadcast), each
outbox row's broadcast, and the message that shows an organiser how their broadcast goes

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.rename_table("activitydraft", "draft")
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("form", sa.String(length=16), nullable=False, server_default="activity")
        )
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.alter_column("form", server_default=None)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_broadcast_id", ["broadcast_id"], unique=False)
    # Rows queued before: their key is "broadcast:<id>:<resident>".
    outbox = sa.table("outbox", sa.column("id"), sa.column("key"), sa.column("broadcast_id"))
    connection = op.get_bind()
    found = connection.execute(
        sa.select(outbox.c.id, outbox.c.key).where(outbox.c.key.like("broadcast:%"))
    )
    for row_id, key in found.all():
        connection.execute(
            outbox.update().where(outbox.c.id == row_id).values(broadcast_id=int(key.split(":")[1]))
        )

    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("progress_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("progress_message_id")
        batch_op.drop_column("language")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_broadcast_id")
        batch_op.drop_column("broadcast_id")
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_column("form")
    op.rename_table("draft", "activitydraft")
