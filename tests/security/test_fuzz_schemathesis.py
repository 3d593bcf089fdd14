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
    # A finding (a 5xx, a response off its schema) is a <failure> in the JUnit report. A schemathesis or
    # hypothesis internal crash (seen: KeyError / "AST constructor recursion depth mismatch" in their own
    # code) is an <error> of the tool, not of this API: it is shown, but does not fail the build.
    import glob
    import xml.etree.ElementTree as ET

    reports = glob.glob(str(tmp_path / "junit-*.xml"))
    assert reports, out[-3000:]
    root = ET.parse(reports[0]).getroot()
    failures = [(case.get("name"), (f.get("message") or f.text or "")[:500])
                for case in root.iter("testcase") for f in case.findall("failure")]
    assert failures == [], out[:8000] + "\n…\n" + out[-1500:]
    assert len(list(root.iter("testcase"))) > 50 and "generated" in out and " 0 generated" not in out
    errors = [case.get("name") for case in root.iter("testcase") if case.findall("error")]
    if errors:
        print("schemathesis internal errors (not findings):", errors)
