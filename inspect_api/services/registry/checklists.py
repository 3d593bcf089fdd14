"""Versioned checklist templates (检查表).

A template ``code`` has versions 1, 2, …; each version is ``draft`` →
``published`` → ``retired``. Only drafts change: a published (or retired)
version answers 409 to every edit. A new version starts as a copy of the
latest one with version + 1, in draft. Publishing a draft retires the version
of the same code that was published before it. Only admins manage templates
(the API enforces the role; the system actor of the CLI may too).

Every writer takes the sync cursor lock first (allocate_seq(session, 0)), so
concurrent version/publish calls on PostgreSQL queue instead of racing for
the next version number.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, ValidationError
from ...models import ChecklistItem, ChecklistTemplate, allocate_seq, new_id, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from .imports import ImportFileError, _cell_text, read_table
from ..access.scope import get_scoped, select_scoped
from ..criteria.checklists import check_item_clauses

ITEM_FIELDS = ("code", "category", "content", "basis", "major_criterion_code", "criterion_clause_id", "position")
TEMPLATE_FIELDS = ("title", "description", "source")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,59}$")

CHECKLIST_COLUMNS = {
    "code": ["编号", "序号", "检查项编号", "条款编号", "code", "item_code", "no"],
    "category": ["类别", "检查类别", "排查项目", "检查项目", "项目", "分类", "category"],
    "content": ["检查内容", "排查内容", "检查标准", "内容", "content", "check_content"],
    "basis": ["检查依据", "排查依据", "依据", "法律依据", "法规依据", "basis", "legal_basis"],
    "major_criterion_code": ["重大隐患判定标准", "重大隐患判定依据", "重大隐患判定标准编号", "判定标准编号",
                             "major_criterion_code", "major_criterion"],
    "position": ["顺序", "排序", "position", "order"],
}


class TemplateImmutable(Conflict):
    code = "template_immutable"
    message = "已发布或已停用的检查表版本不可修改，请新建版本 (a published version is immutable; start a new version)"


class DraftExists(Conflict):
    code = "draft_exists"
    message = "该检查表已有草稿版本 (a draft version of this checklist already exists)"


class TemplateCodeTaken(Conflict):
    code = "template_code_taken"
    message = "检查表编码已存在，请在现有检查表上新建版本 (code exists: start a new version instead)"


class NotDraft(Conflict):
    code = "not_draft"
    message = "只有草稿版本可以发布 (only a draft can be published)"


def _field_error(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field_name: [message]}})


# ---------------------------------------------------------------------------
# reading


def list_templates_stmt(user, filters: dict | None = None):
    f = filters or {}
    stmt = select_scoped(ChecklistTemplate, user).where(ChecklistTemplate.deleted_at.is_(None))
    if f.get("code"):
        stmt = stmt.where(ChecklistTemplate.code == f["code"])
    if f.get("status"):
        stmt = stmt.where(ChecklistTemplate.status == f["status"])
    if f.get("q"):
        stmt = stmt.where(ChecklistTemplate.title.ilike(f"%{f['q']}%"))
    return stmt.order_by(ChecklistTemplate.code, ChecklistTemplate.version.desc())


def get_template(session: Session, user, template_id: str, *, for_update: bool = False) -> ChecklistTemplate:
    if for_update:
        allocate_seq(session, 0)
    return get_scoped(session, ChecklistTemplate, template_id, user, for_update=for_update)


def items_stmt(user, template: ChecklistTemplate, category: str | None = None):
    stmt = select_scoped(ChecklistItem, user).where(ChecklistItem.template_id == template.id)
    if category:
        stmt = stmt.where(ChecklistItem.category.like(category + "%"))
    return stmt.order_by(ChecklistItem.position, ChecklistItem.code)


def get_item(session: Session, template: ChecklistTemplate, item_id: str) -> ChecklistItem:
    item = session.get(ChecklistItem, item_id)
    if item is None or item.template_id != template.id:
        from ...errors import NotFound

        raise NotFound("checklist item not found")
    return item


# ---------------------------------------------------------------------------
# validation


def check_items(raw_items: list[dict]) -> tuple[list[dict], list[dict]]:
    """Normalise items (codes default to 001, 002 …; positions to file order).

    Returns (items, errors) where errors are ``{"index": i, "code": …, "reason": …}``.
    """
    items, errors, seen = [], [], {}
    for index, raw in enumerate(raw_items):
        item = {k: (raw.get(k).strip() if isinstance(raw.get(k), str) else raw.get(k)) for k in ITEM_FIELDS}
        reasons = []
        if not item["code"]:
            item["code"] = f"{index + 1:03d}"
        item["code"] = str(item["code"])
        if len(item["code"]) > 60:
            reasons.append("编号过长（最多60字符）")
        if not item["category"]:
            reasons.append("类别不能为空")
        elif len(item["category"]) > 200:
            reasons.append("类别过长（最多200字符）")
        if not item["content"]:
            reasons.append("检查内容不能为空")
        if item["major_criterion_code"] and len(str(item["major_criterion_code"])) > 40:
            reasons.append("重大隐患判定标准编号过长")
        for key in ("basis", "major_criterion_code"):
            if item[key] is not None:
                item[key] = str(item[key]) or None
        if item["position"] in (None, ""):
            item["position"] = index + 1
        else:
            try:
                item["position"] = int(item["position"])
            except (TypeError, ValueError):
                reasons.append(f"顺序“{item['position']}”不是整数")
        if item["code"] in seen:
            reasons.append(f"编号 {item['code']} 重复（第 {seen[item['code']] + 1} 项）")
        else:
            seen[item["code"]] = index
        if reasons:
            errors.append({"index": index, "code": item["code"], "reason": "；".join(reasons)})
        else:
            items.append(item)
    return items, errors


def _items_or_raise(raw_items) -> list[dict]:
    items, errors = check_items(raw_items)
    if errors:
        raise ValidationError(errors[0]["reason"], details={"fields": {"items": {
            str(e["index"]): [e["reason"]] for e in errors}}})
    return items


def _check_code(code: str | None) -> str:
    code = (code or "").strip()
    if not _CODE.match(code):
        raise _field_error("code", "检查表编码只能含字母、数字、-、_、.（最多60字符）(code: letters, digits, - _ .)")
    return code


def _require_draft(tpl: ChecklistTemplate) -> None:
    if tpl.status != "draft":
        raise TemplateImmutable(details={"status": tpl.status, "version": tpl.version})


# ---------------------------------------------------------------------------
# writing


def _item_row(item: ChecklistItem) -> tuple:
    return tuple(getattr(item, k) for k in ITEM_FIELDS)


def _dict_row(item: dict) -> tuple:
    return tuple(item.get(k) for k in ITEM_FIELDS)


def _replace_items(session: Session, tpl: ChecklistTemplate, items: list[dict]) -> bool:
    """Make the draft's items equal to ``items`` (matched by code). True if anything changed."""
    current = {i.code: i for i in tpl.items}
    wanted = {i["code"]: i for i in items}
    changed = False
    for code, item in list(current.items()):
        if code not in wanted:
            tpl.items.remove(item)
            changed = True
    if changed:
        session.flush()  # deletes before inserts: a code may come back
    for data in items:
        item = current.get(data["code"])
        if item is None:
            tpl.items.append(ChecklistItem(id=new_id(), **{k: data[k] for k in ITEM_FIELDS}))
            changed = True
        elif _item_row(item) != _dict_row(data):
            for k in ITEM_FIELDS:
                if getattr(item, k) != data[k]:
                    setattr(item, k, data[k])
            changed = True
    return changed


def create_template(session: Session, actor: Actor, data: dict) -> ChecklistTemplate:
    allocate_seq(session, 0)
    code = _check_code(data.get("code"))
    if not (data.get("title") or "").strip():
        raise _field_error("title", "检查表名称不能为空 (title is required)")
    if session.scalars(select(ChecklistTemplate.id).where(ChecklistTemplate.code == code)).first():
        raise TemplateCodeTaken(details={"fields": {"code": ["exists"]}})
    items = check_item_clauses(session, _items_or_raise(data.get("items") or []))  # services/criteria
    tpl = ChecklistTemplate(id=new_id(), code=code, title=data["title"].strip(), version=1, status="draft",
                            description=data.get("description"), source=data.get("source"),
                            created_by_id=actor.id)
    session.add(tpl)
    for item in items:
        tpl.items.append(ChecklistItem(id=new_id(), **item))
    session.flush()
    record_event(session, actor, "checklist.created", tpl, to_state="draft",
                 data={"code": code, "version": 1, "items": len(items)})
    return tpl


def update_template(session: Session, actor: Actor, tpl: ChecklistTemplate, data: dict) -> ChecklistTemplate:
    _require_draft(tpl)
    changes = {}
    for key in TEMPLATE_FIELDS:
        if key in data and getattr(tpl, key) != data[key]:
            if key == "title" and not (data[key] or "").strip():
                raise _field_error("title", "检查表名称不能为空 (title is required)")
            changes[key] = [getattr(tpl, key), data[key]]
            setattr(tpl, key, data[key])
    if "items" in data:
        items = check_item_clauses(session, _items_or_raise(data["items"]))  # services/criteria
        if _replace_items(session, tpl, items):
            changes["items"] = len(items)
    if changes:
        tpl.updated_at = utcnow()
        session.flush()
        record_event(session, actor, "checklist.updated", tpl, data=changes)
    return tpl


def add_item(session: Session, actor: Actor, tpl: ChecklistTemplate, data: dict) -> ChecklistItem:
    _require_draft(tpl)
    raw = dict(data)
    if raw.get("position") is None:
        raw["position"] = (max((i.position for i in tpl.items), default=0)) + 1
    if not raw.get("code"):
        raw["code"] = f"{len(tpl.items) + 1:03d}"
    item = check_item_clauses(session, _items_or_raise([raw]))[0]  # services/criteria
    if any(i.code == item["code"] for i in tpl.items):
        raise Conflict(f"编号 {item['code']} 已存在 (item code exists)", code="item_code_taken",
                       details={"fields": {"code": ["exists"]}})
    obj = ChecklistItem(id=new_id(), **item)
    tpl.items.append(obj)
    tpl.updated_at = utcnow()
    session.flush()
    record_event(session, actor, "checklist.item_added", tpl, data={"item": item})
    return obj


def update_item(session: Session, actor: Actor, tpl: ChecklistTemplate, item: ChecklistItem,
                data: dict) -> ChecklistItem:
    _require_draft(tpl)
    merged = {k: data.get(k, getattr(item, k)) for k in ITEM_FIELDS}
    checked = check_item_clauses(session, _items_or_raise([merged]))[0]  # services/criteria
    if checked["code"] != item.code and any(i.code == checked["code"] for i in tpl.items if i is not item):
        raise Conflict(f"编号 {checked['code']} 已存在 (item code exists)", code="item_code_taken",
                       details={"fields": {"code": ["exists"]}})
    changes = {k: [getattr(item, k), checked[k]] for k in ITEM_FIELDS if getattr(item, k) != checked[k]}
    if changes:
        for k, (_old, new) in changes.items():
            setattr(item, k, new)
        tpl.updated_at = utcnow()
        session.flush()
        record_event(session, actor, "checklist.item_updated", tpl, data={"item_id": item.id, **changes})
    return item


def delete_item(session: Session, actor: Actor, tpl: ChecklistTemplate, item: ChecklistItem) -> None:
    _require_draft(tpl)
    tpl.items.remove(item)
    tpl.updated_at = utcnow()
    session.flush()
    record_event(session, actor, "checklist.item_deleted", tpl, data={"item_id": item.id, "code": item.code})


def latest_version(session: Session, code: str) -> ChecklistTemplate | None:
    return session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == code)
                           .order_by(ChecklistTemplate.version.desc()).limit(1)).first()


def new_version(session: Session, actor: Actor, tpl: ChecklistTemplate) -> ChecklistTemplate:
    """A draft copy of the latest version of ``tpl.code`` with version + 1."""
    allocate_seq(session, 0)
    latest = latest_version(session, tpl.code)
    if latest.status == "draft":
        raise DraftExists(details={"draft_id": latest.id, "version": latest.version})
    copy = ChecklistTemplate(id=new_id(), code=latest.code, title=latest.title, version=latest.version + 1,
                             status="draft", description=latest.description, source=latest.source,
                             created_by_id=actor.id)
    session.add(copy)
    for item in latest.items:
        copy.items.append(ChecklistItem(id=new_id(), **{k: getattr(item, k) for k in ITEM_FIELDS}))
    session.flush()
    record_event(session, actor, "checklist.version_created", copy, to_state="draft",
                 data={"code": copy.code, "version": copy.version, "from_version": latest.version})
    return copy


def publish_template(session: Session, actor: Actor, tpl: ChecklistTemplate) -> ChecklistTemplate:
    allocate_seq(session, 0)
    if tpl.status != "draft":
        raise NotDraft(details={"status": tpl.status})
    if not tpl.items:
        raise ValidationError("检查表至少需要一个检查项 (a checklist needs at least one item)",
                              details={"fields": {"items": ["empty"]}})
    previous = session.scalars(select(ChecklistTemplate).where(
        ChecklistTemplate.code == tpl.code, ChecklistTemplate.status == "published",
        ChecklistTemplate.id != tpl.id).with_for_update()).all()
    now = utcnow()
    for old in previous:
        old.status = "retired"
        record_event(session, actor, "checklist.retired", old, from_state="published", to_state="retired",
                     reason=f"superseded by version {tpl.version}")
    tpl.status = "published"
    tpl.published_at = now
    session.flush()
    record_event(session, actor, "checklist.published", tpl, from_state="draft", to_state="published",
                 data={"code": tpl.code, "version": tpl.version, "items": len(tpl.items)})
    return tpl


# ---------------------------------------------------------------------------
# import (XLSX / JSON)


@dataclass
class ChecklistImportReport:
    code: str | None
    title: str | None
    format: str
    action: str = "failed"  # created | updated | new_version | unchanged | failed
    template_id: str | None = None
    version: int | None = None
    status: str | None = None
    published: bool = False
    items: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_checklist_file(data: bytes, filename: str | None = None, *, code: str | None = None,
                        title: str | None = None) -> tuple[dict, list[int], str]:
    """(template dict, row number of each item, format) from JSON or XLSX.

    JSON: ``{"code", "title", "description"?, "source"?, "items": [{code, category, content, basis,
    major_criterion_code}]}``. XLSX: the first sheet, one item per row (编号, 类别, 检查内容, 检查依据,
    重大隐患判定标准); ``code`` and ``title`` come from the arguments (they override JSON's too).
    """
    if not data:
        raise ImportFileError("导入文件为空 (the file is empty)")
    stripped = data.lstrip()
    if stripped[:3] == b"\xef\xbb\xbf":
        stripped = stripped[3:]
    if stripped[:1] in (b"{", b"["):
        try:
            doc = json.loads(stripped.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFileError(f"JSON 格式错误：{exc} (malformed JSON)") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list) \
                or not all(isinstance(i, dict) for i in doc["items"]):
            raise ImportFileError("JSON 应为含 items 数组的对象 (expected an object with an items array)")
        template = {k: doc.get(k) for k in ("code", "title", "description", "source")}
        template["items"] = [{k: i.get(k) for k in ITEM_FIELDS} for i in doc["items"]]
        rows = [n + 1 for n in range(len(doc["items"]))]
        fmt = "json"
    else:
        table = read_table(data, filename, columns=CHECKLIST_COLUMNS, required=("category", "content"))
        items, rows = [], []
        for number, cells in table.rows:
            item = {}
            for key, index in table.columns.items():
                item[key] = _cell_text(cells[index]) if index < len(cells) else None
            items.append(item)
            rows.append(number)
        template = {"code": None, "title": table.sheet, "description": None, "source": None, "items": items}
        fmt = table.format
    if code:
        template["code"] = code
    if title:
        template["title"] = title
    return template, rows, fmt


def import_checklist(session: Session, actor: Actor, template: dict, rows: list[int] | None = None, *,
                     fmt: str = "json", publish: bool = False) -> ChecklistImportReport:
    """Import one checklist; all or nothing (a checklist missing some of its items is worse than none).

    No template with the code: version 1 is created (draft). The latest version is a draft: its items
    and texts are replaced. The latest is published/retired: identical content changes nothing, else a
    new version (draft) holds the import. With ``publish`` the resulting draft is published.
    """
    allocate_seq(session, 0)
    report = ChecklistImportReport(code=template.get("code"), title=template.get("title"), format=fmt)
    rows = rows or list(range(1, len(template.get("items") or []) + 1))
    try:
        code = _check_code(template.get("code"))
    except ValidationError:
        report.errors.append({"row": None, "reason": "缺少或非法的检查表编码 (code)"})
        report.failed = 1
        return report
    title = (template.get("title") or "").strip()
    if not title:
        report.errors.append({"row": None, "reason": "缺少检查表名称 (title)"})
        report.failed = 1
        return report
    items, errors = check_items(template.get("items") or [])
    report.errors = [{"row": rows[e["index"]], "code": e["code"], "reason": e["reason"]} for e in errors]
    report.failed = len(errors)
    if errors:
        return report
    if not items:
        report.errors.append({"row": None, "reason": "没有检查项 (no items)"})
        report.failed = 1
        return report
    try:
        items = check_item_clauses(session, items)  # services/criteria: HC2017-NN codes linked to clauses
    except ValidationError as exc:
        report.errors.append({"row": None, "reason": exc.message})
        report.failed = 1
        return report
    report.items = len(items)
    texts = {"title": title, "description": template.get("description"), "source": template.get("source")}

    latest = latest_version(session, code)
    if latest is None:
        tpl = create_template(session, actor, {"code": code, **texts, "items": items})
        report.action = "created"
    elif latest.status == "draft":
        before = latest.updated_at
        tpl = update_template(session, actor, latest, {**texts, "items": items})
        report.action = "updated" if tpl.updated_at != before else "unchanged"
    else:
        same = (latest.title, latest.description, latest.source) == (texts["title"], texts["description"],
                                                                     texts["source"]) \
            and sorted(_item_row(i) for i in latest.items) == sorted(_dict_row(i) for i in items)
        if same:
            tpl = latest
            report.action = "unchanged"
        else:
            tpl = new_version(session, actor, latest)
            update_template(session, actor, tpl, {**texts, "items": items})
            report.action = "new_version"
    if publish and tpl.status == "draft":
        publish_template(session, actor, tpl)
        report.published = True
    report.template_id, report.version, report.status = tpl.id, tpl.version, tpl.status
    return report


def import_checklist_file(session: Session, actor: Actor, data: bytes, filename: str | None = None, *,
                          code: str | None = None, title: str | None = None,
                          publish: bool = False) -> ChecklistImportReport:
    template, rows, fmt = read_checklist_file(data, filename, code=code, title=title)
    return import_checklist(session, actor, template, rows, fmt=fmt, publish=publish)


def template_counts(session: Session, template_ids: list[str]) -> dict[str, int]:
    if not template_ids:
        return {}
    return dict(session.execute(select(ChecklistItem.template_id, func.count()).where(
        ChecklistItem.template_id.in_(template_ids)).group_by(ChecklistItem.template_id)).all())


def with_items():
    return selectinload(ChecklistTemplate.items)
