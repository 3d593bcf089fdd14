"""The login throttle's storage is shared: two app server processes on one Redis count together."""
import json
import subprocess
import sys
import textwrap
import uuid

import redis
from sqlalchemy import text

from inspect_api import create_app
from inspect_api.extensions import db as _db

from .. import factories
from ..conftest import TEST_CONFIG

ATTEMPTS = textwrap.dedent("""
    import json, sys
    from inspect_api import create_app
    config = json.loads(sys.argv[1])
    app = create_app(config)
    c = app.test_client()
    codes = [c.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong-1234"}).status_code
             for _ in range(int(sys.argv[2]))]
    print(json.dumps(codes))
""")


def _run(config, n):
    out = subprocess.run([sys.executable, "-c", ATTEMPTS, json.dumps(config), str(n)], capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_failed_logins_counted_across_two_server_processes_sharing_redis(fresh_database_url, tmp_path):
    prefix = f"inspect-test-{uuid.uuid4().hex[:8]}"
    config = {**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path),
              "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "RATELIMIT_KEY_PREFIX": prefix,
              "LOGIN_THROTTLE_FREE_ATTEMPTS": 4}
    app = create_app({**config, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        _db.create_all()
        _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        factories.build_world(_db.session)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    r = redis.Redis(host="127.0.0.1", port=6379, db=15)
    try:
        assert _run(config, 4) == [401, 401, 401, 401]      # server process A (the 4th failure locks)
        assert _run(config, 2) == [429, 429]                # server process B sees A's lock
        assert any(r.scan_iter(f"*{prefix}*")), "the counters live in Redis"
    finally:
        for key in r.scan_iter(f"*{prefix}*"):
            r.delete(key)
