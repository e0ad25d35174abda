"""Messages: the backend's finish reason, the safety guard's record and the hall's notes.

Revision ID: 0003_message_details
Revises: 0002_user_masters
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_message_details"
down_revision = "0002_user_masters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("finish_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("safety", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("notes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("notes")
        batch.drop_column("safety")
        batch.drop_column("finish_reason")
