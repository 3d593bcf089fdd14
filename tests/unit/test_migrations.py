"""The Alembic chain builds the whole schema, agrees with the models, and downgrades."""
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from inspect_api import create_app
from inspect_api.extensions import db

from ..conftest import TEST_CONFIG


def _alembic_config(app):
    return app.extensions["migrate"].migrate.get_config()


def test_migrations_have_one_head(app):
    with app.app_context():
        script = ScriptDirectory.from_config(_alembic_config(app))
        assert len(script.get_heads()) == 1


EXPRESSION_INDEXES = {"ix_hazards_closure_days"}  # PostgreSQL only, written by hand in 0003


def _not_expression_index(obj, name, type_, reflected, compare_to):
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _expression_indexes_agree(conn):
    """Build each expression index again from the model under another name: same definition as 0003's."""
    from sqlalchemy import Index
    from sqlalchemy.schema import CreateIndex

    for table in db.metadata.tables.values():
        for index in table.indexes:
            if index.name not in EXPRESSION_INDEXES:
                continue
            built = conn.execute(text("SELECT pg_get_indexdef(to_regclass(:n))"), {"n": index.name}).scalar()
            assert built, f"{index.name} missing after upgrade"
            copy = Index("ix_model_copy", *index.expressions, **index.dialect_kwargs)
            copy._set_parent(table)
            try:
                conn.execute(CreateIndex(copy))
                model = conn.execute(text("SELECT pg_get_indexdef(to_regclass('ix_model_copy'))")).scalar()
                conn.execute(text("DROP INDEX ix_model_copy"))
            finally:
                table.indexes.discard(copy)
            assert model.replace("ix_model_copy", index.name) == built


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_upgrade_builds_everything_models_agree_and_downgrade_reaches_base(fresh_database_url, tmp_path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path)})
    with app.app_context():
        cfg = _alembic_config(app)
        command.upgrade(cfg, "head")
        engine = db.engine
        tables = set(inspect(engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_item": None,
                                                        "include_object": _not_expression_index})
            diff = compare_metadata(ctx, db.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            # the only synced rows a fresh install has: the built-in 2017 criteria catalogue and its 20
            # clauses (migration 0007), each with its own cursor
            assert conn.execute(text("SELECT seq FROM sync_state WHERE id = 1")).scalar() == 21
            assert conn.execute(text("SELECT count(*) FROM criteria_clauses WHERE sync_seq > 0")).scalar() == 20
            if engine.dialect.name == "postgresql":
                _expression_indexes_agree(conn)
        command.downgrade(cfg, "base")
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        engine.dispose()


def test_audit_log_refuses_update_and_delete_in_the_database(fresh_database_url, tmp_path):
    import pytest

    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path)})
    with app.app_context():
        command.upgrade(_alembic_config(app), "head")
        engine = create_engine(db.engine.url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (at, action, data) VALUES (CURRENT_TIMESTAMP, 'x', '{}')"))
        for stmt in ("UPDATE audit_events SET action = 'y'", "DELETE FROM audit_events"):
            with pytest.raises(Exception, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(stmt))
        engine.dispose()
        db.engine.dispose()
