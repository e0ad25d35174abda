"""Knowledge per master: curated entries (Q&A pairs, lorebook entries), retrievable chunks of
files and entries with their vectors, a revision token per master (an in-memory index checks it
each turn), and the citations of a message.

Revision ID: 0007_knowledge
Revises: 0006_owner_files
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_knowledge"
down_revision = "0006_owner_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("master_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('qa', 'lore')", name="ck_knowledge_entries_kind"),
        sa.ForeignKeyConstraint(["master_id"], ["user_masters.id"], ondelete="CASCADE",
                                name="fk_knowledge_entries_master_id_user_masters"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_entries"),
        sa.UniqueConstraint("public_id", name="uq_knowledge_entries_public_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_knowledge_entries_master_id", "knowledge_entries", ["master_id"])
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("master_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(32), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("encoder", sa.String(200), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["master_id"], ["user_masters.id"], ondelete="CASCADE",
                                name="fk_knowledge_chunks_master_id_user_masters"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_chunks"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_knowledge_chunks_master_id", "knowledge_chunks", ["master_id"])
    op.create_index("ix_knowledge_chunks_source_id", "knowledge_chunks", ["source_id"])
    op.create_table(
        "knowledge_revisions",
        sa.Column("master_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["master_id"], ["user_masters.id"], ondelete="CASCADE",
                                name="fk_knowledge_revisions_master_id_user_masters"),
        sa.PrimaryKeyConstraint("master_id", name="pk_knowledge_revisions"),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("citations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("citations")
    op.drop_table("knowledge_revisions")
    op.drop_table("knowledge_chunks")
    op.drop_table("knowledge_entries")
