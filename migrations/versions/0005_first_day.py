"""hazards.last_rectification_id / last_review_id: the hazard's latest rectification report and latest review,
kept (like last_reviewer_id) by the after_flush hook, for the ledger's 整改措施, 责任人, 完成日期 and 复查意见
columns (joined by primary key)

Revision ID: 0005
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("hazards", sa.Column("last_rectification_id", sa.String(64), nullable=True))
    op.add_column("hazards", sa.Column("last_review_id", sa.String(64), nullable=True))
    op.execute(
        "UPDATE hazards SET last_rectification_id = (SELECT r.id FROM rectifications r "
        "WHERE r.hazard_id = hazards.id AND r.deleted_at IS NULL ORDER BY r.reported_at DESC, r.id DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM rectifications r WHERE r.hazard_id = hazards.id)"
    )
    op.execute(
        "UPDATE hazards SET last_review_id = (SELECT v.id FROM reviews v WHERE v.hazard_id = hazards.id "
        "ORDER BY v.reviewed_at DESC, v.id DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM reviews v WHERE v.hazard_id = hazards.id)"
    )


def downgrade():
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0003 does
    for column in ("last_review_id", "last_rectification_id"):
        op.execute(f"ALTER TABLE hazards DROP COLUMN {column}")
