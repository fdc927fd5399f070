"""The channel each request was made on, kept for statistics once the resident is erased

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
    # Requests whose resident is still known get their channel; erased ones stay unknown.
    op.execute(
        'UPDATE "case" SET channel = '
        '(SELECT resident.channel FROM resident WHERE resident.id = "case".resident_id)'
    )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("channel")
