"""inspect_api: safety supervision of hazardous-chemical enterprises.

``create_app`` is the one place that wires everything together.
"""
from __future__ import annotations

import logging
import os

from flask import Flask, g, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import load_config
from .extensions import api as smorest_api, babel, csrf, db, limiter, migrate


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"))
    load_config(app, overrides)
    from .jsonsafe import SafeJSONProvider

    app.json = SafeJSONProvider(app)
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO if not app.config.get("TESTING") else logging.WARNING)

    from .bodydrain import BodyDrainMiddleware

    app.wsgi_app = BodyDrainMiddleware(app.wsgi_app, max_bytes=app.config["BODY_DRAIN_MAX_BYTES"],
                                       max_seconds=app.config["BODY_DRAIN_SECONDS"])
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from . import models  # noqa: F401  (complete metadata)
    from .models import sync as _sync_events  # noqa: F401  (cursor assignment on flush)

    db.init_app(app)
    _configure_sqlite(app)
    from .models.base import render_migration_item

    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True, compare_type=True, render_item=render_migration_item)
    limiter.init_app(app)
    csrf.init_app(app)

    from .services.accounts import passwords

    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                        app.config["ARGON2_PARALLELISM"])
    from .services.accounts import password_policy

    password_policy.configure(password_policy.PasswordPolicy.from_config(app.config))
    from .models.base import set_sealer
    from .services.security import crypto

    ring = crypto.KeyRing.from_config(app.config)
    crypto.configure(ring)
    set_sealer(ring)

    from .services.accounts.throttle import LoginThrottle

    app.extensions["inspect_login_throttle"] = LoginThrottle.from_config(app.config)

    from .services.evidence.images import configure_decodes

    configure_decodes(app.config["IMAGE_DECODE_CONCURRENCY"])

    from .storage import build_storage

    app.extensions["inspect_storage"] = build_storage(app.config)

    from .services.jobs import init_jobs

    init_jobs(app)

    smorest_api.init_app(app)
    smorest_api.ma_plugin.converter.add_attribute_function(_json_number_bounds)
    from .api import register_blueprints

    register_blueprints(smorest_api)
    _swagger_static(app)

    from .web import init_portal

    init_portal(app, babel)

    from .errors import register_error_handlers

    register_error_handlers(app)
    _request_transaction(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _json_number_bounds(self, field, ret, **kwargs) -> dict:
    """apispec writes a Decimal bound (validate.Range(Decimal("0.00"))) as the string "0.00": OpenAPI wants a
    number; and it documents a Decimal dumped as a string as a number. Runs after apispec's own attribute
    functions, on every field of every schema."""
    from decimal import Decimal

    from marshmallow import fields

    out = {k: float(ret[k]) for k in ("minimum", "maximum") if isinstance(ret.get(k), Decimal)}
    if isinstance(field, fields.Decimal) and field.as_string:
        # money goes out as a decimal string ("1.00"), never a float: say so
        out.update(type="string", format="decimal", pattern=r"^-?\d+(\.\d+)?$")
    return out


def _configure_sqlite(app: Flask) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE for every transaction.

    pysqlite's own transaction handling is turned off (it breaks SAVEPOINT and
    starts transactions late). Every transaction takes the write lock up front,
    so writers queue on busy_timeout instead of failing with SQLITE_BUSY when a
    read snapshot goes stale, and change cursors commit in order.
    """
    from sqlalchemy import event

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, record):
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _swagger_static(app: Flask) -> None:
    """Serve Swagger UI from the swagger-ui-bundle package (no CDN)."""
    try:
        import swagger_ui_bundle
    except ImportError:  # pragma: no cover
        return
    root = swagger_ui_bundle.swagger_ui_path

    @app.route("/api/v1/docs/static/<path:filename>", endpoint="swagger_static")
    def swagger_static(filename):
        return send_from_directory(root, filename)

    docs_path = "/api/v1/" + app.config["OPENAPI_SWAGGER_UI_PATH"]

    @app.after_request
    def _swagger_csp(response):
        if request.path.rstrip("/") == docs_path and response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = swagger_csp(response.get_data(as_text=True))
        return response


def swagger_csp(html: str) -> str:
    """A CSP for the Swagger page: everything from this origin only; the page's own inline scripts by hash."""
    import base64
    import hashlib
    import re

    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"
        for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S))
    return ("default-src 'self'; script-src 'self' " + hashes + "; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _request_transaction(app: Flask) -> None:
    """One commit per request: commit on success, roll back on error."""

    from .jsonsafe import guard_request

    @app.before_request
    def _fresh_request_state():
        # g lives in the app context, which tests (and CLI code) may share between requests
        g.pop("actor", None)
        g.pop("token", None)
        guard_request(request)  # no NUL / lone surrogate in the path, query or form fields

    @app.after_request
    def _commit(response):
        # Reads commit too: they may have touched a token's last_used_at.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback(exc):
        if exc is not None:
            db.session.rollback()
