"""The bureau's append-only Merkle log (RFC 9162 structure) of audit events and archived files' roots.

Leaves are numbered 0, 1, 2 … without gaps (the one LogState row is locked by every appender). Each
complete subtree's hash is stored once in log_nodes (level, index), in SHA-256 and in SM3, so a root, an
inclusion proof or a consistency proof for any tree size needs O(log² n) stored nodes and no rescan.
Checkpoints are signed notes in the C2SP tlog-checkpoint format: origin, size, base64 SHA-256 root, and an
extension line ``sm3 <base64 SM3 root>``.
"""
from __future__ import annotations

import base64

import rfc8785
from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from ...models import AuditEvent, Checkpoint, LogEntry, LogNode, LogState
from .verifier import HASHES, _split, leaf_hash, node_hash

ALGS = ("sha256", "sm3")
# The re-logging window: audit rows committed out of id order (PostgreSQL sequences) are still picked up.
AUDIT_WINDOW = 100_000


def audit_record(event: AuditEvent) -> dict:
    """The audit row as it is logged: every column, times in UTC ISO 8601."""
    at = event.at
    return {
        "id": event.id, "at": at.isoformat() if at else None, "actor_id": event.actor_id,
        "actor_username": event.actor_username, "actor_role": event.actor_role, "device_id": event.device_id,
        "ip": event.ip, "action": event.action, "object_table": event.object_table, "object_id": event.object_id,
        "region_code": event.region_code, "enterprise_id": event.enterprise_id, "from_state": event.from_state,
        "to_state": event.to_state, "reason": event.reason, "data": event.data or {},
    }


def audit_leaf(event: AuditEvent) -> bytes:
    return rfc8785.dumps(audit_record(event))


def lock_state(session: Session) -> LogState:
    state = session.scalars(select(LogState).where(LogState.id == 1).with_for_update()).first()
    if state is None:
        session.add(LogState(id=1, size=0))
        session.flush()
        state = session.scalars(select(LogState).where(LogState.id == 1).with_for_update()).first()
    return state


class NodeReader:
    """Complete-subtree hashes by (level, index), read from log_nodes and cached; new ones kept in memory."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict = {}

    def get(self, level: int, index: int) -> dict:
        key = (level, index)
        if key not in self.cache:
            row = self.session.get(LogNode, key)
            if row is None:
                raise LookupError(f"log node {key} missing")
            self.cache[key] = {"sha256": bytes.fromhex(row.sha256), "sm3": bytes.fromhex(row.sm3)}
        return self.cache[key]

    def subtree(self, a: int, b: int, alg: str) -> bytes:
        """MTH(D[a:b])."""
        n = b - a
        if n == 0:
            return HASHES[alg](b"").digest()
        if n & (n - 1) == 0 and a % n == 0:
            return self.get(n.bit_length() - 1, a // n)[alg]
        k = _split(n)
        return node_hash(self.subtree(a, a + k, alg), self.subtree(a + k, b, alg), alg)

    def path(self, m: int, a: int, b: int, alg: str) -> list:
        """PATH(m, D[a:b]) with m relative to a."""
        n = b - a
        if n <= 1:
            return []
        k = _split(n)
        if m < k:
            return self.path(m, a, a + k, alg) + [self.subtree(a + k, b, alg)]
        return self.path(m - k, a + k, b, alg) + [self.subtree(a, a + k, alg)]

    def subproof(self, m: int, a: int, b: int, complete: bool, alg: str) -> list:
        n = b - a
        if m == n:
            return [] if complete else [self.subtree(a, b, alg)]
        k = _split(n)
        if m <= k:
            return self.subproof(m, a, a + k, complete, alg) + [self.subtree(a + k, b, alg)]
        return self.subproof(m - k, a + k, b, False, alg) + [self.subtree(a, a + k, alg)]


def append_leaves(session: Session, items: list[dict]) -> list[int]:
    """Append leaves (each {kind, data: bytes, audit_event_id?, ref?, keep?}); returns their indexes."""
    if not items:
        return []
    state = lock_state(session)
    reader = NodeReader(session)
    start = state.size
    entries, nodes = [], []
    for offset, item in enumerate(items):
        idx = start + offset
        hashes = {alg: leaf_hash(item["data"], alg) for alg in ALGS}
        entries.append({
            "idx": idx, "kind": item["kind"], "audit_event_id": item.get("audit_event_id"), "ref": item.get("ref"),
            "leaf_data": item["data"].decode("utf-8") if item.get("keep") else None,
            "leaf_sha256": hashes["sha256"].hex(), "leaf_sm3": hashes["sm3"].hex(),
        })
        level, index = 0, idx
        reader.cache[(0, idx)] = hashes
        nodes.append((0, idx, hashes))
        while index & 1:
            left = reader.get(level, index - 1)
            right = reader.cache[(level, index)]
            level, index = level + 1, index >> 1
            parent = {alg: node_hash(left[alg], right[alg], alg) for alg in ALGS}
            reader.cache[(level, index)] = parent
            nodes.append((level, index, parent))
    session.execute(insert(LogEntry), entries)
    session.execute(insert(LogNode), [{"level": lv, "index": ix, "sha256": h["sha256"].hex(), "sm3": h["sm3"].hex()}
                                      for lv, ix, h in nodes])
    state.size = start + len(items)
    session.flush()
    return [e["idx"] for e in entries]


def ingest_audit(session: Session, batch: int = 5000) -> int:
    """Log every audit event not logged yet (oldest first); returns how many were appended."""
    total = 0
    while True:
        floor = (session.scalar(select(func.max(LogEntry.audit_event_id))) or 0) - AUDIT_WINDOW
        events = list(session.scalars(
            select(AuditEvent).where(AuditEvent.id > floor, ~exists().where(LogEntry.audit_event_id == AuditEvent.id))
            .order_by(AuditEvent.id).limit(batch).execution_options(populate_existing=True)))
        if not events:
            return total
        append_leaves(session, [{"kind": "audit", "audit_event_id": e.id, "ref": str(e.id), "data": audit_leaf(e)}
                                for e in events])
        total += len(events)


def log_size(session: Session) -> int:
    return session.scalar(select(LogState.size).where(LogState.id == 1)) or 0


def roots(session: Session, size: int) -> dict:
    reader = NodeReader(session)
    return {alg: reader.subtree(0, size, alg) for alg in ALGS}


def inclusion_proof(session: Session, index: int, size: int) -> dict:
    """{index, tree_size, sha256: [hex…], sm3: [hex…]} proving leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size <= log_size(session):
        raise ValueError("index outside the tree")
    reader = NodeReader(session)
    return {"index": index, "tree_size": size,
            **{alg: [h.hex() for h in reader.path(index, 0, size, alg)] for alg in ALGS}}


def consistency_proof(session: Session, size1: int, size2: int) -> dict:
    if not 0 < size1 <= size2 <= log_size(session):
        raise ValueError("sizes outside the tree")
    reader = NodeReader(session)
    return {"size1": size1, "size2": size2,
            **{alg: [h.hex() for h in reader.subproof(size1, 0, size2, True, alg)] if size1 < size2 else []
               for alg in ALGS}}


def checkpoint_body(origin: str, size: int, root: dict) -> str:
    return (f"{origin}\n{size}\n{base64.b64encode(root['sha256']).decode()}\n"
            f"sm3 {base64.b64encode(root['sm3']).decode()}\n")


def sign_checkpoint(session: Session, signer) -> Checkpoint:
    """A signed checkpoint of the log as it is now (a new one only when the log grew)."""
    state = lock_state(session)
    last = session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size.desc(), Checkpoint.id.desc())).first()
    if last is not None and last.tree_size == state.size and last.text.startswith(signer.name + "\n"):
        return last
    root = roots(session, state.size)
    cp = Checkpoint(tree_size=state.size, root_sha256=root["sha256"].hex(), root_sm3=root["sm3"].hex(),
                    text=signer.sign_note(checkpoint_body(signer.name, state.size, root)))
    session.add(cp)
    session.flush()
    return cp


def make_checkpoint(session: Session, signer) -> Checkpoint:
    """What the background job and ``flask casefile checkpoint`` call: log new audit events, then sign."""
    ingest_audit(session)
    return sign_checkpoint(session, signer)


def checkpoint_at(session: Session, size: int) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).where(Checkpoint.tree_size == size).order_by(Checkpoint.id)).first()


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size.desc(), Checkpoint.id.desc())).first()
