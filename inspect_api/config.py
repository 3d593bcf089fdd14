"""Configuration: class defaults -> INSPECT_* environment -> overrides.

Nothing here runs at import time except class definitions; `load_config`
is called by `create_app`.
"""
from __future__ import annotations

import os
from datetime import timedelta


class ConfigError(RuntimeError):
    """Raised at startup when the configuration cannot work."""


class DefaultConfig:
    # "production" (the default: a deployment that forgets to say gets the safe settings), "development" or
    # "testing". Only development and testing may run without a secret key, with the per-process throttle
    # store, or seed the demo users.
    ENV_NAME = "production"
    SECRET_KEY = None
    # None -> SQLite file under the instance folder
    DATABASE_URL = None
    # pre-ping: a pooled connection the database dropped (restart, failover, terminate) is replaced before use
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Tokens
    TOKEN_TTL_SECONDS = int(timedelta(days=30).total_seconds())

    # Login throttle: failed attempts only (see api/auth.py)
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN_PER_ACCOUNT = "10 per 15 minutes"
    RATELIMIT_LOGIN_PER_IP = "50 per 15 minutes"
    RATELIMIT_HEADERS_ENABLED = False
    # Number of trusted reverse proxies in front of the app (X-Forwarded-For)
    PROXY_COUNT = 0

    # Password hashing (argon2id); tests lower the cost
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 2

    # Storage: "local" (under UPLOAD_ROOT) or "s3"
    STORAGE_BACKEND = "local"
    UPLOAD_ROOT = None  # None -> <project>/uploads
    S3_ENDPOINT_URL = None
    S3_REGION = "us-east-1"
    S3_BUCKET = None
    S3_ACCESS_KEY_ID = None
    S3_SECRET_ACCESS_KEY = None
    S3_ADDRESSING_STYLE = "auto"  # auto | path | virtual
    S3_URL_EXPIRES = 300

    # Uploads (tus)
    UPLOAD_MAX_SIZE = 50 * 1024 * 1024
    UPLOAD_EXPIRES_SECONDS = int(timedelta(days=7).total_seconds())
    IMAGE_MAX_PIXELS = 60_000_000
    # Image decodes (checks, derivatives) at once per worker process: each 12 MP photo costs ~115 MB decoded
    IMAGE_DECODE_CONCURRENCY = 1
    # A finished upload whose photos record never arrives is deleted after this long (flask uploads purge)
    UPLOAD_ORPHAN_SECONDS = int(timedelta(days=30).total_seconds())

    # An answer given before the request body was read: drain up to this much, else close the connection
    BODY_DRAIN_MAX_BYTES = 64 * 1024 * 1024
    BODY_DRAIN_SECONDS = 10

    # The bureau that numbers documents (文号) when none is derivable
    BUREAU_CODE = "131100"
    BUREAU_NAME = "衡水市应急管理局"
    BUREAU_SHORT = "衡应急"
    ADMIN_REVIEW_BODY = "衡水市人民政府或者河北省应急管理厅"
    LITIGATION_COURT = "衡水市桃城区人民法院"

    # 安全承诺: the hour (Asia/Shanghai) by which enterprises with a major hazard source submit the day's
    # commitment; 10 follows a provincial practice (docs/selfcheck.md), not a national rule
    COMMITMENT_HOUR = 10

    DEMO_PASSWORD = "demo12345"
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024

    # flask-smorest / OpenAPI
    API_TITLE = "inspect_api"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"
    API_SPEC_OPTIONS = {
        "info": {"description": "Safety supervision of hazardous-chemical enterprises (衡水市应急管理局)."},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearerAuth": []}],
    }

    # Portal
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # CSRF is checked by the portal blueprint (web/), not on the bearer-token API
    WTF_CSRF_CHECK_DEFAULT = False
    JSON_AS_ASCII = False


# Variables that are parsed as int / bool when they come from the environment
_INT_KEYS = {
    "TOKEN_TTL_SECONDS", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM",
    "UPLOAD_MAX_SIZE", "UPLOAD_EXPIRES_SECONDS", "IMAGE_MAX_PIXELS", "S3_URL_EXPIRES",
    "PROXY_COUNT", "MAX_CONTENT_LENGTH", "IMAGE_DECODE_CONCURRENCY", "UPLOAD_ORPHAN_SECONDS",
    "BODY_DRAIN_MAX_BYTES", "BODY_DRAIN_SECONDS",
}
_ENV_NAMES = ("production", "development", "testing")


def load_config(app, overrides: dict | None = None) -> None:
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env("INSPECT")
    for key in _INT_KEYS:
        if isinstance(app.config.get(key), str):
            app.config[key] = int(app.config[key])
    if overrides:
        app.config.update(overrides)
    env = app.config["ENV_NAME"]
    if app.config.get("TESTING"):
        env = app.config["ENV_NAME"] = "testing"
    if env not in _ENV_NAMES:
        raise ConfigError(f"INSPECT_ENV_NAME must be one of {', '.join(_ENV_NAMES)} (got {env!r})")

    if not app.config.get("DATABASE_URL"):
        if env == "production":
            raise ConfigError("INSPECT_DATABASE_URL must be set in production")
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "inspect.sqlite3")
    url = app.config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("postgresql+psycopg://"):
        # No server-side prepared statements: psycopg prepares a query run five times on a connection, and
        # PostgreSQL may then keep a generic plan made when a table was small or for other parameters (seen:
        # the push's id lookups fell back to sequential scans as the tables grew, 0.6 s -> 2.6 s per push).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_pre_ping", True)
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    if not app.config.get("SECRET_KEY"):
        if env == "production":
            raise ConfigError("INSPECT_SECRET_KEY must be set in production "
                              "(or INSPECT_ENV_NAME=development for a development machine)")
        app.config["SECRET_KEY"] = "dev-only-not-secret"
    if env == "production" and str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        # a per-process store lets every worker (and every restart) grant the full quota of login attempts
        raise ConfigError("INSPECT_RATELIMIT_STORAGE_URI must name a shared store in production "
                          "(for instance redis://127.0.0.1:6379/0)")

    if app.config["STORAGE_BACKEND"] == "s3" and not app.config.get("S3_BUCKET"):
        raise ConfigError("INSPECT_S3_BUCKET must be set when INSPECT_STORAGE_BACKEND=s3")
    if app.config["STORAGE_BACKEND"] not in ("local", "s3"):
        raise ConfigError("INSPECT_STORAGE_BACKEND must be 'local' or 's3'")
    if not app.config.get("UPLOAD_ROOT"):
        app.config["UPLOAD_ROOT"] = os.path.join(os.path.dirname(app.root_path), "uploads")

    if env == "production":
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
