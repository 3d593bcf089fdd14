"""The bureau log: appends, proofs, signed checkpoints, and the re-check's alarms."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select, text

from inspect_api.models import AuditEvent, LogAlarm, LogEntry, LogNode, LogState
from inspect_api.services.access.actor import Actor
from inspect_api.services.access.audit import record_event
from inspect_api.services.casefile import log as log_service
from inspect_api.services.casefile import recheck as recheck_service
from inspect_api.services.casefile import verifier as v
from inspect_api.services.casefile.keys import parse_private

from .. import conftest as root_conftest
from .conftest import KEY_LINE, VKEY

SIGNER = parse_private(KEY_LINE)


def _events(db, n, prefix="test.event"):
    for i in range(n):
        record_event(db, Actor.system("test"), f"{prefix}", table="tests", object_id=str(i), data={"i": i})
    db.flush()


def _allow_audit_tampering(db):
    """What someone holding the database can do: switch the append-only triggers off."""
    if root_conftest.is_postgres():
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_checkpoints_prove_inclusion_and_consistency(db):
    _events(db, 37)
    first = log_service.make_checkpoint(db, SIGNER)
    _events(db, 30)
    second = log_service.make_checkpoint(db, SIGNER)
    assert second.tree_size == first.tree_size + 30
    for cp in (first, second):
        parsed = v.verify_checkpoint(cp.text, VKEY)
        assert parsed["size"] == cp.tree_size and parsed["root"].hex() == cp.root_sha256
        assert parsed["ext"]["sm3"]
    entry = db.scalars(select(LogEntry).order_by(LogEntry.idx).offset(5)).first()
    proof = log_service.inclusion_proof(db, entry.idx, second.tree_size)
    for alg in ("sha256", "sm3"):
        assert v.verify_inclusion(entry.idx, second.tree_size, bytes.fromhex(getattr(entry, f"leaf_{alg}")),
                                  [bytes.fromhex(h) for h in proof[alg]],
                                  bytes.fromhex(getattr(second, f"root_{alg}")), alg)
    c = log_service.consistency_proof(db, first.tree_size, second.tree_size)
    assert v.verify_consistency(first.tree_size, second.tree_size, bytes.fromhex(first.root_sha256),
                                bytes.fromhex(second.root_sha256), [bytes.fromhex(h) for h in c["sha256"]])
    assert log_service.make_checkpoint(db, SIGNER).id == second.id, "no new checkpoint when nothing was logged"


def test_1000_honest_checkpoint_pairs_are_consistent_and_rewritten_history_is_not(db):
    _events(db, 300)
    log_service.ingest_audit(db)
    size = log_service.log_size(db)
    reader = log_service.NodeReader(db)
    roots = {n: reader.subtree(0, n, "sha256") for n in range(1, size + 1)}
    rng = random.Random(8)
    for _ in range(1000):
        a, b = sorted(rng.sample(range(1, size + 1), 2))
        proof = reader.subproof(a, 0, b, True, "sha256")
        assert v.verify_consistency(a, b, roots[a], roots[b], proof), (a, b)
        forged = v.node_hash(roots[a], b"\x00" * 32)  # a different history of the same size
        assert not v.verify_consistency(a, b, forged, roots[b], proof)
        assert not v.verify_consistency(b, a, roots[b], roots[a], proof), "a truncated history"
        if b > a + 1:
            assert not v.verify_consistency(a, b - 1, roots[a], roots[b - 1], proof)


def test_recheck_is_quiet_on_an_honest_log_and_alarms_on_changed_or_vanished_rows(app, db, world, client, auth):
    _events(db, 12)
    log_service.make_checkpoint(db, SIGNER)
    assert recheck_service.recheck_log(db, VKEY).ok
    victim, gone = db.scalars(select(AuditEvent).where(AuditEvent.action == "test.event")
                              .order_by(AuditEvent.id).limit(2)).all()
    _allow_audit_tampering(db)
    db.execute(text("UPDATE audit_events SET reason = 'rewritten' WHERE id = :i"), {"i": victim.id})
    db.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": gone.id})
    result = recheck_service.recheck_log(db, VKEY)
    kinds = {(a["kind"], a["audit_event_id"]) for a in result.alarms}
    assert kinds == {("audit_changed", victim.id), ("audit_vanished", gone.id)}
    stored = db.scalars(select(LogAlarm)).all()
    assert {(a.kind, a.audit_event_id) for a in stored} == kinds
    recheck_service.recheck_log(db, VKEY)
    assert len(db.scalars(select(LogAlarm)).all()) == 2, "an open alarm is not raised twice"
    db.commit()
    status = client.get("/api/v1/casefile-log/alarms", headers=auth.headers("supervisor"))
    assert status.status_code == 200
    assert {a["kind"] for a in status.get_json()} == {"audit_changed", "audit_vanished"}


def test_recheck_finds_a_rewritten_or_truncated_log(db):
    _events(db, 20)
    log_service.make_checkpoint(db, SIGNER)
    # rewrite: a leaf hash and the nodes above it replaced consistently (no key to re-sign)
    entry = db.get(LogEntry, 3)
    entry.leaf_sha256 = "11" * 32
    db.flush()
    result = recheck_service.recheck_log(db, VKEY)
    reasons = {a.get("reason") for a in result.alarms}
    assert "rewritten" in reasons and "stored_nodes" in reasons
    db.rollback()


def test_recheck_finds_a_truncated_log(db):
    _events(db, 20)
    cp = log_service.make_checkpoint(db, SIGNER)
    db.execute(LogNode.__table__.delete().where((LogNode.level == 0) & (LogNode.index >= cp.tree_size - 4)))
    db.execute(LogEntry.__table__.delete().where(LogEntry.idx >= cp.tree_size - 4))
    db.get(LogState, 1).size = cp.tree_size - 4
    db.flush()
    result = recheck_service.recheck_log(db, VKEY)
    assert any(a.get("reason") == "truncated" for a in result.alarms)


def test_cli_checkpoint_and_recheck(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)
    _events(db, 3)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["casefile", "checkpoint"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("test.inspect/131100/casefile-log\n") and VKEY in out.output
    out = runner.invoke(args=["casefile", "recheck"])
    assert out.exit_code == 0 and "alarms 0" in out.output
    _allow_audit_tampering(db)
    db.execute(text("UPDATE audit_events SET action = 'x' WHERE action = 'test.event'"))
    out = runner.invoke(args=["casefile", "recheck"])
    assert out.exit_code == 1 and "audit_changed" in out.output


def test_keygen_writes_a_private_key_file(app, tmp_path):
    out = app.test_cli_runner().invoke(args=["casefile", "keygen", "--name", "hs/log", "--out",
                                             str(tmp_path / "k")])
    assert out.exit_code == 0, out.output
    line = (tmp_path / "k").read_text().strip()
    assert parse_private(line).vkey in out.output and oct((tmp_path / "k").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize("size", [1000, 70_000])
def test_inclusion_proofs_stay_logarithmic(size):
    """The 1,000,000-entry figure is measured by benchmarks/casefile_bench.py; here the same code on 70,000."""
    leaves = [v.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    levels = [[{"sha256": h} for h in leaves]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([{"sha256": v.node_hash(below[i]["sha256"], below[i + 1]["sha256"])}
                       for i in range(0, len(below) - 1, 2)])
    reader = recheck_service._MemoryReader(levels)  # noqa: SLF001
    root = reader.subtree(0, size, "sha256")
    for index in (0, size // 3, size - 1):
        path = reader.path(index, 0, size, "sha256")
        assert v.verify_inclusion(index, size, leaves[index], path, root)
        assert len(path) <= (size - 1).bit_length()


def test_log_endpoints(app, db, world, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)
    h = auth.headers("supervisor")
    assert client.get("/api/v1/casefile-log/checkpoint", headers=h).status_code == 404
    _events(db, 9)
    log_service.make_checkpoint(db, SIGNER)
    db.commit()
    body = client.get("/api/v1/casefile-log/checkpoint", headers=h).get_json()
    assert body["verifier_key"] == VKEY and v.verify_checkpoint(body["text"], VKEY)["size"] == body["tree_size"]
    size = body["tree_size"]
    proof = client.get(f"/api/v1/casefile-log/inclusion?index=2&tree_size={size}", headers=h).get_json()
    leaf = db.get(LogEntry, 2)
    assert v.verify_inclusion(2, size, bytes.fromhex(leaf.leaf_sha256), [bytes.fromhex(x) for x in proof["sha256"]],
                              bytes.fromhex(body["root_sha256"]))
    c = client.get(f"/api/v1/casefile-log/consistency?size1=3&size2={size}", headers=h).get_json()
    assert v.verify_consistency(3, size, log_service.roots(db, 3)["sha256"], bytes.fromhex(body["root_sha256"]),
                                [bytes.fromhex(x) for x in c["sha256"]])
    bad = client.get(f"/api/v1/casefile-log/inclusion?index={size}&tree_size={size}", headers=h)
    assert bad.status_code == 422 and bad.get_json()["details"]["reason"] == "index outside the tree"
    assert client.get("/api/v1/casefile-log/checkpoint", headers=auth.headers("enterprise1")).status_code == 403


def test_development_key_is_made_once_under_the_instance_folder(tmp_path):
    from inspect_api.services.casefile.keys import SigningKeyMissing, load_signer

    first = load_signer(None, str(tmp_path), "development", "dev/log")
    again = load_signer(None, str(tmp_path), "testing", "dev/log")
    assert first.vkey == again.vkey and oct((tmp_path / "casefile-signing.key").stat().st_mode)[-3:] == "600"
    with pytest.raises(SigningKeyMissing):
        load_signer(None, str(tmp_path), "production", "dev/log")
    assert load_signer(KEY_LINE, str(tmp_path), "production", "x").vkey == VKEY
