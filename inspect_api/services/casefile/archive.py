"""Previewing, reviewing (评查) and archiving a file; supplements to an archived file; the package.

Archiving (a legal officer): the subject must be closed; the review's blocking findings must be answered
with a written reason; the file gets its 归档号 (gapless per bureau and year), its objects are frozen
(casefile_members, guard.py), its audit events and its root are appended to the bureau log, a checkpoint is
signed, and the package ZIP is stored. Services never commit: the caller does, once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import (
    CaseFile, CaseFileMember, CaseFileSupplement, EnforcementCase, Inspection, LogEntry, User, utcnow,
)
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped
from ..lifecycle.documents import DocumentConfig
from ..lifecycle.numbering import bureau_short_name, take_number, year_of
from . import build as builder
from . import collect, log as log_service, profiles, review as review_service, subjects
from .verifier import canonical_json, file_leaf

LEGAL_ROLES = ("legal",)
READ_ROLES = ("legal", "supervisor", "admin")


@dataclass(frozen=True)
class Settings:
    documents: DocumentConfig
    storage: object
    signer_loader: object  # () -> keys.Signer


class ReviewBlocked(Conflict):
    code = "casefile_review_failed"
    message = "卷宗评查未通过，须说明理由方可归档 (the file review found problems: give a reason to archive anyway)"


def _require(actor: Actor, roles) -> None:
    if actor.user is None or actor.user.role not in roles:
        raise Forbidden("只有法制审核人员可以归档卷宗 (only legal officers archive files)")


def load_subject(session: Session, user: User, kind: str, subject_id: str):
    if kind == "enforcement":
        return get_scoped(session, EnforcementCase, subject_id, user)
    if kind == "inspection":
        return get_scoped(session, Inspection, subject_id, user)
    raise NotFound("卷宗类型不存在 (unknown file kind)")


def gather(session: Session, settings: Settings, kind: str, obj) -> collect.Subject:
    fn = subjects.collect_enforcement if kind == "enforcement" else subjects.collect_inspection
    return fn(session, settings.storage, obj, settings.documents)


def _names(session: Session, events: list) -> dict:
    ids = {e.actor_id for e in events if e.actor_id}
    users = session.scalars(select(User).where(User.id.in_(ids))) if ids else []
    return {u.id: (u.display_name or u.username) + (f"（{u.certificate_no}）" if u.certificate_no else "")
            for u in users}


def existing_file(session: Session, kind: str, subject_id: str) -> CaseFile | None:
    return session.scalars(select(CaseFile).where(CaseFile.kind == kind, CaseFile.subject_id == subject_id)).first()


def preview(session: Session, settings: Settings, actor: Actor, kind: str, subject_id: str):
    """(subject, built file, findings) as it would be archived now, without archiving."""
    obj = load_subject(session, actor.user, kind, subject_id)
    subject = gather(session, settings, kind, obj)
    profile = profiles.bureau_profile(session, subject.bureau_code)
    events = collect.audit_events(session, subject.members)
    built = builder.build_file(subject, profile, {"retention": profile["retention"][kind]}, events,
                               _names(session, events))
    findings = review_service.review_file(subject, profile, built.manifest["entries"])
    return subject, built, findings


def _archive_no(session: Session, bureau_code: str, moment) -> str:
    year = year_of(moment)
    seq = take_number(session, "archive", bureau_code, year)
    return f"（{bureau_short_name(session, bureau_code, '衡水')}）应急档〔{year}〕{seq}号"


def archive_file(session: Session, settings: Settings, actor: Actor, kind: str, subject_id: str,
                 override_reason: str | None = None) -> CaseFile:
    _require(actor, LEGAL_ROLES)
    obj = load_subject(session, actor.user, kind, subject_id)
    session.refresh(obj, with_for_update=True)
    if existing_file(session, kind, subject_id) is not None:
        raise Conflict("该卷宗已归档 (already archived)", code="casefile_exists")
    subject = gather(session, settings, kind, obj)
    profile = profiles.bureau_profile(session, subject.bureau_code)
    findings = review_service.review_file(subject, profile)
    if any(f["code"] == "not_closed" for f in findings):
        raise Conflict(findings[0]["message"], code="casefile_not_closed", details={"findings": findings})
    reason = (override_reason or "").strip() or None
    if review_service.blocking(findings) and not reason:
        raise ReviewBlocked(details={"findings": findings})
    now = utcnow()
    archive_no = _archive_no(session, subject.bureau_code, now)
    officer = actor.user.display_name or actor.user.username
    remarks = [f"评查意见：{f['message']}" for f in findings] + ([f"归档说明：{reason}"] if reason else [])
    archive = {"archive_no": archive_no, "archived_on": collect.local_day(now),
               "retention": profile["retention"][kind], "filed_by": officer, "checked_by": None, "remarks": remarks}
    events = collect.audit_events(session, subject.members)
    built = builder.build_file(subject, profile, archive, events, _names(session, events))
    findings += review_service.page_gaps(built.manifest["entries"])
    if review_service.blocking(findings) and not reason:
        raise ReviewBlocked(details={"findings": findings})
    casefile = CaseFile(kind=kind, subject_id=subject_id, enterprise_id=subject.enterprise.id,
                        region_code=subject.region_code, bureau_code=subject.bureau_code, archive_no=archive_no,
                        retention=archive["retention"], archived_at=now, archived_by_id=actor.user.id,
                        root_sm3=built.roots["sm3"], root_sha256=built.roots["sha256"],
                        entry_count=built.manifest["entry_count"], page_count=built.page_count, log_index=-1,
                        checkpoint_size=0, findings=findings, override_reason=reason, profile=profile,
                        audit_event_ids=built.event_ids)
    session.add(casefile)
    session.flush()
    session.add_all([CaseFileMember(casefile_id=casefile.id, object_table=t, object_id=i)
                     for t, i in sorted(subject.members)])
    record_event(session, actor, "casefile.archive", casefile, to_state="archived", reason=reason,
                 data={"archive_no": archive_no, "kind": kind, "subject_id": subject_id, "root_sm3": built.roots["sm3"],
                       "root_sha256": built.roots["sha256"], "findings": [f["code"] for f in findings]})
    session.flush()
    log_service.ingest_audit(session)
    [casefile.log_index] = log_service.append_leaves(session, [{
        "kind": "casefile", "ref": casefile.id, "keep": True, "data": file_leaf(built.manifest, built.roots)}])
    checkpoint = log_service.sign_checkpoint(session, settings.signer_loader())
    casefile.checkpoint_size = checkpoint.tree_size
    session.flush()
    store_package(session, settings, casefile, built)
    return casefile


def _supplement_bytes(casefile: CaseFile, s: CaseFileSupplement, author: User) -> bytes:
    return canonical_json({"casefile": casefile.archive_no, "seq": s.seq, "reason": s.reason, "content": s.content,
                           "created_at": s.created_at.isoformat(),
                           "created_by": {"name": author.display_name or author.username,
                                          "certificate_no": author.certificate_no}})


def proofs_for(session: Session, casefile: CaseFile, built, size: int) -> tuple[dict, list]:
    audit = []
    for event_id in built.event_ids:
        idx = session.scalar(select(LogEntry.idx).where(LogEntry.audit_event_id == event_id))
        audit.append(log_service.inclusion_proof(session, idx, size))
    supplements, files = [], []
    for s in casefile.supplements:
        path = f"supplements/{s.seq:04d}.json"
        data = _supplement_bytes(casefile, s, session.get(User, s.created_by_id))
        files.append((path, data))
        supplements.append({"path": path, **log_service.inclusion_proof(session, s.log_index, size)})
    proofs = {"casefile": log_service.inclusion_proof(session, casefile.log_index, size), "audit": audit,
              "supplements": supplements}
    return proofs, files


def package_key(casefile: CaseFile) -> str:
    return f"casefiles/{casefile.id}/package.zip"


def store_package(session: Session, settings: Settings, casefile: CaseFile, built) -> None:
    import tempfile

    checkpoint = log_service.checkpoint_at(session, casefile.checkpoint_size)
    proofs, supplement_files = proofs_for(session, casefile, built, casefile.checkpoint_size)
    with tempfile.TemporaryFile() as tmp:
        builder.write_package(tmp, built, checkpoint.text, proofs, supplement_files)
        tmp.seek(0)
        settings.storage.save(package_key(casefile), tmp, "application/zip")


def rebuild(session: Session, settings: Settings, casefile: CaseFile):
    """The file built again from the frozen data, exactly as archived (same manifest bytes and root)."""
    obj = session.get(EnforcementCase if casefile.kind == "enforcement" else Inspection, casefile.subject_id)
    subject = gather(session, settings, casefile.kind, obj)
    archiver = session.get(User, casefile.archived_by_id)
    findings = casefile.findings or []
    # the remarks as written at archiving: the findings found before the pages were counted, and the reason
    remarks = [f"评查意见：{f['message']}" for f in findings if f["code"] != "page_gap"]
    remarks += [f"归档说明：{casefile.override_reason}"] if casefile.override_reason else []
    archive = {"archive_no": casefile.archive_no, "archived_on": collect.local_day(casefile.archived_at),
               "retention": casefile.retention, "filed_by": archiver.display_name or archiver.username,
               "checked_by": None, "remarks": remarks}
    events = collect.audit_events(session, subject.members, ids=casefile.audit_event_ids)
    return builder.build_file(subject, casefile.profile, archive, events, _names(session, events))


def add_supplement(session: Session, settings: Settings, actor: Actor, casefile: CaseFile, reason: str,
                   content: str) -> CaseFileSupplement:
    """更正补充: appended to the file, logged, the package rebuilt around the unchanged manifest."""
    _require(actor, LEGAL_ROLES)
    reason, content = (reason or "").strip(), (content or "").strip()
    if not reason or not content:
        field = "reason" if not reason else "content"
        raise ValidationError("须填写更正理由和内容 (reason and content required)",
                              details={"fields": {field: ["required"]}})
    seq = len(casefile.supplements) + 1
    s = CaseFileSupplement(casefile_id=casefile.id, seq=seq, reason=reason, content=content, created_at=utcnow(),
                           created_by_id=actor.user.id, log_index=-1)
    session.add(s)
    session.flush()
    [s.log_index] = log_service.append_leaves(session, [{
        "kind": "supplement", "ref": s.id, "keep": True, "data": _supplement_bytes(casefile, s, actor.user)}])
    record_event(session, actor, "casefile.supplement", casefile, reason=reason,
                 data={"seq": seq, "log_index": s.log_index})
    session.flush()
    log_service.ingest_audit(session)
    casefile.checkpoint_size = log_service.sign_checkpoint(session, settings.signer_loader()).tree_size
    session.flush()
    session.expire(casefile, ["supplements"])
    store_package(session, settings, casefile, rebuild(session, settings, casefile))
    return s


def casefiles_stmt(user: User):
    from ..access.scope import scope_clause

    return select(CaseFile).where(scope_clause(CaseFile, user)).order_by(CaseFile.archived_at.desc(), CaseFile.id)


def get_casefile(session: Session, user: User, casefile_id: str) -> CaseFile:
    return get_scoped(session, CaseFile, casefile_id, user)


def settings_from(config, instance_path: str, storage) -> Settings:
    """Settings from the app's configuration (called by the API, the portal and the CLI)."""
    from . import keys

    name = config.get("CASEFILE_LOG_ORIGIN") or f"inspect-api.local/{config['BUREAU_CODE']}/casefile-log"

    def load():
        return keys.load_signer(config.get("CASEFILE_SIGNING_KEY"), instance_path, config["ENV_NAME"], name)

    return Settings(DocumentConfig.from_mapping(config), storage, load)
