"""Networks remember the topology their last successful ``up`` ran (``deployed_source``,
``deployed_revision``), so that a scoped caller's ``up`` can be judged by the signatures it
would make.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("networks") as batch:
        batch.add_column(sa.Column("deployed_source", sa.Text(), nullable=True))
        batch.add_column(sa.Column("deployed_revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("networks") as batch:
        batch.drop_column("deployed_revision")
        batch.drop_column("deployed_source")
