"""Re-checking the bureau log: did any audit row logged earlier change or vanish, does the log still hold
the history its signed checkpoints committed to?

``recheck_log`` is the plain function a background job calls (and ``flask casefile recheck``). It raises
alarms (log_alarms rows, shown to supervisors on the portal) and returns a summary; it never repairs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent, Checkpoint, LogAlarm, LogEntry, LogNode, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from . import log as log_service
from .verifier import VerifyError, leaf_hash, node_hash, verify_checkpoint, verify_consistency

BATCH = 5000


@dataclass
class RecheckResult:
    entries: int = 0
    checkpoints: int = 0
    alarms: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.alarms


def _raise(session: Session, result: RecheckResult, kind: str, log_index=None, audit_event_id=None, **detail):
    open_alarm = session.scalars(select(LogAlarm).where(
        LogAlarm.kind == kind, LogAlarm.log_index.is_(None) if log_index is None else LogAlarm.log_index == log_index,
        LogAlarm.acknowledged_at.is_(None))).first()
    result.alarms.append({"kind": kind, "log_index": log_index, "audit_event_id": audit_event_id, **detail})
    if open_alarm is not None:
        return
    alarm = LogAlarm(kind=kind, log_index=log_index, audit_event_id=audit_event_id, detail=detail,
                     detected_at=utcnow())
    session.add(alarm)
    session.flush()
    record_event(session, Actor.system("recheck"), "log.alarm", alarm, table="log_alarms", object_id=str(alarm.id),
                 data={"kind": kind, "log_index": log_index, "audit_event_id": audit_event_id, **detail})


def _check_leaves(session: Session, result: RecheckResult) -> list:
    """Recompute each leaf from the data it stands for; returns the logged leaf hashes in order."""
    hashes, start = [], 0
    while True:
        rows = list(session.scalars(select(LogEntry).where(LogEntry.idx >= start).order_by(LogEntry.idx).limit(BATCH)))
        if not rows:
            return hashes
        ids = [r.audit_event_id for r in rows if r.audit_event_id is not None]
        events = {e.id: e for e in session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids))
                                                   .execution_options(populate_existing=True))} if ids else {}
        for row in rows:
            if row.idx != len(hashes):
                _raise(session, result, "log_inconsistent", row.idx, reason="gap", expected=len(hashes))
                hashes.append(None)
            logged = {"sha256": bytes.fromhex(row.leaf_sha256), "sm3": bytes.fromhex(row.leaf_sm3)}
            hashes.append(logged)
            if row.kind == "audit":
                event = events.get(row.audit_event_id)
                if event is None:
                    _raise(session, result, "audit_vanished", row.idx, row.audit_event_id)
                elif leaf_hash(log_service.audit_leaf(event), "sha256") != logged["sha256"]:
                    _raise(session, result, "audit_changed", row.idx, row.audit_event_id,
                           action=event.action, object_table=event.object_table, object_id=event.object_id)
            elif row.leaf_data is None or leaf_hash(row.leaf_data.encode("utf-8"), "sha256") != logged["sha256"]:
                _raise(session, result, "log_inconsistent", row.idx, reason="leaf_data", kind_of_leaf=row.kind)
        result.entries += len(rows)
        start = rows[-1].idx + 1


class _MemoryReader(log_service.NodeReader):
    def __init__(self, levels: list):
        super().__init__(None)
        self.levels = levels

    def get(self, level: int, index: int) -> dict:
        return self.levels[level][index]


def _rebuild(session: Session, result: RecheckResult, leaves: list) -> _MemoryReader:
    """All complete subtrees from the logged leaf hashes; stored nodes that disagree raise an alarm."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([{alg: node_hash(below[i][alg], below[i + 1][alg], alg) for alg in log_service.ALGS}
                       for i in range(0, len(below) - 1, 2)])
    bad = 0
    for node in session.scalars(select(LogNode).where(LogNode.level > 0).execution_options(yield_per=BATCH)):
        want = levels[node.level][node.index] if node.index < len(levels[node.level]) else None
        if want is None or want["sha256"].hex() != node.sha256 or want["sm3"].hex() != node.sm3:
            bad += 1
    if bad:
        _raise(session, result, "log_inconsistent", None, reason="stored_nodes", count=bad)
    return _MemoryReader(levels)


def recheck_log(session: Session, vkey: str) -> RecheckResult:
    """Every logged audit row against its leaf, every signed checkpoint against the rebuilt tree, and each
    checkpoint consistent with the next (RFC 9162 consistency proofs)."""
    result = RecheckResult()
    leaves = _check_leaves(session, result)
    if any(h is None for h in leaves):
        return result
    reader = _rebuild(session, result, leaves)
    previous = None
    for cp in session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size, Checkpoint.id)):
        result.checkpoints += 1
        try:
            parsed = verify_checkpoint(cp.text, vkey)
        except VerifyError as exc:
            _raise(session, result, "log_inconsistent", None, reason="checkpoint_signature", checkpoint=cp.id,
                   message=str(exc))
            continue
        if parsed["size"] > len(leaves):
            _raise(session, result, "log_inconsistent", None, reason="truncated", checkpoint=cp.id,
                   size=parsed["size"], log_size=len(leaves))
            continue
        if reader.subtree(0, parsed["size"], "sha256") != parsed["root"]:
            _raise(session, result, "log_inconsistent", None, reason="rewritten", checkpoint=cp.id,
                   size=parsed["size"])
            continue
        if previous is not None and previous["size"] < parsed["size"]:
            proof = reader.subproof(previous["size"], 0, parsed["size"], True, "sha256")
            if not verify_consistency(previous["size"], parsed["size"], previous["root"], parsed["root"], proof):
                _raise(session, result, "log_inconsistent", None, reason="consistency", checkpoint=cp.id)
        previous = parsed
    return result


def open_alarms(session: Session) -> list[LogAlarm]:
    return list(session.scalars(select(LogAlarm).where(LogAlarm.acknowledged_at.is_(None))
                                .order_by(LogAlarm.detected_at.desc(), LogAlarm.id.desc())))


def acknowledge_alarm(session: Session, actor: Actor, alarm: LogAlarm, reason: str) -> LogAlarm:
    alarm.acknowledged_at = utcnow()
    alarm.acknowledged_by = actor.user.username if actor.user else "system"
    session.flush()
    record_event(session, actor, "log.alarm_acknowledge", alarm, table="log_alarms", object_id=str(alarm.id),
                 reason=reason)
    return alarm
