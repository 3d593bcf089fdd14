"""Major-hazard criteria catalogues (issue #15): criteria_catalogues, criteria_clauses,
hazards.criterion_clause_id, checklist_items.criterion_clause_id; the 2017 catalogue (安监总管三〔2017〕121号,
20 clauses) inserted for every install, and hazards graded with an HC2017-NN code linked to its clause.

Revision ID: 0007
Revises: 0012
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _sync_columns():
    return [
        sa.Column("sync_seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        sa.Column("created_seq", sa.BigInteger(), nullable=True),
        sa.Column("sync_origin", sa.String(length=80), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    ]


def upgrade():
    op.create_table(
        "criteria_catalogues",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("doc_no", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("industries", sa.String(length=400), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("scope_note", sa.Text(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("replaces_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("published_by_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.String(length=64), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(["replaces_id"], ["criteria_catalogues.id"],
                                name=op.f("fk_criteria_catalogues_replaces_id_criteria_catalogues")),
        sa.ForeignKeyConstraint(["published_by_id"], ["users.id"],
                                name=op.f("fk_criteria_catalogues_published_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_criteria_catalogues_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria_catalogues")),
        sa.UniqueConstraint("code", "version", name="uq_criteria_catalogues_code_version"),
    )
    with op.batch_alter_table("criteria_catalogues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criteria_catalogues_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_criteria_catalogues_sync_seq"), ["sync_seq"], unique=False)
    op.create_table(
        "criteria_clauses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("catalogue_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_title", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=True),
        *_sync_columns(),
        sa.ForeignKeyConstraint(["catalogue_id"], ["criteria_catalogues.id"],
                                name=op.f("fk_criteria_clauses_catalogue_id_criteria_catalogues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria_clauses")),
        sa.UniqueConstraint("catalogue_id", "number", name="uq_criteria_clauses_catalogue_number"),
    )
    with op.batch_alter_table("criteria_clauses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criteria_clauses_catalogue_id"), ["catalogue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_criteria_clauses_sync_seq"), ["sync_seq"], unique=False)
    # plain ADD COLUMN, no FOREIGN KEY (as hazards.item_id): the judging rule checks the clause on every
    # path, and SQLite could not drop a referencing column again in the downgrade
    op.add_column("hazards", sa.Column("criterion_clause_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_hazards_criterion_clause_id"), "hazards", ["criterion_clause_id"], unique=False)
    op.add_column("checklist_items", sa.Column("criterion_clause_id", sa.String(length=64), nullable=True))

    from inspect_api.services.criteria.builtin import insert_builtin

    conn = op.get_bind()
    insert_builtin(conn, datetime.now(timezone.utc))
    # Existing judgements: an HC2017-NN code names the 2017 clause (the catalogue has no end yet).
    # Core UPDATEs: the rows' sync cursors stay (version-1 tablets see no change).
    op.execute("UPDATE hazards SET criterion_clause_id = 'crit-' || major_criterion_code "
               "WHERE grade = 'major' AND major_criterion_code IN "
               "(SELECT code FROM criteria_clauses WHERE catalogue_id = 'crit-HC2017-v1')")
    op.execute("UPDATE checklist_items SET criterion_clause_id = 'crit-' || major_criterion_code "
               "WHERE major_criterion_code IN "
               "(SELECT code FROM criteria_clauses WHERE catalogue_id = 'crit-HC2017-v1')")


def downgrade():
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch table copy would trip the foreign keys
    op.drop_index(op.f("ix_hazards_criterion_clause_id"), table_name="hazards")
    op.execute("ALTER TABLE hazards DROP COLUMN criterion_clause_id")
    op.execute("ALTER TABLE checklist_items DROP COLUMN criterion_clause_id")
    with op.batch_alter_table("criteria_clauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_clauses_sync_seq"))
        batch_op.drop_index(batch_op.f("ix_criteria_clauses_catalogue_id"))
    op.drop_table("criteria_clauses")
    with op.batch_alter_table("criteria_catalogues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_catalogues_sync_seq"))
        batch_op.drop_index(batch_op.f("ix_criteria_catalogues_code"))
    op.drop_table("criteria_catalogues")
