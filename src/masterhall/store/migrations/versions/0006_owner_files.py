"""Unguessable file ids: ``master_files.public_id`` (32 random hex digits), used in every URL
instead of the sequential ``id``. Existing files get one each.

Revision ID: 0006_owner_files
Revises: 0005_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006_owner_files"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("master_files") as batch:
        batch.add_column(sa.Column("public_id", sa.String(32), nullable=True))
    files = sa.table("master_files", sa.column("id", sa.Integer()), sa.column("public_id", sa.String(32)))
    conn = op.get_bind()
    for (file_id,) in conn.execute(sa.select(files.c.id)).all():
        conn.execute(sa.update(files).where(files.c.id == file_id).values(public_id=uuid.uuid4().hex))
    with op.batch_alter_table("master_files") as batch:
        batch.alter_column("public_id", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_master_files_public_id", ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("master_files") as batch:
        batch.drop_constraint("uq_master_files_public_id", type_="unique")
        batch.drop_column("public_id")
