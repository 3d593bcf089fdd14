"""The enterprise registry: validation, create, update, listing.

Who may write: admins everywhere; supervisors inside their jurisdiction (the
enterprise's region, before and after a change, must lie in their subtree);
the system actor (CLI) everywhere. Reads go through services/scope.py.

A region change leaves a SyncTombstone for the old region (written at flush by
models/sync.py, which watches region_id), so a tablet whose jurisdiction loses
the enterprise sees it under ``deleted`` at its next pull.
"""
from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, ValidationError
from ...models import Enterprise, Region, allocate_seq, new_id, region_prefix
from ...models.base import sealed_index
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped, region_in_scope, select_scoped
from .uscc import normalize_uscc, validate_uscc

# 重点监管危险化工工艺 (18 processes: 安监总管三〔2009〕116号 + 〔2013〕3号)
HAZARDOUS_PROCESSES = (
    "光气及光气化工艺", "电解工艺(氯碱)", "氯化工艺", "硝化工艺", "合成氨工艺", "裂解(裂化)工艺",
    "氟化工艺", "加氢工艺", "重氮化工艺", "氧化工艺", "过氧化工艺", "胺基化工艺", "磺化工艺",
    "聚合工艺", "烷基化工艺", "新型煤化工工艺", "电石生产工艺", "偶氮化工艺",
)
RISK_COLORS = ("red", "orange", "yellow", "blue")
RISK_COLOR_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
SCALES = ("large", "medium", "small", "micro")
SCALE_ZH = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
MAJOR_HAZARD_ZH = {0: "无", 1: "一级", 2: "二级", 3: "三级", 4: "四级"}

# GB/T 4754-2017 divisions (大类) seen in hazardous-chemical supervision
def _load_industries() -> dict[str, str]:
    import json
    from importlib import resources

    doc = json.loads(resources.files("inspect_api").joinpath("data", "industries_gbt4754_2017.json")
                     .read_text(encoding="utf-8"))
    return {code: name for code, name in doc["codes"]}


# GB/T 4754-2017 codes with names (inspect_api/data/industries_gbt4754_2017.json): the choices offered
INDUSTRIES = _load_industries()
_INDUSTRY_CODE = re.compile(r"^([A-T])(\d{2,4})\b")

# Fields a caller may set (API names); region_code maps to Enterprise.region_id
FIELDS = ("name", "uscc", "region_code", "address", "industry", "scale", "major_hazard_level", "risk_color",
          "hazardous_processes", "legal_representative", "safety_contact", "contact_phone", "latitude",
          "longitude", "note")


def _attr(field: str) -> str:
    return "region_id" if field == "region_code" else field


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


class UsccTaken(Conflict):
    code = "uscc_taken"
    message = "统一社会信用代码已被其他企业使用 (credit code already registered)"


class OutsideJurisdiction(Forbidden):
    code = "outside_jurisdiction"
    message = "该企业所在区域不在您的管辖范围内 (region outside your jurisdiction)"


def can_manage_region(actor: Actor, region_code: str | None) -> bool:
    """Admins and the system everywhere; supervisors inside their subtree."""
    user = actor.user
    if user is None or user.role == "admin":
        return True
    if user.role == "supervisor":
        return region_in_scope(user, region_code)
    return False


def normalize_industry(value: str | None) -> str | None:
    """'C26 化学原料和化学制品制造业' -> 'C26'; a known division name -> its code; else as given."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    m = _INDUSTRY_CODE.match(value.upper())
    if m:
        return m.group(1) + m.group(2)
    for code, name in INDUSTRIES.items():
        if value == name:
            return code
    return value[:100]


def industry_name(code: str | None) -> str | None:
    if not code:
        return None
    for length in (5, 4, 3):
        if code[:length] in INDUSTRIES:
            return INDUSTRIES[code[:length]]
    return None


def normalize_process(value: str) -> str | None:
    """One of the 18 processes, matched leniently (full-width brackets, missing '工艺')."""
    v = value.strip().replace("（", "(").replace("）", ")").replace(" ", "")
    if not v:
        return None
    for name in HAZARDOUS_PROCESSES:
        if v == name:
            return name
    for name in HAZARDOUS_PROCESSES:
        bare = name.replace("工艺", "")
        if v in (bare, bare.split("(")[0]) or v + "工艺" == name:
            return name
    if v in ("氯碱", "氯碱电解", "电解"):
        return "电解工艺(氯碱)"
    if v in ("裂解", "裂化"):
        return "裂解(裂化)工艺"
    if v in ("光气", "光气化"):
        return "光气及光气化工艺"
    return None


def validate_processes(values) -> tuple[list[str], list[str]]:
    """(normalized list, unknown names)."""
    good, bad = [], []
    for raw in values or []:
        name = normalize_process(str(raw))
        if name is None:
            if str(raw).strip():
                bad.append(str(raw).strip())
        elif name not in good:
            good.append(name)
    return good, bad


def check_fields(session: Session, data: dict, *, regions: set[str] | None = None) -> dict:
    """Normalise and validate enterprise fields; return them or raise ValidationError (all fields at once).

    ``regions`` (known region codes) may be passed in by bulk callers to avoid a query per row.
    """
    out = dict(data)
    errors: dict[str, list[str]] = {}
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            errors["name"] = ["企业名称不能为空 (name is required)"]
    if "uscc" in out:
        code = normalize_uscc(out["uscc"] or "")
        reason = validate_uscc(code)
        if reason:
            errors["uscc"] = [reason]
        out["uscc"] = code
    if "region_code" in out:
        code = (out["region_code"] or "").strip()
        known = (code in regions) if regions is not None else (session.get(Region, code) is not None)
        if not code or not known:
            errors["region_code"] = [f"行政区划代码不存在：{code or '（空）'} (unknown region code)"]
        out["region_code"] = code
    if "industry" in out:
        out["industry"] = normalize_industry(out["industry"])
    if out.get("scale") is not None and out["scale"] not in SCALES:
        errors["scale"] = ["企业规模应为 大型/中型/小型/微型 (large/medium/small/micro)"]
    if "major_hazard_level" in out:
        level = out["major_hazard_level"]
        if level is None:
            out["major_hazard_level"] = 0
        elif isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 4:
            errors["major_hazard_level"] = ["重大危险源等级应为 0（无）或 1~4 级 (0-4)"]
    if out.get("risk_color") is not None and out["risk_color"] not in RISK_COLORS:
        errors["risk_color"] = ["风险等级应为 红/橙/黄/蓝 (red/orange/yellow/blue)"]
    if "hazardous_processes" in out:
        good, bad = validate_processes(out["hazardous_processes"])
        if bad:
            errors["hazardous_processes"] = [
                "不是重点监管危险化工工艺：" + "、".join(bad) + " (not one of the 18 key regulated processes)"]
        out["hazardous_processes"] = good
    for key, zh, lo, hi in (("latitude", "纬度", -90, 90), ("longitude", "经度", -180, 180)):
        if out.get(key) is not None and not lo <= out[key] <= hi:
            errors[key] = [f"{zh}超出范围 {lo}~{hi} ({key} out of range)"]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, details={"fields": errors})
    return out


def _uscc_clash(session: Session, uscc: str, exclude_id: str | None = None) -> bool:
    stmt = select(Enterprise.id).where(Enterprise.uscc == uscc)
    if exclude_id:
        stmt = stmt.where(Enterprise.id != exclude_id)
    return session.scalars(stmt).first() is not None


def create_enterprise(session: Session, actor: Actor, data: dict, *, checked: bool = False,
                      flush: bool = True) -> Enterprise:
    for required in ("name", "uscc", "region_code"):
        if required not in data or data[required] in (None, ""):
            raise field_error(required, f"{required} is required")
    if not checked:
        data = check_fields(session, data)
    if not can_manage_region(actor, data["region_code"]):
        raise OutsideJurisdiction()
    if not checked and _uscc_clash(session, data["uscc"]):
        raise UsccTaken(details={"fields": {"uscc": ["已存在 (already registered)"]}})  # no more than that
    ent = Enterprise(id=new_id(), major_hazard_level=0, hazardous_processes=[])
    for key in FIELDS:
        if key in data:
            setattr(ent, _attr(key), data[key])
    session.add(ent)
    record_event(session, actor, "enterprise.created", ent,
                 data={k: data[k] for k in FIELDS if k in data})
    if flush:
        session.flush()
    return ent


def diff_fields(ent: Enterprise, data: dict) -> dict:
    """{field: [old, new]} for the given fields whose values differ."""
    changes = {}
    for key in FIELDS:
        if key not in data:
            continue
        old = getattr(ent, _attr(key))
        new = data[key]
        if key == "hazardous_processes":
            if list(old or []) != list(new or []):
                changes[key] = [list(old or []), list(new or [])]
        elif old != new:
            changes[key] = [old, new]
    return changes


def apply_update(session: Session, actor: Actor, ent: Enterprise, data: dict, *,
                 action: str = "enterprise.updated",
                 reason: str | None = None) -> dict:
    """Apply already-checked fields; write the audit event and, on a region move, the tombstone.

    Returns the changes (empty when nothing differs: then nothing is written at all).
    """
    changes = diff_fields(ent, data)
    if not changes:
        return changes
    old_region = ent.region_id
    if "region_code" in changes and not (can_manage_region(actor, old_region)
                                         and can_manage_region(actor, data["region_code"])):
        raise OutsideJurisdiction()
    if not can_manage_region(actor, old_region):
        raise OutsideJurisdiction()
    if "uscc" in changes and _uscc_clash(session, data["uscc"], exclude_id=ent.id):
        raise UsccTaken(details={"fields": {"uscc": ["已存在 (already registered)"]}})
    for key, (_old, new) in changes.items():
        setattr(ent, _attr(key), list(new) if key == "hazardous_processes" else new)
    # The tombstone for the old region is written at flush by models/sync.py (_scope_exit), which
    # sees region_id change; writing one here too would hand tablets the deletion twice.
    record_event(session, actor, action, ent, reason=reason, data=changes)
    if "region_code" in changes:
        moved = move_open_work(session, ent, old_region, ent.region_id)
        if any(moved.values()):
            record_event(session, actor, "enterprise.work_moved", ent, data={"from": old_region,
                                                                              "to": ent.region_id, **moved})
    return changes


def move_open_work(session: Session, ent: Enterprise, old_region: str, new_region: str) -> dict:
    """An enterprise moved to another county: its open work follows it (the new county's officers supervise
    it, the old county's tablets drop it).

    Open work: hazards not closed, with their rectifications and reviews; notices not closed; inspections
    that are drafts or carry a moved hazard, with their findings; photos of everything moved. Closed work
    stays with the county that did it. Rows are changed through the ORM, so models/sync.py writes a
    scope-exit tombstone for each synced row and tablets of the old county get it under ``deleted``.
    """
    from ...models import Finding, Hazard, Inspection, Notice, Photo, Rectification, Review

    def rows(model, *where):
        return list(session.scalars(select(model).where(model.enterprise_id == ent.id,
                                                        model.region_code == old_region, *where)))

    hazards = rows(Hazard, Hazard.status != "closed")
    hazard_ids = {h.id for h in hazards}
    inspections = [i for i in rows(Inspection) if i.status == "draft"
                   or i.id in {h.inspection_id for h in hazards}]
    inspection_ids = {i.id for i in inspections}
    findings = [f for f in rows(Finding) if f.inspection_id in inspection_ids]
    rects = [r for r in rows(Rectification) if r.hazard_id in hazard_ids]
    reviews = [r for r in rows(Review) if r.hazard_id in hazard_ids]
    notices = rows(Notice, Notice.status != "closed")
    owners = {("hazards", i) for i in hazard_ids} | {("inspections", i) for i in inspection_ids} \
        | {("findings", f.id) for f in findings} | {("rectifications", r.id) for r in rects}
    photos = [p for p in rows(Photo) if (p.owner_table, p.owner_id) in owners]
    moved = {"hazards": hazards, "inspections": inspections, "findings": findings, "rectifications": rects,
             "reviews": reviews, "notices": notices, "photos": photos}
    for group in moved.values():
        for row in group:
            row.region_code = new_region
    session.flush()
    return {name: len(group) for name, group in moved.items()}


def update_enterprise(session: Session, actor: Actor, ent: Enterprise, data: dict) -> Enterprise:
    data = check_fields(session, data)
    if apply_update(session, actor, ent, data):
        session.flush()
        session.expire(ent, ["region"])
    return ent


def get_enterprise(session: Session, user, enterprise_id: str, *, for_update: bool = False) -> Enterprise:
    """One enterprise in the user's scope (404 otherwise).

    With ``for_update`` the row is locked; the sync cursor lock is taken first
    (see models/sync.py) so writers always lock in the same order.
    """
    if for_update:
        allocate_seq(session, 0)
    return get_scoped(session, Enterprise, enterprise_id, user, for_update=for_update)


def list_enterprises_stmt(user, filters: dict | None = None):
    """Enterprises in the user's scope, filtered; ordered by region then name."""
    f = filters or {}
    stmt = select_scoped(Enterprise, user).where(Enterprise.deleted_at.is_(None))
    if f.get("region"):
        stmt = stmt.where(Enterprise.region_id.like(region_prefix(f["region"]) + "%"))
    if f.get("industry"):
        stmt = stmt.where(Enterprise.industry.like(normalize_industry(f["industry"]) + "%"))
    if f.get("risk_color"):
        colors = f["risk_color"] if isinstance(f["risk_color"], (list, tuple)) else [f["risk_color"]]
        stmt = stmt.where(Enterprise.risk_color.in_(colors))
    if f.get("major_hazard_level") is not None:
        levels = f["major_hazard_level"]
        levels = levels if isinstance(levels, (list, tuple)) else [levels]
        stmt = stmt.where(Enterprise.major_hazard_level.in_(levels))
    if f.get("is_major_hazard") is not None:
        stmt = stmt.where(Enterprise.major_hazard_level > 0 if f["is_major_hazard"]
                          else Enterprise.major_hazard_level == 0)
    if f.get("phone"):
        stmt = stmt.where(Enterprise.contact_phone_index == sealed_index(f["phone"]))
    if f.get("q"):
        like = "%" + f["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Enterprise.name.ilike(like, escape="\\"),
                              Enterprise.uscc.ilike(like, escape="\\"),
                              Enterprise.address.ilike(like, escape="\\")))
    return stmt.order_by(Enterprise.region_id, Enterprise.name, Enterprise.id)
