"""The shipped verify.py runs alone: standard library only, no network, pure-Python SM3 when OpenSSL lacks it."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.casefile.verifier import EXIT

from .conftest import KEY_LINE, VKEY, legal_actor
from .helpers import read_zip, write_zip

NO_SM3 = """
import hashlib, runpy, sys
_new = hashlib.new
def new(name, *a, **k):
    if name.lower() == "sm3":
        raise ValueError("unsupported hash type sm3")
    return _new(name, *a, **k)
hashlib.new = new
sys.argv = ["verify.py"] + sys.argv[1:]
runpy.run_path("verify.py", run_name="__main__")
"""


@pytest.fixture()
def unpacked(db, closed_case, legal, settings, storage, tmp_path):
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    package = storage.read_bytes(archive_service.package_key(cf))
    (tmp_path / "package.zip").write_bytes(package)
    (tmp_path / "verify.py").write_bytes(read_zip(package)["verify.py"])
    return tmp_path


def _run(args, cwd):
    # -I: isolated (no site-packages, no user paths): the script must need nothing but the standard library
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_shipped_verifier_runs_isolated_and_offline(unpacked):
    cmd = [sys.executable, "-I", "verify.py", "package.zip", "--key", VKEY]
    unshare = shutil.which("unshare")
    probe = _run([unshare, "-n", "true"], unpacked) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here; the isolated run below still needs no network")
    result = _run([unshare, "-n"] + cmd, unpacked)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "未被改动" in result.stdout


def test_shipped_verifier_names_a_failure_with_its_exit_code(unpacked):
    members = read_zip((unpacked / "package.zip").read_bytes())
    path = next(p for p in members if p.endswith("original.jpg"))
    members[path] = members[path][:-1] + bytes([members[path][-1] ^ 0xFF])
    (unpacked / "bad.zip").write_bytes(write_zip(members))
    result = _run([sys.executable, "-I", "verify.py", "bad.zip", "--key", VKEY], unpacked)
    assert result.returncode == EXIT["file_hash"] and "[file_hash]" in result.stderr and path in result.stderr


def test_shipped_verifier_falls_back_to_pure_python_sm3(unpacked):
    result = _run([sys.executable, "-I", "-c", NO_SM3, "package.zip", "--key", VKEY], unpacked)
    assert result.returncode == 0, result.stderr
    assert "[pure-Python SM3]" in result.stdout


def test_flask_casefile_verify_runs_the_same_checks(app, unpacked, monkeypatch):
    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["casefile", "verify", str(unpacked / "package.zip")])
    assert out.exit_code == 0, out.output
    members = read_zip((unpacked / "package.zip").read_bytes())
    members["manifest.json"] = members["manifest.json"].replace(b'"entry_count":', b'"entry_count": ', 1)
    (unpacked / "bad.zip").write_bytes(write_zip(members))
    out = runner.invoke(args=["casefile", "verify", str(unpacked / "bad.zip"), "--key", VKEY])
    assert out.exit_code == EXIT["manifest"]
