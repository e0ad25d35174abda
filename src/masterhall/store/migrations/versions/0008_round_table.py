"""Round tables: the masters seated in a conversation (``conversations.members``) and who wrote
each answer (``messages.master_id``). Both nullable: existing conversations stay chats with one
master, their answers the conversation's master's.

Revision ID: 0008_round_table
Revises: 0007_knowledge
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_round_table"
down_revision = "0007_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("members", sa.JSON(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("master_id", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("master_id")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("members")
