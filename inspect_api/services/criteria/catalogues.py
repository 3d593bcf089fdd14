"""Catalogues of judgement clauses: drafts, publishing (immutable afterwards), succession, and which
catalogues are in force on a day for an enterprise.

Days are Asia/Shanghai calendar days: a hazard found at 2026-09-30 00:30 in Hengshui (2026-09-29 16:30
UTC) was found on 2026-09-30. ``effective_from`` / ``effective_to`` are both inclusive; None is open.

Publishing a successor (``replaces_id``) ends the catalogue it replaces on the day before the successor
takes effect, unless that one already ends earlier: that end date is the only thing that changes on a
published catalogue, and it follows from the successor's own published data.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import CriteriaCatalogue, CriteriaClause, region_prefix, utcnow
from ...models.criteria import CATALOGUE_KINDS
from ..access.actor import Actor
from ..access.audit import record_event

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
KIND_LABELS = {"national_rule": "国家规定", "industry_standard": "行业标准", "provincial_rule": "地方规定"}
STATUS_LABELS = {"draft": "草稿", "published": "已发布"}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_NUMBER = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")
_INDUSTRY = re.compile(r"^[A-Z][0-9]{0,4}$")
CATALOGUE_FIELDS = ("code", "title", "doc_no", "kind", "industries", "region_code", "scope_note",
                    "effective_from", "effective_to", "replaces_id", "source")


class CatalogueImmutable(Conflict):
    code = "catalogue_immutable"
    message = "判定标准已发布，不能修改；请导入新版本 (a published catalogue cannot be changed)"


def local_day(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware UTC datetime."""
    return moment.astimezone(LOCAL_TZ).date()


def in_force(catalogue: CriteriaCatalogue, day: date) -> bool:
    return catalogue.status == "published" and catalogue.deleted_at is None \
        and (catalogue.effective_from is None or catalogue.effective_from <= day) \
        and (catalogue.effective_to is None or day <= catalogue.effective_to)


def applies_to(catalogue: CriteriaCatalogue, industry: str | None, region_code: str | None) -> bool:
    """Does the catalogue's scope cover an enterprise of this industry (GB/T 4754 code) and region?"""
    prefixes = catalogue.industry_list
    if prefixes and not (industry and any(industry.upper().startswith(p) for p in prefixes)):
        return False
    if catalogue.region_code and not (region_code or "").startswith(region_prefix(catalogue.region_code)):
        return False
    return True


def require_admin(actor: Actor) -> None:
    if actor.user is not None and actor.user.role != "admin":
        raise Forbidden("只有管理员可以维护判定标准 (only admins manage criteria catalogues)")


# ---------------------------------------------------------------- reading


def list_catalogues(session: Session, *, status: str | None = None) -> list[CriteriaCatalogue]:
    stmt = select(CriteriaCatalogue).where(CriteriaCatalogue.deleted_at.is_(None))
    if status:
        stmt = stmt.where(CriteriaCatalogue.status == status)
    return list(session.scalars(stmt.order_by(CriteriaCatalogue.effective_from.is_not(None),
                                              CriteriaCatalogue.effective_from, CriteriaCatalogue.code,
                                              CriteriaCatalogue.version)))


def get_catalogue(session: Session, catalogue_id: str, *, for_update: bool = False) -> CriteriaCatalogue:
    stmt = select(CriteriaCatalogue).where(CriteriaCatalogue.id == catalogue_id,
                                           CriteriaCatalogue.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    catalogue = session.scalars(stmt).first()
    if catalogue is None:
        raise NotFound("判定标准不存在 (catalogue not found)")
    return catalogue


def get_clause(session: Session, clause_id: str) -> CriteriaClause | None:
    clause = session.get(CriteriaClause, clause_id)
    return clause if clause is not None and clause.deleted_at is None else None


def clauses_in_force(session: Session, day: date, industry: str | None = None,
                     region_code: str | None = None) -> list[CriteriaClause]:
    """The clauses an inspector may grade with on ``day`` for an enterprise of this industry and region."""
    out = []
    for catalogue in list_catalogues(session, status="published"):
        if in_force(catalogue, day) and applies_to(catalogue, industry, region_code):
            out.extend(c for c in catalogue.clauses if c.deleted_at is None)
    return out


def successor_of(session: Session, catalogue: CriteriaCatalogue) -> CriteriaCatalogue | None:
    return session.scalars(select(CriteriaCatalogue).where(
        CriteriaCatalogue.replaces_id == catalogue.id, CriteriaCatalogue.status == "published",
        CriteriaCatalogue.deleted_at.is_(None)).order_by(CriteriaCatalogue.effective_from)).first()


# ---------------------------------------------------------------- checking


def _err(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def _as_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise _err(field, f"日期“{value}”格式应为 YYYY-MM-DD (not a date)") from None


def normalise_industries(value) -> str:
    if value is None:
        return ""
    parts = value if isinstance(value, (list, tuple)) else re.split(r"[、,，;；\s]+", str(value))
    out = []
    for part in parts:
        part = str(part).strip().upper()
        if not part:
            continue
        if not _INDUSTRY.match(part):
            raise _err("industries", f"行业代码“{part}”应为 GB/T 4754 代码前缀，如 C26 (industry code prefix)")
        if part not in out:
            out.append(part)
    text = ",".join(out)
    if len(text) > 400:
        raise _err("industries", "适用行业过多 (too many industries)")
    return text


def check_catalogue_fields(session: Session, data: dict) -> dict:
    """Validate and normalise a catalogue's metadata (raises ValidationError, one field at a time)."""
    out = {k: (data.get(k).strip() if isinstance(data.get(k), str) else data.get(k)) for k in CATALOGUE_FIELDS}
    if not out["code"] or not _CODE.match(out["code"]):
        raise _err("code", "标准代码只能含字母、数字、.、-、_（最多40字符）(code: letters, digits, . - _)")
    for key, label, limit in (("title", "标准名称", 200), ("doc_no", "文号/标准号", 100)):
        if not out[key]:
            raise _err(key, f"{label}不能为空 ({key} is required)")
        if len(out[key]) > limit:
            raise _err(key, f"{label}过长（最多{limit}字符）")
    if out["kind"] not in CATALOGUE_KINDS:
        raise _err("kind", "类别须为 national_rule（国家规定）/ industry_standard（行业标准）/ provincial_rule（地方规定）")
    out["industries"] = normalise_industries(out["industries"])
    if out["kind"] == "provincial_rule" and not out["region_code"]:
        raise _err("region_code", "地方规定须注明适用的行政区划代码 (a provincial rule needs its region)")
    if out["region_code"] and not re.fullmatch(r"[0-9]{6}", str(out["region_code"])):
        raise _err("region_code", "行政区划代码须为6位数字 (region_code: 6 digits)")
    out["effective_from"] = _as_date(out["effective_from"], "effective_from")
    out["effective_to"] = _as_date(out["effective_to"], "effective_to")
    if out["effective_from"] is None:
        raise _err("effective_from", "须注明施行日期 (effective_from is required)")
    if out["effective_to"] and out["effective_to"] < out["effective_from"]:
        raise _err("effective_to", "废止日期早于施行日期 (effective_to before effective_from)")
    if out["replaces_id"]:
        old = session.get(CriteriaCatalogue, out["replaces_id"])
        if old is None or old.status != "published" or old.deleted_at is not None:
            raise _err("replaces_id", "被替代的判定标准须为已发布的标准 (replaces: a published catalogue)")
        if old.effective_from and old.effective_from >= out["effective_from"]:
            raise _err("replaces_id", "新标准须晚于被替代标准施行 (the successor must take effect later)")
    return out


def check_clauses(raw: list[dict]) -> tuple[list[dict], list[dict]]:
    """Normalise clauses; returns (clauses, errors) with errors ``{"row", "number", "reason"}``.
    Numbers are required and unique; within one parent (5.3 for 5.3.2) numeric last parts must run
    1, 2, 3 … without a gap (a gap is a missing clause)."""
    clauses, errors, seen = [], [], {}
    for index, item in enumerate(raw):
        row = item.get("row", index + 1)
        number = str(item.get("number") or "").strip().rstrip(".")
        text = str(item.get("text") or "").strip()
        reasons = []
        if not number:
            reasons.append("缺少条款号 (clause number missing)")
        elif not _NUMBER.match(number) or len(number) > 20:
            reasons.append(f"条款号“{number}”格式不正确，应如 5.3.2")
        elif number in seen:
            reasons.append(f"条款号 {number} 重复（第 {seen[number]} 行已有）(duplicate clause number)")
        if not text:
            reasons.append("条款内容不能为空 (clause text missing)")
        group = str(item.get("group") or "").strip() or None
        if group and len(group) > 200:
            reasons.append("分组名称过长（最多200字符）")
        if number and number not in seen:
            seen[number] = row
        if reasons:
            errors.append({"row": row, "number": number or None, "reason": "；".join(reasons)})
            continue
        guidance = str(item.get("guidance") or "").strip() or None
        clauses.append({"row": row, "number": number, "text": text, "group_title": group, "guidance": guidance})
    errors.extend(_gaps(clauses))
    return clauses, errors


def _gaps(clauses: list[dict]) -> list[dict]:
    by_parent: dict[str, set[int]] = {}
    for c in clauses:
        parent, _, last = c["number"].rpartition(".")
        if last.isdigit():
            by_parent.setdefault(parent, set()).add(int(last))
    out = []
    for parent, numbers in sorted(by_parent.items()):
        missing = sorted(set(range(1, max(numbers) + 1)) - numbers)
        for n in missing:
            number = f"{parent}.{n}" if parent else str(n)
            out.append({"row": None, "number": number, "reason": f"缺少条款 {number}（编号不连续）(clause missing)"})
    return out


# ---------------------------------------------------------------- writing


def _next_version(session: Session, code: str) -> int:
    return int(session.scalar(select(func.max(CriteriaCatalogue.version)).where(CriteriaCatalogue.code == code))
               or 0) + 1


def clause_code(catalogue_code: str, number: str) -> str:
    return f"{catalogue_code}-{number}"[:40]


def create_catalogue(session: Session, actor: Actor, data: dict, clauses: list[dict]) -> CriteriaCatalogue:
    """A new draft version of a catalogue with its clauses (already checked by check_clauses)."""
    require_admin(actor)
    fields = check_catalogue_fields(session, data)
    if not clauses:
        raise _err("clauses", "判定标准至少要有一条条款 (a catalogue needs clauses)")
    catalogue = CriteriaCatalogue(**fields, version=_next_version(session, fields["code"]), status="draft",
                                  created_by_id=actor.id)
    session.add(catalogue)
    session.flush()
    for position, c in enumerate(clauses, start=1):
        session.add(CriteriaClause(catalogue_id=catalogue.id, number=c["number"], position=position,
                                   code=clause_code(catalogue.code, c["number"]), group_title=c["group_title"],
                                   text=c["text"], guidance=c["guidance"]))
    session.flush()
    session.refresh(catalogue)
    record_event(session, actor, "criteria.catalogue_create", catalogue, to_state="draft",
                 data={"code": catalogue.code, "version": catalogue.version, "clauses": len(clauses)})
    return catalogue


def update_catalogue(session: Session, actor: Actor, catalogue: CriteriaCatalogue, data: dict) -> CriteriaCatalogue:
    """Change a draft's metadata; a published catalogue answers 409 catalogue_immutable."""
    require_admin(actor)
    if catalogue.status != "draft":
        raise CatalogueImmutable(details={"status": catalogue.status, "code": catalogue.code,
                                          "version": catalogue.version})
    merged = {k: getattr(catalogue, k) for k in CATALOGUE_FIELDS}
    merged.update({k: v for k, v in data.items() if k in CATALOGUE_FIELDS})
    fields = check_catalogue_fields(session, merged)
    if fields["code"] != catalogue.code:
        raise _err("code", "草稿的标准代码不能修改 (the code of a draft cannot change)")
    for key, value in fields.items():
        setattr(catalogue, key, value)
    session.flush()
    record_event(session, actor, "criteria.catalogue_update", catalogue, data={k: data[k] for k in data})
    return catalogue


def publish_catalogue(session: Session, actor: Actor, catalogue: CriteriaCatalogue) -> CriteriaCatalogue:
    """draft → published: immutable from now on, pulled by tablets of schema version 3; ends the
    catalogue it replaces the day before it takes effect."""
    require_admin(actor)
    catalogue = get_catalogue(session, catalogue.id, for_update=True)
    if catalogue.status != "draft":
        raise CatalogueImmutable("判定标准已发布 (already published)", details={"status": catalogue.status})
    clauses = [c for c in catalogue.clauses if c.deleted_at is None]
    if not clauses:
        raise _err("clauses", "判定标准至少要有一条条款 (a catalogue needs clauses)")
    now = utcnow()
    catalogue.status = "published"
    catalogue.published_at = now
    catalogue.published_by_id = actor.id
    for clause in clauses:  # new cursors: tablets get the clauses with their now-published catalogue
        clause.updated_at = now
    ended = None
    if catalogue.replaces_id:
        old = get_catalogue(session, catalogue.replaces_id, for_update=True)
        end = catalogue.effective_from - timedelta(days=1)
        if old.effective_to is None or old.effective_to > end:
            ended = (old.effective_to, end)
            old.effective_to = end
            record_event(session, actor, "criteria.catalogue_end", old,
                         data={"effective_to": end, "previous_effective_to": ended[0],
                               "successor_id": catalogue.id, "successor": f"{catalogue.code} v{catalogue.version}"})
    session.flush()
    record_event(session, actor, "criteria.catalogue_publish", catalogue, from_state="draft", to_state="published",
                 data={"code": catalogue.code, "version": catalogue.version, "clauses": len(clauses),
                       "effective_from": catalogue.effective_from, "replaces_id": catalogue.replaces_id})
    return catalogue


def delete_draft(session: Session, actor: Actor, catalogue: CriteriaCatalogue) -> None:
    """Discard a draft (a published catalogue is never deleted)."""
    require_admin(actor)
    if catalogue.status != "draft":
        raise CatalogueImmutable(details={"status": catalogue.status})
    now = utcnow()
    for clause in catalogue.clauses:
        clause.deleted_at = now
    catalogue.deleted_at = now
    session.flush()
    record_event(session, actor, "criteria.catalogue_delete", catalogue, from_state="draft", to_state="deleted")


def catalogue_label(catalogue: CriteriaCatalogue) -> str:
    return f"{catalogue.doc_no}《{catalogue.title}》"


def clause_label(clause: CriteriaClause) -> str:
    """How a clause is cited on documents: 安监总管三〔2017〕121号 第5项 / AQ 3067—2026 第5.3.2条."""
    number = clause.number
    cite = f"第{number}项" if number.isdigit() else f"第{number}条"
    return f"{clause.catalogue.doc_no} {cite}"


def criterion_citation(hazard) -> str:
    """What documents print after a major hazard: "，判定依据 <文号> 第5.3.2条：<条款原文>" (the legacy code
    alone for a hazard graded without a clause; "" when neither)."""
    clause = hazard.criterion_clause if hazard.criterion_clause_id else None
    if clause is not None:
        return f"，判定依据 {clause_label(clause)}：{clause.text}"
    if hazard.major_criterion_code:
        return f"，判定依据 {hazard.major_criterion_code}"
    return ""
