"""The request store: updates not yet handled, and story requests until their answer is out.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_table(
        "story_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("update_id", sa.BigInteger, unique=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("user_id", sa.BigInteger),
        sa.Column("reply_to", sa.BigInteger),
        sa.Column("file_id", sa.Text),
        sa.Column("voice_language", sa.String(8), nullable=False),
        sa.Column("status_message_id", sa.BigInteger),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("parts_sent", sa.Text, nullable=False),
        sa.Column("caption", sa.Text),
        sa.Column("story", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False, index=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("story_requests")
    op.drop_table("updates")
