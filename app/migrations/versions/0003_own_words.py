"""The user's own words about a request's photo, and a chat's main character (in its settings and in each request
made with it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("story_requests") as batch:
        batch.add_column(sa.Column("story_hint", sa.Text))
        batch.add_column(sa.Column("main_character", sa.Text))
    with op.batch_alter_table("chat_settings") as batch:
        batch.add_column(sa.Column("main_character", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("chat_settings") as batch:
        batch.drop_column("main_character")
    with op.batch_alter_table("story_requests") as batch:
        batch.drop_column("main_character")
        batch.drop_column("story_hint")
