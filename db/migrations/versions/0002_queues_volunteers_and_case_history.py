"""queues, volunteers and case history

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "queue",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("chat_id"),
    )
    op.create_table(
        "volunteer",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("private_chat", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "caseevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("caseevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caseevent_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casemessage",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    with op.batch_alter_table("casemessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casemessage_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_message_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("card_posted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("nudged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_claimed_by"), ["claimed_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_queue"), ["queue"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_queue"))
        batch_op.drop_index(batch_op.f("ix_case_claimed_by"))
        batch_op.drop_column("nudged_at")
        batch_op.drop_column("last_message_at")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("card_posted_at")
        batch_op.drop_column("card_message_id")
        batch_op.drop_column("queue")

    with op.batch_alter_table("casemessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casemessage_case_id"))

    op.drop_table("casemessage")
    with op.batch_alter_table("caseevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caseevent_case_id"))

    op.drop_table("caseevent")
    op.drop_table("volunteer")
    op.drop_table("queue")
