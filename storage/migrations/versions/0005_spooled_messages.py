"""messages too large to hold are spooled to the file store; fetch attempts are counted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('raw_message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('stored_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.create_table(
        'fetch_attempt',
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'source_key'),
    )


def downgrade() -> None:
    op.drop_table('fetch_attempt')
    with op.batch_alter_table('raw_message', schema=None) as batch_op:
        batch_op.drop_column('stored_path')
