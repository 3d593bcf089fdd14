"""jobs: background jobs (exports, bulk notice PDFs, overdue reminders, photo derivative backfill);
sync_working_sets: what each schema-version-4 tablet was sent (working-set sync)

Revision ID: 0009
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("progress_done", sa.BigInteger(), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(120), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_key", sa.String(400), nullable=True),
        sa.Column("result_name", sa.String(200), nullable=True),
        sa.Column("result_type", sa.String(120), nullable=True),
        sa.Column("result_size", sa.BigInteger(), nullable=True),
        sa.Column("result_sha256", sa.String(64), nullable=True),
        sa.Column("partial_key", sa.String(400), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_jobs_owner_created", "jobs", ["owner_id", "created_at"])
    op.create_index("ix_jobs_state_lease", "jobs", ["state", "lease_until"])
    op.create_index("ix_jobs_state_enqueued", "jobs", ["state", "enqueued_at"])
    op.create_table(
        "sync_working_sets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("client_key", sa.String(80), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sync_working_sets_client_cursor", "sync_working_sets", ["client_key", "cursor"])


def downgrade():
    op.drop_index("ix_sync_working_sets_client_cursor", table_name="sync_working_sets")
    op.drop_table("sync_working_sets")
    op.drop_index("ix_jobs_state_enqueued", table_name="jobs")
    op.drop_index("ix_jobs_state_lease", table_name="jobs")
    op.drop_index("ix_jobs_owner_created", table_name="jobs")
    op.drop_table("jobs")
