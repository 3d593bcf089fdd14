"""Enforcement planning (issue #14): inspection_plans (年度监督检查计划, versioned), plan_draws (双随机 draws with
their inputs, seed and result) and inspection_tasks rebuilt as a synced table (schema version 2: two inspectors,
window, items, 检查码). The old inspection_tasks table was never written by any code path, so it holds no rows.

Revision ID: 0006
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0010'  # re-chained after merging main (was 0003)
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspection_plans',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('staff_count', sa.Integer(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('booked_days', sa.Integer(), nullable=False),
    sa.Column('days_per_class', sa.JSON(), nullable=False),
    sa.Column('annual_cap', sa.Integer(), nullable=True),
    sa.Column('marked_enterprise_ids', sa.JSON(), nullable=False),
    sa.Column('key_enterprise_ids', sa.JSON(), nullable=False),
    sa.Column('capacity_days', sa.Integer(), nullable=False),
    sa.Column('key_days', sa.Integer(), nullable=False),
    sa.Column('ordinary_count', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('supersedes_id', sa.String(length=64), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.String(length=64), nullable=True),
    sa.Column('approved_by_id', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_inspection_plans_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspection_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['inspection_plans.id'], name=op.f('fk_inspection_plans_supersedes_id_inspection_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_plans')),
    sa.UniqueConstraint('region_code', 'year', 'version', name='uq_inspection_plans_region_year_version')
    )
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_plans_region_code'), ['region_code'], unique=False)

    op.create_table('plan_draws',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('period_label', sa.String(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('enterprise_ids', sa.JSON(), nullable=False),
    sa.Column('inspectors', sa.JSON(), nullable=False),
    sa.Column('exclusions', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('input_digest', sa.String(length=64), nullable=False),
    sa.Column('result_digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('supersedes_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('drawn_by_id', sa.String(length=64), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_plan_draws_drawn_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_plan_draws_plan_id_inspection_plans')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['plan_draws.id'], name=op.f('fk_plan_draws_supersedes_id_plan_draws')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_draws'))
    )
    with op.batch_alter_table('plan_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_draws_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_draws_region_code'), ['region_code'], unique=False)

    with op.batch_alter_table('inspection_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('draw_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=False))
        batch_op.add_column(sa.Column('lead_inspector_id', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('co_inspector_id', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('window_start_at', sa.DateTime(timezone=True), nullable=False))
        batch_op.add_column(sa.Column('window_end_at', sa.DateTime(timezone=True), nullable=False))
        batch_op.add_column(sa.Column('template_ids', sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column('item_ids', sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column('is_joint', sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column('code', sa.String(length=16), nullable=False))
        batch_op.add_column(sa.Column('in_plan', sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column('over_cap_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('approval_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('approved_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('inspection_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('notice_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('record_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('record_recorder_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('record_representative', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('record_refused', sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column('sync_seq', sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('sync_origin', sa.String(length=80), nullable=True))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_assignee_id'))
        batch_op.create_index(batch_op.f('ix_inspection_tasks_co_inspector_id'), ['co_inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_draw_id'), ['draw_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_lead_inspector_id'), ['lead_inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_tasks_sync_seq'), ['sync_seq'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_inspection_tasks_code'), ['code'])
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_assignee_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_template_id_checklist_templates'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_draw_id_plan_draws'), 'plan_draws', ['draw_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_co_inspector_id_users'), 'users', ['co_inspector_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_approved_by_id_users'), 'users', ['approved_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_lead_inspector_id_users'), 'users', ['lead_inspector_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_plan_id_inspection_plans'), 'inspection_plans', ['plan_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_record_recorder_id_users'), 'users', ['record_recorder_id'], ['id'])
        batch_op.drop_column('is_random')
        batch_op.drop_column('template_id')
        batch_op.drop_column('due_on')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('planned_on')



def downgrade():
    # The planning data has no place in the old shape: tasks go, and inspections lose their task link.
    op.execute("UPDATE inspections SET task_id = NULL WHERE task_id IS NOT NULL")
    op.execute("DELETE FROM inspection_tasks")
    with op.batch_alter_table('inspection_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('template_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('is_random', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_record_recorder_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_plan_id_inspection_plans'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_lead_inspector_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_approved_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_co_inspector_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspection_tasks_draw_id_plan_draws'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_template_id_checklist_templates'), 'checklist_templates', ['template_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_tasks_assignee_id_users'), 'users', ['assignee_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('uq_inspection_tasks_code'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_sync_seq'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_plan_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_lead_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_draw_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_tasks_co_inspector_id'))
        batch_op.create_index(batch_op.f('ix_inspection_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.drop_column('record_refused')
        batch_op.drop_column('record_representative')
        batch_op.drop_column('record_recorder_id')
        batch_op.drop_column('record_number')
        batch_op.drop_column('notice_number')
        batch_op.drop_column('sync_origin')
        batch_op.drop_column('created_seq')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('sync_seq')
        batch_op.drop_column('note')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('inspection_id')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('approval_reason')
        batch_op.drop_column('over_cap_reason')
        batch_op.drop_column('in_plan')
        batch_op.drop_column('code')
        batch_op.drop_column('is_joint')
        batch_op.drop_column('item_ids')
        batch_op.drop_column('template_ids')
        batch_op.drop_column('window_end_at')
        batch_op.drop_column('window_start_at')
        batch_op.drop_column('co_inspector_id')
        batch_op.drop_column('lead_inspector_id')
        batch_op.drop_column('title')
        batch_op.drop_column('draw_id')
        batch_op.drop_column('plan_id')

    with op.batch_alter_table('plan_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_draws_region_code'))
        batch_op.drop_index(batch_op.f('ix_plan_draws_plan_id'))

    op.drop_table('plan_draws')
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_plans_region_code'))

    op.drop_table('inspection_plans')
