"""dashboard indexes: the queue and the high-risk feed by scan time, signals by time for drift

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = [
    # Review queue: held items oldest scan first; SLA counts.
    ("ix_media_item_state_scanned", "media_item", ["state", "scanned_at"]),
    # Live feed of recent high-risk detections; trends' flagged items by scan time.
    ("ix_media_item_risk_scanned", "media_item", ["risk", "scanned_at"]),
    # Trends' score drift: a range on time, covering name and score.
    ("ix_signal_created_name_score", "signal", ["created_at", "name", "score"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
