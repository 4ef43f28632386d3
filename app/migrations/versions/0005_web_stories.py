"""The web page's stories in the store while they live, so that any replica of the page serves any of them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_stories",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("story", sa.Text, nullable=False),
        sa.Column("photo", sa.LargeBinary, nullable=False),
        sa.Column("voice", sa.LargeBinary),
    )
    op.create_index("ix_web_stories_expires_at", "web_stories", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_stories_expires_at", "web_stories")
    op.drop_table("web_stories")
