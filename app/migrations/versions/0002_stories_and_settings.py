"""Stories told (for /historias), chat settings (from the old pickle file), each request's story options and
the message its story is being written in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("story_requests") as batch:
        batch.add_column(sa.Column("story_kind", sa.String(16)))
        batch.add_column(sa.Column("story_length", sa.String(16)))
        batch.add_column(sa.Column("story_message_id", sa.BigInteger))
    op.create_table(
        "stories",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("story_kind", sa.String(16), nullable=False),
        sa.Column("story_length", sa.String(16), nullable=False),
        sa.Column("caption", sa.Text, nullable=False),
        sa.Column("story_en", sa.Text, nullable=False),
        sa.Column("story_pt", sa.Text, nullable=False),
        sa.Column("voice_language", sa.String(8), nullable=False),
        sa.Column("voice_file_id", sa.Text),
    )
    op.create_index("ix_stories_chat_created", "stories", ["chat_id", "created_at"])
    op.create_table(
        "chat_settings",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("voice_language", sa.String(8)),
        sa.Column("story_kind", sa.String(16)),
        sa.Column("story_length", sa.String(16)),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chat_settings")
    op.drop_index("ix_stories_chat_created", "stories")
    op.drop_table("stories")
    with op.batch_alter_table("story_requests") as batch:
        batch.drop_column("story_message_id")
        batch.drop_column("story_length")
        batch.drop_column("story_kind")
