"""The app under gunicorn (the production server), on a fresh database seeded with the factories' world.

Used by the tests that need what only a real server shows: keep-alive and unread bodies, a worker SIGKILLed
mid-request, the schemathesis run over HTTP.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests
from sqlalchemy import text

from inspect_api import create_app
from inspect_api.extensions import db as _db

from .. import factories
from ..conftest import TEST_CONFIG, make_fresh_database

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    def __init__(self, *, workers: int = 1, threads: int = 2, env: dict | None = None, seed=None):
        self.workers, self.threads, self.extra_env, self.seed = workers, threads, env or {}, seed
        self.proc = None

    def start(self):
        self.db_url, self._drop = make_fresh_database()
        self.uploads = tempfile.mkdtemp(prefix="inspect_gunicorn_")
        app = create_app({**TEST_CONFIG, "DATABASE_URL": self.db_url, "UPLOAD_ROOT": self.uploads})
        with app.app_context():
            _db.create_all()
            _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
            self.world = factories.build_world(_db.session)
            if self.seed is not None:
                self.seed(_db.session, self.world)
            _db.session.commit()
            self.ids = {name: u.id for name, u in self.world.users.items()}
            self.ids.update(ent1=self.world.ent1.id, ent2=self.world.ent2.id,
                            ent_shenzhou=self.world.ent_shenzhou.id)
            _db.session.remove()
            _db.engine.dispose()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "INSPECT_ENV_NAME": "testing", "INSPECT_DATABASE_URL": self.db_url,
               "INSPECT_UPLOAD_ROOT": self.uploads, "INSPECT_SECRET_KEY": "test-secret",
               "INSPECT_ARGON2_TIME_COST": "1", "INSPECT_ARGON2_MEMORY_COST": "1024",
               "INSPECT_ARGON2_PARALLELISM": "1", "INSPECT_RATELIMIT_LOGIN_PER_IP": "100000 per minute",
               "INSPECT_RATELIMIT_LOGIN_PER_ACCOUNT": "100000 per minute", **self.extra_env}
        self.log = open(os.path.join(self.uploads, "gunicorn.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(self.workers), "--threads",
             str(self.threads), "-b", f"127.0.0.1:{self.port}", "--timeout", "60", "--graceful-timeout", "5",
             "--log-level", "warning", "inspect_api:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/v1/openapi.json", timeout=15).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + open(self.log.name).read()[-2000:])

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def token(self, username: str, password: str = factories.PASSWORD) -> str:
        resp = requests.post(self.url + "/api/v1/auth/token", json={"username": username, "password": password},
                             timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.json()["access_token"]

    def stop(self):
        import shutil

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
        self._drop()
        shutil.rmtree(self.uploads, ignore_errors=True)
