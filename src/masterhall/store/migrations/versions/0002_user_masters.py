"""User-created masters and the files attached to them.

Revision ID: 0002_user_masters
Revises: 0001_initial
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_user_masters"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_masters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("forked_from", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'published')", name="ck_user_masters_status"),
        sa.PrimaryKeyConstraint("id", name="pk_user_masters"),
    )
    op.create_index("ix_user_masters_updated_at", "user_masters", ["updated_at"])
    op.create_table(
        "master_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("master_id", sa.String(64), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("downloadable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["master_id"], ["user_masters.id"], name="fk_master_files_master_id_user_masters", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_master_files"),
    )
    op.create_index("ix_master_files_master_id", "master_files", ["master_id"])


def downgrade() -> None:
    op.drop_index("ix_master_files_master_id", table_name="master_files")
    op.drop_table("master_files")
    op.drop_index("ix_user_masters_updated_at", table_name="user_masters")
    op.drop_table("user_masters")
