"""user sessions: local-account sessions held on the server (cookie token and handoff kept as SHA-256)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("handoff_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("handoff_expires_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
        sa.UniqueConstraint("handoff_digest"),
    )
    with op.batch_alter_table("user_session") as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_session") as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_email"))
    op.drop_table("user_session")
