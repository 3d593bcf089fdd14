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

    # Sign-in throttle (services/accounts/throttle.py, docs/security.md): one store for API and portal
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_THROTTLE_FREE_ATTEMPTS = 5          # failures per account+address before the back-off starts
    LOGIN_THROTTLE_WINDOW_SECONDS = 900       # a pair's count is forgotten this long after its last failure
    LOGIN_THROTTLE_BASE_LOCK_SECONDS = 60     # first lock; doubles with each further failure
    LOGIN_THROTTLE_MAX_LOCK_SECONDS = 900
    LOGIN_THROTTLE_ADDRESS_LIMIT = 100        # failures from one address (any account) before untrusted pairs wait
    LOGIN_THROTTLE_ACCOUNT_LIMIT = 50         # failures on one account (any address) before untrusted pairs wait
    LOGIN_THROTTLE_TRUST_SECONDS = 30 * 86400  # a pair that signed in successfully stays trusted this long
    # Number of trusted reverse proxies in front of the app (X-Forwarded-For)
    PROXY_COUNT = 0

    # Password policy (等保三级 8.1.4.1; services/accounts/password_policy.py)
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MIN_CLASSES = 3  # of lower-case, upper-case, digits, other characters
    PASSWORD_HISTORY = 5  # not one of the last N passwords
    PASSWORD_MAX_AGE_DAYS = 90  # staff passwords; 0 = never expire
    ACCOUNT_UNUSED_DAYS = 90  # flask disable-unused-accounts disables accounts unused this long
    # Portal sessions end after this idle time and this absolute lifetime (tablet tokens: TOKEN_TTL_SECONDS)
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    AUDIT_RETENTION_DAYS = 180  # audit records kept at least this long (never less than 180)
    # Roles that must sign in with a second factor (TOTP), comma-separated; None: the environment's default
    # (production: the three administrators and supervisors; development and testing: none)
    MFA_REQUIRED_ROLES = None
    # Personal data sealed at rest (services/security/crypto.py): {"key id": "base64 key"}, the current id,
    # the cipher (aes-gcm, or sm4-gcm with 16-byte keys) and the key of the lookup index; required in
    # production, derived from the secret key in development and testing
    DATA_KEYS: dict = {}
    DATA_KEY_ID = None
    DATA_CIPHER = "aes-gcm"
    DATA_INDEX_KEY = None

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
    # Printed on notices (docs/lifecycle.md "Documents"): under the 行政复议法 as revised in 2023 (in force
    # 2024-01-01) the people's government at the bureau's level reviews its acts
    ADMIN_REVIEW_BODY = "衡水市人民政府"
    LITIGATION_COURT = "衡水市桃城区人民法院"
    # per issuing bureau code: {"name", "review_body", "court"} overriding the derived texts (JSON in the env)
    ISSUING_BUREAUS: dict = {}
    ADMIN_REVIEW_LAW = "《中华人民共和国行政复议法》"
    ADMIN_REVIEW_ARTICLE = ""  # e.g. "第二十条": unconfirmed here, so printed only when configured
    ADMIN_REVIEW_DAYS = 60
    LITIGATION_MONTHS = 6
    # CJK TrueType font embedded in the PDFs (None: Debian's fonts-wqy-microhei)
    PDF_FONT_PATH = None

    # 安全承诺: the hour (Asia/Shanghai) by which enterprises with a major hazard source submit the day's
    # commitment; 10 follows a provincial practice (docs/selfcheck.md), not a national rule
    COMMITMENT_HOUR = 10
    # Case files (卷宗): the checkpoint signing key (a PRIVATE+KEY line or a file path; development and
    # testing fall back to an instance-folder key) and the bureau log's origin line (defaults from BUREAU_CODE)
    CASEFILE_SIGNING_KEY = None
    CASEFILE_LOG_ORIGIN = None
    # Background jobs (services/jobs, docs/scale.md). JOBS_QUEUE: redis://… | sqlite | immediate | none;
    # unset: sqlite (embedded), none under TESTING
    JOBS_QUEUE = None
    JOBS_QUEUE_NAME = "inspect-jobs"
    JOBS_QUEUE_FILE = None  # sqlite queue file; None -> instance/jobs-queue.sqlite3
    JOBS_WORKERS = 1  # worker threads per `flask jobs worker` process
    JOBS_LEASE_SECONDS = 60  # a running job whose worker stops renewing for this long is taken back
    JOBS_HEARTBEAT_SECONDS = 5
    JOBS_SWEEP_SECONDS = 15
    JOBS_REQUEUE_AFTER_SECONDS = 300  # queued and handed over but never started: hand over again
    JOBS_MAX_ATTEMPTS = 3
    JOBS_RESULT_TTL_SECONDS = int(timedelta(days=7).total_seconds())
    JOBS_CHUNK_PAUSE_SECONDS = 0  # throttle: pause after each block a job writes
    JOBS_SYNC_EXPORT_MAX_ROWS = 50_000  # exports over more hazards than this answer 202 with a job
    JOBS_MAX_NOTICES = 5000  # notices in one bulk PDF job
    JOBS_TMP_DIR = None  # the worker's temporary files; None -> the system's

    # Working-set sync, schema version 4 (services/sync/working_set.py, docs/scale.md)
    SYNC_HISTORY_DAYS = 30  # recent history on an inspector's tablet: closed / started in the last N days
    SYNC_WORKSET_INSPECTED_DAYS = 90  # an enterprise inspected this recently is worked on
    SYNC_WORKSET_INSPECTED_BY = "self"  # self: by the inspector; anyone: by anyone of the jurisdiction

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
    "PROXY_COUNT", "MAX_CONTENT_LENGTH", "JOBS_WORKERS", "JOBS_LEASE_SECONDS", "JOBS_SWEEP_SECONDS",
    "JOBS_REQUEUE_AFTER_SECONDS", "JOBS_MAX_ATTEMPTS", "JOBS_RESULT_TTL_SECONDS", "JOBS_SYNC_EXPORT_MAX_ROWS",
    "JOBS_MAX_NOTICES", "SYNC_HISTORY_DAYS", "SYNC_WORKSET_INSPECTED_DAYS",
    "LOGIN_THROTTLE_FREE_ATTEMPTS", "LOGIN_THROTTLE_WINDOW_SECONDS",
    "LOGIN_THROTTLE_BASE_LOCK_SECONDS", "LOGIN_THROTTLE_MAX_LOCK_SECONDS", "LOGIN_THROTTLE_ADDRESS_LIMIT",
    "LOGIN_THROTTLE_ACCOUNT_LIMIT", "LOGIN_THROTTLE_TRUST_SECONDS", "ADMIN_REVIEW_DAYS", "LITIGATION_MONTHS",
    "IMAGE_DECODE_CONCURRENCY", "UPLOAD_ORPHAN_SECONDS",
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
    if app.config.get("MFA_REQUIRED_ROLES") is None:
        app.config["MFA_REQUIRED_ROLES"] = ("admin,security_admin,audit_admin,supervisor" if env == "production"
                                            else "")
    if env == "production" and not (app.config.get("DATA_KEYS") and app.config.get("DATA_INDEX_KEY")):
        raise ConfigError("INSPECT_DATA_KEYS and INSPECT_DATA_INDEX_KEY must be set in production "
                          "(personal data is sealed at rest; docs/security.md)")
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
