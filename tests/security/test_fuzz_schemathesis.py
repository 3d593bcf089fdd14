"""Issue #19, "what the suite must gain": schemathesis against a live gunicorn server (PostgreSQL when
INSPECT_TEST_DATABASE_URL is set, else SQLite) for every operation of the OpenAPI document, bounded in time,
failing on any 5xx or any response that does not match its documented schema."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .gunicorn_server import GunicornServer

# The whole fuzz job stays near a minute and a half: two roles, each with this budget.
BUDGET_SECONDS = 40


@pytest.fixture(scope="module")
def server():
    s = GunicornServer(workers=1, threads=4).start()
    yield s
    s.stop()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("username", ["supervisor", "admin"])
def test_no_operation_answers_a_5xx_or_breaks_its_documented_schema(server, username, tmp_path):
    exe = shutil.which("schemathesis")
    command = [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]
    token = server.token(username)
    result = subprocess.run(command + [
        "run", server.url + "/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance",
        # fuzzing only: schemathesis 4.32's coverage phase crashes now and then inside its own code
        # (a KeyError in specs/openapi/coverage), which is not a finding about this API
        "--phases", "fuzzing", "-n", "5", "--max-time", str(BUDGET_SECONDS), "--seed", "19",
        "--no-shrink", "--continue-on-failure", "--request-timeout", "60", "-w", "2",
        # signing out would revoke the token the run uses; DELETEs are exercised by the API tests
        "--exclude-path", "/api/v1/auth/token", "--exclude-method", "DELETE",
        "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, cwd=str(tmp_path))  # its cache goes there too
    out = result.stdout + result.stderr
    # the failures and errors come first, the summary last
    assert result.returncode == 0, out[:8000] + "\n…\n" + out[-1500:]
    assert "passed" in out and " 0 generated" not in out
