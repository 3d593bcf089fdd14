"""Case files (卷宗): archived files and their members, supplements, proofs of service (送达回执), per-bureau
filing profiles; the bureau's append-only Merkle log: leaves, complete-subtree hashes, its size, signed
checkpoints and the re-check's alarms (issue 22)

Revision ID: 0010
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('casefile_profiles',
    sa.Column('bureau_code', sa.String(length=12), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('bureau_code', name=op.f('pk_casefile_profiles'))
    )
    op.create_table('log_alarms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=True),
    sa.Column('audit_event_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_alarms'))
    )
    with op.batch_alter_table('log_alarms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_alarms_detected_at'), ['detected_at'], unique=False)

    op.create_table('log_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_sha256', sa.String(length=64), nullable=False),
    sa.Column('root_sm3', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_checkpoints'))
    )
    with op.batch_alter_table('log_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_checkpoints_tree_size'), ['tree_size'], unique=False)

    op.create_table('log_entries',
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('audit_event_id', sa.BigInteger(), nullable=True),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('leaf_data', sa.Text(), nullable=True),
    sa.Column('leaf_sha256', sa.String(length=64), nullable=False),
    sa.Column('leaf_sm3', sa.String(length=64), nullable=False),
    sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idx', name=op.f('pk_log_entries')),
    sa.UniqueConstraint('audit_event_id', name=op.f('uq_log_entries_audit_event_id'))
    )
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_entries_ref'), ['ref'], unique=False)

    op.create_table('log_nodes',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sm3', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_log_nodes'))
    )
    op.create_table('log_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_state'))
    )
    op.create_table('casefiles',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('enterprise_id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('bureau_code', sa.String(length=12), nullable=False),
    sa.Column('archive_no', sa.String(length=80), nullable=False),
    sa.Column('retention', sa.String(length=20), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_by_id', sa.String(length=64), nullable=False),
    sa.Column('root_sm3', sa.String(length=64), nullable=False),
    sa.Column('root_sha256', sa.String(length=64), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('checkpoint_size', sa.BigInteger(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('audit_event_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['archived_by_id'], ['users.id'], name=op.f('fk_casefiles_archived_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_casefiles_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_casefiles')),
    sa.UniqueConstraint('archive_no', name=op.f('uq_casefiles_archive_no')),
    sa.UniqueConstraint('kind', 'subject_id', name='uq_casefiles_subject')
    )
    with op.batch_alter_table('casefiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_casefiles_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_casefiles_region_code'), ['region_code'], unique=False)

    op.create_table('service_records',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('document_table', sa.String(length=40), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('document_title', sa.String(length=60), nullable=False),
    sa.Column('document_number', sa.String(length=80), nullable=True),
    sa.Column('enterprise_id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('served_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('officer1_id', sa.String(length=64), nullable=False),
    sa.Column('officer2_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_records_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_service_records_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['officer1_id'], ['users.id'], name=op.f('fk_service_records_officer1_id_users')),
    sa.ForeignKeyConstraint(['officer2_id'], ['users.id'], name=op.f('fk_service_records_officer2_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_records'))
    )
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.create_index('ix_service_records_document', ['document_table', 'document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_region_code'), ['region_code'], unique=False)

    op.create_table('casefile_members',
    sa.Column('casefile_id', sa.String(length=64), nullable=False),
    sa.Column('object_table', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['casefile_id'], ['casefiles.id'], name=op.f('fk_casefile_members_casefile_id_casefiles')),
    sa.PrimaryKeyConstraint('casefile_id', 'object_table', 'object_id', name=op.f('pk_casefile_members'))
    )
    with op.batch_alter_table('casefile_members', schema=None) as batch_op:
        batch_op.create_index('ix_casefile_members_object', ['object_table', 'object_id'], unique=False)

    op.create_table('casefile_supplements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('casefile_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.String(length=64), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['casefile_id'], ['casefiles.id'], name=op.f('fk_casefile_supplements_casefile_id_casefiles')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_casefile_supplements_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_casefile_supplements')),
    sa.UniqueConstraint('casefile_id', 'seq', name='uq_casefile_supplements_seq')
    )


def downgrade():
    op.drop_table('casefile_supplements')
    with op.batch_alter_table('casefile_members', schema=None) as batch_op:
        batch_op.drop_index('ix_casefile_members_object')

    op.drop_table('casefile_members')
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_records_region_code'))
        batch_op.drop_index(batch_op.f('ix_service_records_enterprise_id'))
        batch_op.drop_index('ix_service_records_document')

    op.drop_table('service_records')
    with op.batch_alter_table('casefiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_casefiles_region_code'))
        batch_op.drop_index(batch_op.f('ix_casefiles_enterprise_id'))

    op.drop_table('casefiles')
    op.drop_table('log_state')
    op.drop_table('log_nodes')
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_entries_ref'))

    op.drop_table('log_entries')
    with op.batch_alter_table('log_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_checkpoints_tree_size'))

    op.drop_table('log_checkpoints')
    with op.batch_alter_table('log_alarms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_alarms_detected_at'))

    op.drop_table('log_alarms')
    op.drop_table('casefile_profiles')
