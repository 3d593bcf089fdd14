"""hazards.rectification_funds / plan_funds / plan_complete / last_reviewer_id / item_id, kept from the
rectification reports, the remediation plan, the reviews and the finding for the statistics and the ledger; on PostgreSQL, the
closure-time expression index the statistics read presorted and the statistics object for found months

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CLOSURE_INDEX = (
    "CREATE INDEX ix_hazards_closure_days ON hazards "
    "((date_part('epoch', closed_at - found_at) / 86400.0)) "
    "INCLUDE (closed_at, found_at, region_code, enterprise_id, grade, deleted_at) "
    "WHERE status = 'closed' AND closed_at IS NOT NULL"
)


def upgrade():
    op.add_column("hazards", sa.Column("rectification_funds", sa.Numeric(14, 2), nullable=True))
    op.add_column("hazards", sa.Column("plan_funds", sa.Numeric(14, 2), nullable=True))
    op.add_column("hazards", sa.Column("plan_complete", sa.Boolean(), nullable=True))
    op.add_column("hazards", sa.Column("last_reviewer_id", sa.String(64), nullable=True))
    op.add_column("hazards", sa.Column("item_id", sa.String(64), nullable=True))
    op.execute("UPDATE hazards SET item_id = (SELECT f.item_id FROM findings f WHERE f.id = hazards.finding_id) "
               "WHERE finding_id IS NOT NULL")
    op.execute(
        "UPDATE hazards SET rectification_funds = (SELECT sum(r.funds) FROM rectifications r "
        "WHERE r.hazard_id = hazards.id AND r.status IN ('pending', 'accepted') AND r.deleted_at IS NULL) "
        "WHERE EXISTS (SELECT 1 FROM rectifications r WHERE r.hazard_id = hazards.id)"
    )
    op.execute(
        "UPDATE hazards SET last_reviewer_id = (SELECT v.reviewer_id FROM reviews v WHERE v.hazard_id = hazards.id "
        "ORDER BY v.reviewed_at DESC, v.id DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM reviews v WHERE v.hazard_id = hazards.id)"
    )
    # RemediationPlan.is_complete: the five points filled (blank = only spaces, tabs, newlines, U+3000)
    blank = "' \t\r\n\u3000'"
    trim = "btrim" if op.get_bind().dialect.name == "postgresql" else "trim"

    def filled(column):
        return f"length({trim}(coalesce(p.{column}, ''), {blank})) > 0"

    complete = " AND ".join([filled("responsibility"), filled("measures"), "p.funds IS NOT NULL",
                             "p.time_limit IS NOT NULL", filled("contingency")])
    op.execute(
        "UPDATE hazards SET "
        "plan_funds = (SELECT p.funds FROM remediation_plans p WHERE p.hazard_id = hazards.id), "
        f"plan_complete = (SELECT CASE WHEN {complete} THEN 1 ELSE 0 END = 1 FROM remediation_plans p "
        "WHERE p.hazard_id = hazards.id) "
        "WHERE EXISTS (SELECT 1 FROM remediation_plans p WHERE p.hazard_id = hazards.id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CLOSURE_INDEX)
        op.execute("CREATE STATISTICS IF NOT EXISTS st_hazards_found_month "
                   "ON (date_trunc('month', timezone(INTERVAL '+08:00', found_at))) FROM hazards")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_hazards_found_month")
        op.execute("DROP INDEX IF EXISTS ix_hazards_closure_days")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch table copy would trip the foreign keys
    for column in ("item_id", "last_reviewer_id", "plan_complete", "plan_funds", "rectification_funds"):
        op.execute(f"ALTER TABLE hazards DROP COLUMN {column}")
