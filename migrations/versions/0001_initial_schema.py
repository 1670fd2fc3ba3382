"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 15:01:17.104087
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('correlation_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_correlation_id'), ['correlation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_object', ['object_type', 'object_id'], unique=False)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_role'), ['role'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('commander', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('communications_lead', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('compliance_lead', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('declared_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('declared_at', sa.DateTime(), nullable=False),
    sa.Column('aware_at', sa.DateTime(), nullable=True),
    sa.Column('classified_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_declared_at'), ['declared_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_status'), ['status'], unique=False)

    op.create_table('media_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('org_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('content_document_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('source_object', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('declared_type', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('storage_path', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=True),
    sa.Column('linked_records', sa.JSON(), nullable=False),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('risk', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('unscannable_reason', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('scanned_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('scan_attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'external_id', name='uq_media_item_source_external')
    )
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_item_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_received_at'), ['received_at'], unique=False)
        batch_op.create_index('ix_media_item_risk_received', ['risk', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_scanned_at'), ['scanned_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_source_object'), ['source_object'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_state'), ['state'], unique=False)
        batch_op.create_index('ix_media_item_state_received', ['state', 'received_at'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=True)

    op.create_table('communication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('prefilled_text', sa.Text(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communication_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_communication_status'), ['status'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_decision_kind_decided', ['kind', 'decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_status'), ['status'], unique=False)

    op.create_table('hash_bank_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hash_bank_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hash_bank_entry_bank'), ['bank'], unique=False)
        batch_op.create_index(batch_op.f('ix_hash_bank_entry_phash'), ['phash'], unique=False)
        batch_op.create_index(batch_op.f('ix_hash_bank_entry_sha256'), ['sha256'], unique=False)

    op.create_table('incident_item',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('incident_id', 'item_id')
    )
    with op.batch_alter_table('incident_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_item_item_id'), ['item_id'], unique=False)

    op.create_table('outbox_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_entry_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('preemptive', sa.Boolean(), nullable=False),
    sa.Column('removed_links', sa.JSON(), nullable=False),
    sa.Column('sharing_before', sa.JSON(), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('restore_verified', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantine_status'), ['status'], unique=False)

    op.create_table('verdict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('risk', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('unscannable_reason', sa.Text(), nullable=True),
    sa.Column('detector_versions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verdict', schema=None) as batch_op:
        batch_op.create_index('ix_verdict_created_risk', ['created_at', 'risk'], unique=False)
        batch_op.create_index(batch_op.f('ix_verdict_item_id'), ['item_id'], unique=False)

    op.create_table('signal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('verdict_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('explanation_path', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['media_item.id'], ),
    sa.ForeignKeyConstraint(['verdict_id'], ['verdict.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_signal_name_created', ['name', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signal_verdict_id'), ['verdict_id'], unique=False)

    op.execute(sa.text("INSERT INTO audit_anchor (id, seq, head_hash) VALUES (1, 0, :h)")
               .bindparams(h="0" * 64))
    _make_audit_table_append_only()


def downgrade() -> None:
    _drop_append_only_guards()
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_verdict_id'))
        batch_op.drop_index('ix_signal_name_created')
        batch_op.drop_index(batch_op.f('ix_signal_item_id'))

    op.drop_table('signal')
    with op.batch_alter_table('verdict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verdict_item_id'))
        batch_op.drop_index('ix_verdict_created_risk')

    op.drop_table('verdict')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_status'))
        batch_op.drop_index(batch_op.f('ix_quarantine_item_id'))

    op.drop_table('quarantine')
    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_entry_item_id'))

    op.drop_table('outbox_entry')
    with op.batch_alter_table('incident_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_item_item_id'))

    op.drop_table('incident_item')
    with op.batch_alter_table('hash_bank_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hash_bank_entry_sha256'))
        batch_op.drop_index(batch_op.f('ix_hash_bank_entry_phash'))
        batch_op.drop_index(batch_op.f('ix_hash_bank_entry_bank'))

    op.drop_table('hash_bank_entry')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_status'))
        batch_op.drop_index('ix_decision_kind_decided')
        batch_op.drop_index(batch_op.f('ix_decision_item_id'))

    op.drop_table('decision')
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communication_status'))
        batch_op.drop_index(batch_op.f('ix_communication_incident_id'))

    op.drop_table('communication')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_email'))

    op.drop_table('user')
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_index('ix_media_item_state_received')
        batch_op.drop_index(batch_op.f('ix_media_item_state'))
        batch_op.drop_index(batch_op.f('ix_media_item_source_object'))
        batch_op.drop_index(batch_op.f('ix_media_item_sha256'))
        batch_op.drop_index(batch_op.f('ix_media_item_scanned_at'))
        batch_op.drop_index('ix_media_item_risk_received')
        batch_op.drop_index(batch_op.f('ix_media_item_received_at'))
        batch_op.drop_index(batch_op.f('ix_media_item_assignee'))

    op.drop_table('media_item')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_status'))
        batch_op.drop_index(batch_op.f('ix_incident_declared_at'))

    op.drop_table('incident')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_role'))

    op.drop_table('contact')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_object')
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_correlation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    op.drop_table('audit_anchor')


# The audit table is append-only in the database itself, whoever connects.
SQLITE_GUARDS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END""",
]
POSTGRES_GUARDS = [
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]


def _make_audit_table_append_only() -> None:
    guards = SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else POSTGRES_GUARDS
    for statement in guards:
        op.execute(statement)


def _drop_append_only_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
