"""The one rule of an archived file: nothing in it changes.

``ensure_not_archived`` is called by every service path that changes a case's or an inspection's objects
(services/lifecycle: enforcement, hazards, notices, rectifications); the before-flush hook below runs the
same check on every flush, so a path that forgets the call (sync, a script, the CLI) is refused too.
A correction is a supplement appended to the file (services/casefile/archive.py), never an edit.
"""
from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ...errors import Conflict
from ...models import CaseFileMember

GUARDED_TABLES = ("enforcement_cases", "penalty_decisions", "inspections", "findings", "hazards", "notices",
                  "rectifications", "reviews", "photos", "service_records", "remediation_plans")
# New rows that would add to an archived object: (table, attribute holding the parent's table, parent id attribute)
CHILD_LINKS = {
    "penalty_decisions": ("enforcement_cases", "case_id"),
    "findings": ("inspections", "inspection_id"),
    "hazards": ("inspections", "inspection_id"),
    "rectifications": ("hazards", "hazard_id"),
    "reviews": ("hazards", "hazard_id"),
    "remediation_plans": ("hazards", "hazard_id"),
}


class ArchivedFileLocked(Conflict):
    code = "casefile_archived"
    message = "该材料已归档，不能再修改；更正请以补充材料追加 (archived: nothing in the file changes; append a supplement)"


def archived_objects(session: Session, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of (table, id) that belong to an archived file."""
    if not keys:
        return []
    found = []
    by_table: dict = {}
    for table, obj_id in keys:
        by_table.setdefault(table, set()).add(obj_id)
    with session.no_autoflush:
        for table, ids in by_table.items():
            found += [(table, i) for i in session.scalars(select(CaseFileMember.object_id).where(
                CaseFileMember.object_table == table, CaseFileMember.object_id.in_(sorted(ids))))]
    return found


def ensure_not_archived(session: Session, table: str, object_id: str | None) -> None:
    """Refuse (409 casefile_archived) when the object belongs to an archived file."""
    if object_id is not None and archived_objects(session, [(table, object_id)]):
        raise ArchivedFileLocked(details={"object_table": table, "object_id": object_id})


def archived_push_ids(session: Session, table: str, upserts: dict, deleted: list) -> set:
    """For the sync push (bulk writes bypass the flush hook): ids of pushed rows that would change an
    archived object — an update or deletion of one, or a new row under an archived parent."""
    keys = [(table, rec_id) for rec_id in list(upserts) + list(deleted)]
    parent = CHILD_LINKS.get(table)
    links = {}
    for rec_id, values in upserts.items():
        if parent and isinstance(values, dict) and values.get(parent[1]):
            links[rec_id] = (parent[0], values[parent[1]])
        elif table == "photos" and isinstance(values, dict) and values.get("owner_id"):
            links[rec_id] = (values.get("owner_table"), values["owner_id"])
    hit = set(archived_objects(session, keys + list(links.values())))
    return {rec_id for t, rec_id in keys if (t, rec_id) in hit} | {r for r, key in links.items() if key in hit}


def _touched(session: Session) -> list[tuple[str, str]]:
    keys = []
    for obj in list(session.dirty) + list(session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in GUARDED_TABLES and (obj in session.deleted or session.is_modified(obj)):
            keys.append((table, str(obj.id)))
    for obj in session.new:
        table = getattr(obj, "__tablename__", None)
        if table in CHILD_LINKS:
            parent_table, attr = CHILD_LINKS[table]
            if getattr(obj, attr, None):
                keys.append((parent_table, getattr(obj, attr)))
        elif table == "photos" and getattr(obj, "owner_id", None):
            keys.append((obj.owner_table, obj.owner_id))
        elif table == "service_records" and getattr(obj, "document_id", None):
            keys.append((obj.document_table, obj.document_id))
    return keys


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_archived(session, flush_context, instances):
    keys = _touched(session)
    hit = archived_objects(session, keys) if keys else []
    if hit:
        table, obj_id = hit[0]
        raise ArchivedFileLocked(details={"object_table": table, "object_id": obj_id})
