"""Issue #19 items 6, 9, 10: production is the safe default, faults answer what clients can retry, an early
answer never leaves an unread body on a kept-alive connection."""
from __future__ import annotations

import base64
import socket

import pytest
from sqlalchemy import exc as sa_exc

from inspect_api import create_app
from inspect_api.config import ConfigError

from ..conftest import TEST_CONFIG
from .gunicorn_server import GunicornServer


def _prod(monkeypatch, tmp_path, **env):
    for key in ("INSPECT_ENV_NAME", "INSPECT_SECRET_KEY", "INSPECT_RATELIMIT_STORAGE_URI", "INSPECT_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # personal data is sealed at rest: production needs its keys (tests/security/test_personal_data.py)
    monkeypatch.setenv("INSPECT_DATA_KEYS", '{"k1": "' + base64.b64encode(b"k" * 32).decode() + '"}')
    monkeypatch.setenv("INSPECT_DATA_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
    return {"DATABASE_URL": "sqlite:///" + str(tmp_path / "p.db"), "UPLOAD_ROOT": str(tmp_path)}


def test_unset_env_name_is_production_and_refuses_to_start_without_a_secret(monkeypatch, tmp_path):
    overrides = _prod(monkeypatch, tmp_path)
    with pytest.raises(ConfigError, match="INSPECT_SECRET_KEY"):
        create_app(overrides)


def test_production_refuses_the_per_process_throttle_store(monkeypatch, tmp_path):
    overrides = _prod(monkeypatch, tmp_path, INSPECT_SECRET_KEY="s" * 32)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app(overrides)
    monkeypatch.setenv("INSPECT_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    app = create_app(overrides)
    assert app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] == "s" * 32


def test_development_must_be_said_to_get_the_dev_secret(monkeypatch, tmp_path):
    overrides = _prod(monkeypatch, tmp_path, INSPECT_ENV_NAME="development")
    assert create_app(overrides).config["SECRET_KEY"] == "dev-only-not-secret"
    monkeypatch.setenv("INSPECT_ENV_NAME", "prod")  # a typo must not fall back to anything
    with pytest.raises(ConfigError, match="INSPECT_ENV_NAME"):
        create_app(overrides)


def test_seed_demo_is_refused_in_production(monkeypatch, tmp_path):
    overrides = _prod(monkeypatch, tmp_path, INSPECT_SECRET_KEY="s" * 32,
                      INSPECT_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    app = create_app(overrides)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output


def test_engine_checks_pooled_connections_before_use(app):
    with app.app_context():
        from inspect_api.extensions import db

        assert db.engine.pool._pre_ping is True


def test_swagger_page_has_a_csp_that_allows_only_its_own_scripts(client):
    resp = client.get("/api/v1/docs")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "'sha256-" in csp and "frame-ancestors 'none'" in csp


# ------------------------------------------------------------------ item 10 and races: classification


def _app_raising(database_url, tmp_path, exc):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_ROOT": str(tmp_path)})

    @app.route("/api/v1/_fault_test")
    def fault():
        raise exc

    return app.test_client()


@pytest.mark.parametrize("exc", [
    sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
    sa_exc.DisconnectionError("gone"),
    sa_exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
])
def test_a_dropped_database_connection_answers_503_with_retry_after(database_url, tmp_path, exc):
    resp = _app_raising(database_url, tmp_path, exc).get("/api/v1/_fault_test")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert resp.get_json()["code"] == "database_unavailable"


def test_a_lost_insert_race_answers_409(database_url, tmp_path):
    exc = sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key value violates unique constraint"))
    resp = _app_raising(database_url, tmp_path, exc).get("/api/v1/_fault_test")
    assert resp.status_code == 409 and resp.get_json()["code"] == "concurrent_change"
    assert "duplicate key" not in resp.get_data(as_text=True)


def test_a_failing_commit_after_the_view_is_classified_too(database_url, tmp_path):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_ROOT": str(tmp_path)})

    @app.route("/api/v1/_fault_commit")
    def ok():
        return {"ok": True}

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (testing re-raises)

    @app.after_request
    def explode(response):
        raise sa_exc.OperationalError("COMMIT", {}, Exception("terminating connection due to administrator"))

    resp = app.test_client().get("/api/v1/_fault_commit")
    assert resp.status_code == 503 and resp.headers["Retry-After"]


# ------------------------------------------------------------------ item 9: early answers and unread bodies


@pytest.fixture(scope="module")
def gunicorn_small_drain():
    server = GunicornServer(env={"INSPECT_BODY_DRAIN_MAX_BYTES": str(256 * 1024)}).start()
    yield server
    server.stop()


def _read_response(sock) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length")][0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return head


def _early_answered_patch(sock, size: int) -> bytes:
    """A tus PATCH answered 401 before its body is read (no token), its whole body sent."""
    body = b"x" * size
    sock.sendall(b"PATCH /api/v1/uploads/abc HTTP/1.1\r\nHost: t\r\nTus-Resumable: 1.0.0\r\n"
                 b"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                 b"Content-Length: %d\r\n\r\n" % size + body)
    return _read_response(sock)


def test_an_early_answer_drains_the_body_so_the_next_request_on_the_connection_works(gunicorn_small_drain):
    host, port = "127.0.0.1", gunicorn_small_drain.port
    with socket.create_connection((host, port), timeout=20) as sock:
        head = _early_answered_patch(sock, 200 * 1024)  # > gunicorn's own 64 KiB drain, < our bound
        assert b" 401 " in head.split(b"\r\n")[0]
        assert b"connection: close" not in head.lower()
        sock.sendall(b"GET /api/v1/nothing HTTP/1.1\r\nHost: t\r\n\r\n")
        head = _read_response(sock)
        assert b" 404 " in head.split(b"\r\n")[0]


def test_an_early_answer_past_the_drain_bound_closes_the_connection(gunicorn_small_drain):
    with socket.create_connection(("127.0.0.1", gunicorn_small_drain.port), timeout=20) as sock:
        head = _early_answered_patch(sock, 1024 * 1024)
        assert b" 401 " in head.split(b"\r\n")[0]
        assert b"connection: close" in head.lower()  # the client knows not to reuse the connection
        sock.settimeout(10)
        rest = b""
        try:
            while True:  # the server closes: recv ends (b"") or the socket is reset
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except ConnectionResetError:
            pass
        assert b"HTTP/1.1" not in rest
