"""Messages: the masters a guide's answer recommends (shown as master cards after a reload).

Revision ID: 0004_message_recommendations
Revises: 0003_message_details
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_message_recommendations"
down_revision = "0003_message_details"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("recommendations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("recommendations")
