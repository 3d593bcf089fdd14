"""The per-table rules of a push: check the shape of the changes, convert wire values, load the rows
the pushed records refer to (in scope only), fill derived columns and check the domain rules; a rule
raises _Reject(reason) to leave a record out."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...jsonsafe import text_problem
from ...models import (
    ChecklistItem, ChecklistTemplate, Enterprise, Finding, Hazard, Inspection, Notice, Rectification, User,
    utcnow,
)
from ..access.actor import Actor
from ..access.scope import scope_clause
from ..criteria.rules import judge_pushed_hazard
from ..planning.rules import task_link_problem
from .tables import TABLES, TEMPLATE_PULL_STATUSES, tables_for
from .wire import SYNC_ROLES, Col, TableSpec, UnknownTable, _chunks, from_millis, to_millis

@dataclass
class PushResult:
    rejected: dict[str, dict[str, str]] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    notices_numbered: list[str] = field(default_factory=list)

    def reject(self, table: str, rec_id: str, reason: str) -> None:
        self.rejected.setdefault(table, {})[rec_id] = reason

    def body(self) -> dict:
        return {
            "ok": True,
            "experimentalRejectedIds": {t: list(ids) for t, ids in self.rejected.items()},
            "rejected": self.rejected,
        }


class _Reject(Exception):
    pass


def check_changes_shape(changes, version: int = 1) -> dict[str, dict[str, list]]:
    """Normalise the pushed ``changes`` of a tablet of schema ``version``; 403 for read-only tables, 422 for
    tables that version does not have."""
    specs = tables_for(version)
    if not isinstance(changes, dict):
        raise ValidationError("请求体须为 changes 对象 (the body must be a changes object)", details={"fields": {"changes": ["Not an object."]}})
    out: dict[str, dict[str, list]] = {}
    forbidden, unknown, bad = [], [], {}
    for table, entry in changes.items():
        if not isinstance(entry, dict):
            bad[table] = ["Must be {created, updated, deleted}."]
            continue
        parts = {}
        for key in ("created", "updated", "deleted"):
            value = entry.get(key, [])
            if value is None:
                value = []
            if not isinstance(value, list):
                bad[f"{table}.{key}"] = ["Must be a list."]
                value = []
            parts[key] = value
        nonempty = any(parts.values())
        if table not in specs:
            if nonempty:
                unknown.append(table)
            continue
        if not specs[table].writable:
            if nonempty:
                forbidden.append(table)
            continue
        for key in ("created", "updated"):
            for i, raw in enumerate(parts[key]):
                if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"] \
                        or len(raw["id"]) > 64 or text_problem(raw["id"]):
                    bad[f"{table}.{key}.{i}"] = ["A raw record with a string id is required."]
        for i, rec_id in enumerate(parts["deleted"]):
            if not isinstance(rec_id, str) or not rec_id or len(rec_id) > 64 or text_problem(rec_id):
                bad[f"{table}.deleted.{i}"] = ["Ids are non-empty strings."]
        out[table] = parts
    if unknown:
        raise UnknownTable(details={"tables": sorted(unknown)})
    if forbidden:
        raise Forbidden("平板不能修改这些数据表 (tablets may not write these tables)", details={"tables": sorted(forbidden)})
    if bad:
        raise ValidationError(details={"fields": bad})
    return out


def _convert(col: Col, value):
    """A wire value → the database value; raises _Reject with a reason."""
    if value is None:
        return col.default
    kind = col.kind
    if kind == "id":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _Reject(f"{col.name}: not an id")
        value = str(value)
        if text_problem(value):
            raise _Reject(f"{col.name}: {text_problem(value)}")
        return value or None
    if kind in ("str", "text", "enum"):
        if not isinstance(value, str):
            raise _Reject(f"{col.name}: not a string")
        if text_problem(value):
            raise _Reject(f"{col.name}: {text_problem(value)}")
        if kind == "enum":
            if value == "" and col.default is None:
                return None
            if value not in col.choices:
                raise _Reject(f"{col.name}: must be one of {', '.join(col.choices)}")
        if col.max_len and len(value) > col.max_len:
            raise _Reject(f"{col.name}: longer than {col.max_len}")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise _Reject(f"{col.name}: not a finite number (NaN/Infinity are not JSON)")
    if kind == "time":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Reject(f"{col.name}: not a time in milliseconds")
        if value == 0:
            return None  # WatermelonDB's number columns default to 0
        if not (0 < value < 32503680000000):
            raise _Reject(f"{col.name}: time out of range")
        return from_millis(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Reject(f"{col.name}: not a number")
        return float(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Reject(f"{col.name}: not an integer")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Reject(f"{col.name}: not a boolean")
        return value
    raise _Reject(f"{col.name}: unsupported")  # pragma: no cover


def _values(spec: TableSpec, raw: dict) -> dict:
    """Client-writable columns present in the raw (unknown and server-owned ones ignored)."""
    out = {}
    for col in spec.push_cols:
        if col.name in raw:
            out[col.column] = _convert(col, raw[col.name])
    if spec.name == "photos" and out.get("sha256"):
        sha = out["sha256"].lower()
        if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise _Reject("sha256: not 64 hex digits")
        out["sha256"] = sha
    return out


# Columns the server fills when the tablet leaves them empty (issue date, the deadline an order
# gave): a pushed null keeps the server's value, so a replayed push is not a conflict.
NULL_KEEPS = {"notices": ("issued_at",), "hazards": ("deadline_at",)}


def _keep_server_values(table: str, values: dict, row) -> dict:
    if row is None:
        return values
    for key in NULL_KEEPS.get(table, ()):
        if key in values and values[key] is None and getattr(row, key) is not None:
            del values[key]
    return values


def _same(spec: TableSpec, values: dict, row) -> bool:
    """Do the pushed values equal the server row's (times to the millisecond)?"""
    for key, value in values.items():
        current = getattr(row, key)
        if isinstance(value, datetime) or isinstance(current, datetime):
            same = to_millis(value) == to_millis(current)
        elif isinstance(value, float) or isinstance(current, float):
            same = value is not None and current is not None and abs(float(current) - float(value)) < 1e-9
        elif isinstance(value, str) or isinstance(current, str):
            same = (value or None) == (current or None)
        else:
            same = value == current
        if not same:
            return False
    return True



@dataclass
class _Ctx:
    session: Session
    actor: Actor
    since: int
    default_bureau: str
    result: PushResult
    # the server's rows, by table: id -> row (only rows the caller can see)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    hidden: dict[str, set] = field(default_factory=dict)  # ids that exist but are out of scope
    # parents available to later tables: the server's visible rows + records accepted in this push
    inspections: dict[str, dict] = field(default_factory=dict)
    findings: dict[str, dict] = field(default_factory=dict)
    notices: dict[str, dict] = field(default_factory=dict)
    hazards: dict[str, dict] = field(default_factory=dict)
    enterprises: dict[str, dict] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)  # item id -> template id
    templates: set = field(default_factory=set)
    officers: dict[str, dict] = field(default_factory=dict)
    rectifications: dict[str, dict] = field(default_factory=dict)
    # writes
    inserts: dict[str, list[dict]] = field(default_factory=dict)
    updates: dict[str, list[dict]] = field(default_factory=dict)
    deletes: dict[str, list[dict]] = field(default_factory=dict)
    new_notice_ids: list[str] = field(default_factory=list)
    hazards_with_notice: list[str] = field(default_factory=list)
    photo_ids: list[str] = field(default_factory=list)
    on_spot_ids: list[str] = field(default_factory=list)  # hazards rectified on the spot (当场整改)
    findings_reitemed: list[str] = field(default_factory=list)  # findings whose checklist item changed


def _load_existing(ctx: _Ctx, table: str, ids: list[str]) -> None:
    spec = TABLES[table]
    model = spec.model
    user = ctx.actor.user
    found: dict[str, Any] = {}
    hidden: set = set()
    for part in _chunks(ids):
        rows = ctx.session.execute(
            select(model.__table__, scope_clause(model, user).label("_visible")).where(model.id.in_(part)))
        for row in rows:
            if row._visible:
                found[row.id] = row
            else:
                hidden.add(row.id)
    ctx.existing[table] = found
    ctx.hidden[table] = hidden


def _load_parents(ctx: _Ctx, changes: dict) -> None:
    """Rows the pushed records refer to, loaded in batches, restricted to the caller's scope."""
    s, user = ctx.session, ctx.actor.user

    def refs(table, column):
        out = set()
        for key in ("created", "updated"):
            for raw in changes.get(table, {}).get(key, []):
                v = raw.get(column)
                if isinstance(v, (str, int)) and not isinstance(v, bool) and v != "":
                    out.add(str(v))
        return out

    def load(model, ids, cols, store, key=lambda r: r.id, shape=lambda r: dict(r._mapping)):
        for part in _chunks(sorted(ids)):
            stmt = select(*cols).where(model.id.in_(part), scope_clause(model, user))
            if hasattr(model, "deleted_at"):
                stmt = stmt.where(model.deleted_at.is_(None))
            for r in s.execute(stmt):
                store[key(r)] = shape(r)

    ent_ids = refs("inspections", "enterprise_id") | refs("hazards", "enterprise_id") | refs("notices", "enterprise_id")
    insp_ids = refs("findings", "inspection_id") | refs("hazards", "inspection_id") | refs("notices", "inspection_id")
    insp_ids |= {i for t, ids in ((r.get("owner_table"), r.get("owner_id")) for r in _raws(changes, "photos"))
                 if t == "inspections" for i in [ids] if isinstance(ids, str)}
    insp_ids |= set(ctx.existing.get("inspections", {}))  # findings of existing inspections
    icols = (Inspection.id, Inspection.enterprise_id, Inspection.region_code, Inspection.template_id,
             Inspection.status, Inspection.lead_inspector_id, Inspection.co_inspector_id)
    load(Inspection, insp_ids, icols, ctx.inspections)
    ent_ids |= {i["enterprise_id"] for i in ctx.inspections.values()}
    load(Enterprise, ent_ids, (Enterprise.id, Enterprise.region_id), ctx.enterprises)

    find_ids = refs("hazards", "finding_id") | {r.get("owner_id") for r in _raws(changes, "photos")
                                               if r.get("owner_table") == "findings" and isinstance(r.get("owner_id"), str)}
    load(Finding, find_ids, (Finding.id, Finding.inspection_id, Finding.enterprise_id, Finding.region_code,
                             Finding.item_id), ctx.findings)
    notice_ids = refs("hazards", "notice_id")
    load(Notice, notice_ids, (Notice.id, Notice.enterprise_id, Notice.region_code, Notice.inspection_id,
                              Notice.deadline_at), ctx.notices)
    haz_ids = {r.get("owner_id") for r in _raws(changes, "photos")
               if r.get("owner_table") == "hazards" and isinstance(r.get("owner_id"), str)}
    load(Hazard, haz_ids, (Hazard.id, Hazard.enterprise_id, Hazard.region_code, Hazard.inspection_id),
         ctx.hazards)
    rect_ids = {r.get("owner_id") for r in _raws(changes, "photos")
                if r.get("owner_table") == "rectifications" and isinstance(r.get("owner_id"), str)}
    load(Rectification, rect_ids, (Rectification.id, Rectification.enterprise_id, Rectification.region_code),
         ctx.rectifications)

    item_ids = refs("findings", "item_id")
    for part in _chunks(sorted(item_ids)):
        for r in s.execute(select(ChecklistItem.id, ChecklistItem.template_id).where(ChecklistItem.id.in_(part))):
            ctx.items[r.id] = r.template_id
    tmpl_ids = refs("inspections", "template_id")
    for part in _chunks(sorted(tmpl_ids)):
        ctx.templates.update(s.scalars(select(ChecklistTemplate.id).where(
            ChecklistTemplate.id.in_(part), ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES),
            ChecklistTemplate.deleted_at.is_(None))))
    officer_ids = refs("inspections", "lead_inspector_id") | refs("inspections", "co_inspector_id")
    officer_ids |= {v for i in ctx.inspections.values() for v in (i["lead_inspector_id"], i["co_inspector_id"]) if v}
    for part in _chunks(sorted(officer_ids)):
        for r in s.execute(select(User.id, User.role, User.certificate_no, User.is_active)
                           .where(User.id.in_(part))):
            ctx.officers[r.id] = dict(r._mapping)


def _raws(changes, table):
    entry = changes.get(table, {})
    return [r for key in ("created", "updated") for r in entry.get(key, [])]


# ---- per-table rules: fill derived columns, check domain rules; raise _Reject(reason)

def _rule_inspections(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    if row is not None and row.status == "submitted":
        raise _Reject("检查已提交，不能再修改 (the inspection was submitted and is locked)")
    ent_id = merged.get("enterprise_id")
    if not ent_id:
        raise _Reject("enterprise_id: required")
    ent = ctx.enterprises.get(ent_id)
    if ent is None:
        raise _Reject("enterprise_id: unknown enterprise")
    if row is not None and "enterprise_id" in values and values["enterprise_id"] != row.enterprise_id:
        raise _Reject("enterprise_id: an inspection cannot move to another enterprise")
    tmpl = merged.get("template_id")
    if tmpl and tmpl not in ctx.templates and (row is None or tmpl != row.template_id):
        raise _Reject("template_id: unknown or unpublished checklist")
    if "task_id" in values and (problem := task_link_problem(ctx.session, ctx.actor.user, values["task_id"],
                                                             ent_id, rec_id)):
        raise _Reject(problem)  # planning (schema version 2): the same rule as REST
    status = merged.get("status") or "draft"
    lead, co = merged.get("lead_inspector_id"), merged.get("co_inspector_id")
    for name, uid in (("lead_inspector_id", lead), ("co_inspector_id", co)):
        if uid and uid not in ctx.officers:
            raise _Reject(f"{name}: unknown user")
    if status == "submitted":
        if not lead or not co or lead == co:
            raise _Reject("提交检查需两名不同的执法人员 (two distinct officers are required to submit)")
        for uid in (lead, co):
            officer = ctx.officers[uid]
            if not officer["is_active"] or officer["role"] not in SYNC_ROLES \
                    or not (officer["certificate_no"] or "").strip():
                raise _Reject("执法人员须持有执法证 (both officers need an enforcement certificate number)")
    values["region_code"] = ent["region_id"]
    if row is None:
        values.setdefault("status", "draft")
        values["created_by_id"] = ctx.actor.id
        values["device_id"] = ctx.actor.device_id
    ctx.inspections[rec_id] = {
        "id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"], "template_id": tmpl,
        "status": status, "lead_inspector_id": lead, "co_inspector_id": co,
    }
    return values


def _rule_findings(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp = ctx.inspections.get(merged.get("inspection_id") or "")
    if insp is None:
        raise _Reject("inspection_id: unknown inspection")
    if row is not None and values.get("inspection_id", row.inspection_id) != row.inspection_id:
        raise _Reject("inspection_id: a finding cannot move to another inspection")
    item = merged.get("item_id")
    if item:
        if item not in ctx.items:
            raise _Reject("item_id: unknown checklist item")
        if ctx.items[item] != insp["template_id"]:
            raise _Reject("item_id: the item is not in the inspection's checklist")
    values["enterprise_id"] = insp["enterprise_id"]
    values["region_code"] = insp["region_code"]
    ctx.findings[rec_id] = {"id": rec_id, "inspection_id": insp["id"], "enterprise_id": insp["enterprise_id"],
                            "region_code": insp["region_code"], "item_id": item}
    if row is not None and "item_id" in values and values["item_id"] != row.item_id:
        ctx.findings_reitemed.append(rec_id)
    return values


def _inspection_and_enterprise(ctx: _Ctx, merged: dict, row, *, not_inspections: str, cannot_move: str):
    """A notice's or hazard's inspection (optional) and enterprise, checked against each other."""
    insp_id = merged.get("inspection_id")
    insp = ctx.inspections.get(insp_id) if insp_id else None
    if insp_id and insp is None:
        raise _Reject("inspection_id: unknown inspection")
    ent_id = merged.get("enterprise_id") or (insp["enterprise_id"] if insp else None)
    if insp is not None and ent_id != insp["enterprise_id"]:
        raise _Reject(f"enterprise_id: {not_inspections}")
    ent = ctx.enterprises.get(ent_id or "")
    if ent is None:
        raise _Reject("enterprise_id: unknown enterprise")
    if row is not None and ent_id != row.enterprise_id:
        raise _Reject(f"enterprise_id: {cannot_move}")
    return insp_id, insp, ent_id, ent


def _rule_notices(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp_id, insp, ent_id, ent = _inspection_and_enterprise(
        ctx, merged, row, not_inspections="the notice must be for the inspection's enterprise",
        cannot_move="a notice cannot move to another enterprise")
    values["enterprise_id"] = ent_id
    values["region_code"] = ent["region_id"]
    if row is None:
        values.setdefault("issued_at", None)
        if values["issued_at"] is None:
            values["issued_at"] = utcnow()
        values["issued_by_id"] = ctx.actor.id
        values["status"] = "issued"
        if insp is not None:
            values["officer1_id"] = insp["lead_inspector_id"]
            values["officer2_id"] = insp["co_inspector_id"]
    ctx.notices[rec_id] = {"id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"],
                           "inspection_id": insp_id, "deadline_at": merged.get("deadline_at")}
    return values


def _rule_hazards(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    insp_id, insp, ent_id, ent = _inspection_and_enterprise(
        ctx, merged, row, not_inspections="a hazard's enterprise must be its inspection's",
        cannot_move="a hazard cannot move to another enterprise")
    finding_id = merged.get("finding_id")
    if finding_id:
        finding = ctx.findings.get(finding_id)
        if finding is None or (insp_id and finding["inspection_id"] != insp_id):
            raise _Reject("finding_id: unknown finding, or a finding of another inspection")
    if "finding_id" in values or row is None:
        # the finding's checklist item, kept on the hazard for the ledger (models/hazards.py)
        values["item_id"] = ctx.findings[finding_id].get("item_id") if finding_id else None
    notice_id = merged.get("notice_id")
    if notice_id:
        notice = ctx.notices.get(notice_id)
        if notice is None or notice["enterprise_id"] != ent_id:
            raise _Reject("notice_id: unknown notice, or a notice for another enterprise")
        if row is not None and row.notice_id and row.notice_id != notice_id:
            raise _Reject("notice_id: the hazard is already on another notice")
    if row is not None and "notice_id" in values and values["notice_id"] is None and row.notice_id:
        values.pop("notice_id")  # an order is not taken back from a tablet
    if row is not None and row.status not in ("found",):
        # past 登记 the lifecycle owns the hazard: only the description fields may still change
        for key in ("grade", "major_criterion_code", "deadline_at", "rectified_on_spot", "notice_id"):
            if key in values and not _same(TABLES["hazards"], {key: values[key]}, row):
                raise _Reject(f"隐患已进入整改流程，{key} 不能由平板修改 ({key} is managed by the hazard lifecycle now)")
            values.pop(key, None)
    values["enterprise_id"] = ent_id
    values["region_code"] = ent["region_id"]
    values = judge_pushed_hazard(ctx.session, ent_id, values, row, reject=_Reject)  # services/criteria/rules.py
    if row is None:
        values["status"] = "found"
        values["found_by_id"] = ctx.actor.id
    if values.get("notice_id") or (row is not None and row.notice_id and row.status == "found"):
        ctx.hazards_with_notice.append(rec_id)
    ctx.hazards[rec_id] = {"id": rec_id, "enterprise_id": ent_id, "region_code": ent["region_id"],
                           "inspection_id": insp_id}
    if values.get("rectified_on_spot", row.rectified_on_spot if row is not None else False):
        ctx.on_spot_ids.append(rec_id)
    return values


def _rule_photos(ctx: _Ctx, rec_id: str, values: dict, row) -> dict:
    merged = {**(dict(row._mapping) if row is not None else {}), **values}
    owners = {"inspections": ctx.inspections, "findings": ctx.findings, "hazards": ctx.hazards,
              "rectifications": ctx.rectifications}
    table, owner_id = merged.get("owner_table"), merged.get("owner_id")
    if table not in owners or not owner_id:
        raise _Reject("owner_table / owner_id: required")
    owner = owners[table].get(owner_id)
    if owner is None:
        raise _Reject("owner_id: unknown record")
    if row is not None and (table, owner_id) != (row.owner_table, row.owner_id):
        raise _Reject("owner_id: a photo cannot move to another record")
    values["enterprise_id"] = owner["enterprise_id"]
    values["region_code"] = owner["region_code"]
    if row is None:
        values["status"] = "pending"
        values["created_by_id"] = ctx.actor.id
    ctx.photo_ids.append(rec_id)
    return values


RULES = {"inspections": _rule_inspections, "findings": _rule_findings, "notices": _rule_notices,
         "hazards": _rule_hazards, "photos": _rule_photos}


def _delete_allowed(table: str, row) -> str | None:
    if table == "inspections" and row.status == "submitted":
        return "检查已提交，不能删除 (a submitted inspection cannot be deleted)"
    if table == "hazards" and (row.status != "found" or row.notice_id):
        return "隐患已进入整改流程，不能删除 (the hazard is in the rectification process)"
    if table == "notices":
        return "指令书已编号下达，不能删除 (an issued notice cannot be deleted)"
    return None
