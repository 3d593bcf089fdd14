"""Test fixtures.

The suite runs on SQLite by default and on PostgreSQL when
INSPECT_TEST_DATABASE_URL is set. The schema is built once per session; each
test runs inside a transaction that is rolled back afterwards (Warehouse), so
tests never see each other's rows. Tests that need real commits from several
connections (live servers, concurrency) use the ``live_db_url`` fixtures, which
make a database of their own.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from inspect_api import create_app
from inspect_api.extensions import db as _db
from inspect_api.extensions import limiter

from . import factories

PG_URL = os.environ.get("INSPECT_TEST_DATABASE_URL")
# production is the app's default; servers and CLI commands the tests start in subprocesses run as testing
os.environ.setdefault("INSPECT_ENV_NAME", "testing")

TEST_CONFIG = {
    "TESTING": True,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
    "SECRET_KEY": "test-secret",
    "RATELIMIT_STORAGE_URI": "memory://",
}


def install_builtin(session) -> None:
    """What migration 0007 gives every install: the 2017 criteria catalogue (services/criteria/builtin.py)."""
    from datetime import datetime, timezone

    from inspect_api.services.criteria.builtin import insert_builtin

    insert_builtin(session.connection(), datetime.now(timezone.utc))


def is_postgres() -> bool:
    return bool(PG_URL)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if PG_URL:
        return PG_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    upload_root = tmp_path_factory.mktemp("uploads")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_ROOT": str(upload_root)})
    with app.app_context():
        _db.drop_all()
        if is_postgres():
            with _db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        _db.create_all()
        _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        install_builtin(_db.session)
        _db.session.commit()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture()
def db(app):
    """A session inside a transaction rolled back after the test."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own Session ignores ``bind``.
        session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        _db.session = session
        try:
            yield session
        finally:
            session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture()
def client(app, db):
    limiter.reset()
    app.extensions["inspect_login_throttle"].reset()
    with app.test_client() as c:
        yield c


@pytest.fixture()
def storage(app):
    return app.extensions["inspect_storage"]


@pytest.fixture()
def world(db):
    """The Hengshui region tree, two 桃城区 enterprises, one 深州市 enterprise and the demo roles.

    Committed into the test's outer transaction (create_savepoint mode), so a
    request that rolls back keeps it; the outer rollback removes it.
    """
    w = factories.build_world(db)
    db.commit()
    return w


class Auth:
    def __init__(self, client):
        self.client = client

    def token(self, username, password=factories.PASSWORD, device_id=None):
        body = {"username": username, "password": password}
        if device_id:
            body["device_id"] = device_id
        resp = self.client.post("/api/v1/auth/token", json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["access_token"]

    def headers(self, username, **kw):
        return {"Authorization": f"Bearer {self.token(username, **kw)}"}


@pytest.fixture()
def auth(client):
    return Auth(client)


def make_fresh_database() -> tuple[str, callable]:
    """A new empty database (PostgreSQL when configured, else a SQLite file); returns (url, drop)."""
    if PG_URL:
        from sqlalchemy.engine import make_url

        base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
                        if PG_URL.startswith("postgresql://") else PG_URL)
        name = f"inspect_tmp_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()

        return url, drop
    import tempfile

    d = tempfile.mkdtemp(prefix="inspect_tmp_")
    path = os.path.join(d, "db.sqlite3")

    def drop_sqlite():
        import shutil

        shutil.rmtree(d, ignore_errors=True)

    return "sqlite:///" + path, drop_sqlite


@pytest.fixture()
def fresh_database_url():
    url, drop = make_fresh_database()
    yield url
    drop()


class LiveServer:
    """The app served over real HTTP on loopback, on a database of its own."""

    def __init__(self, app, server, thread, base_url):
        self.app = app
        self.server = server
        self.thread = thread
        self.url = base_url

    def session(self):
        """An app context + session for seeding or checking; commit yourself."""
        return self.app.app_context()


def start_live_server(overrides: dict | None = None, seed=None):
    """Build a fresh database, create the schema, seed, serve in a thread. Returns (live, stop)."""
    import tempfile
    import threading

    from werkzeug.serving import make_server

    url, drop = make_fresh_database()
    uploads = tempfile.mkdtemp(prefix="inspect_live_uploads_")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "UPLOAD_ROOT": uploads,
                      # live tests sign in many times from 127.0.0.1
                      "LOGIN_THROTTLE_ADDRESS_LIMIT": 10000, **(overrides or {})})
    with app.app_context():
        _db.create_all()
        _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        install_builtin(_db.session)
        world = factories.build_world(_db.session)
        if seed is not None:
            seed(_db.session, world)
        _db.session.commit()
        ids = {name: u.id for name, u in world.users.items()}
        ids.update(ent1=world.ent1.id, ent2=world.ent2.id, ent_shenzhou=world.ent_shenzhou.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(app, server, thread, f"http://127.0.0.1:{server.server_port}")
    live.ids = ids

    def stop():
        import shutil

        server.shutdown()
        thread.join(10)
        server.server_close()
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()
        shutil.rmtree(uploads, ignore_errors=True)

    return live, stop


@pytest.fixture(scope="module")
def live_server():
    """A live server per test module, with the factories' world (password factories.PASSWORD)."""
    live, stop = start_live_server()
    yield live
    stop()
