"""Import a catalogue from XLSX / CSV (one clause per row, read with the registry's tabular reader) or
JSON (``{"catalogue": {...}, "clauses": [{number, group, text, guidance}]}``), with a row-by-row report.

The catalogue's metadata comes from the JSON's ``catalogue`` object or, for a spreadsheet, from the form
/ command-line fields (code, title, doc_no, kind, industries, region_code, effective_from, effective_to,
replaces_id, source). Any bad row — a missing or duplicate clause number, a gap in the numbering, an
empty text — refuses the whole import (422 ``criteria_import_invalid`` with the report), and nothing is
written: a standard is imported whole or not at all. ``dry_run`` checks and reports without writing.
An import makes a draft; publishing is a separate step (catalogues.publish_catalogue).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ...errors import AppError
from ..access.actor import Actor
from ..registry.imports import ImportFileError, _cell_text, read_table
from .catalogues import check_catalogue_fields, check_clauses, create_catalogue, require_admin

CLAUSE_COLUMNS = {
    "number": ["条款号", "条款编号", "序号", "编号", "条款", "number", "clause", "clause_number", "no"],
    "group": ["分组", "类别", "条款分组", "group", "category", "group_title"],
    "text": ["条款内容", "判定情形", "内容", "重大事故隐患情形", "text", "content"],
    "guidance": ["释义", "说明", "判定说明", "指引", "guidance", "note"],
}
REQUIRED = ("number", "text")
TEMPLATE_HEADER = ["条款号", "分组", "条款内容", "释义"]


class CriteriaImportInvalid(AppError):
    status = 422
    code = "criteria_import_invalid"
    message = "导入文件有错误，未导入任何条款 (the import has errors; nothing was imported)"


@dataclass
class CriteriaImportReport:
    format: str
    total_rows: int = 0
    clauses: int = 0
    failed: int = 0
    dry_run: bool = False
    catalogue_id: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _json_source(data: bytes) -> tuple[dict, list[dict]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFileError(f"JSON 格式错误：{exc} (malformed JSON)") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("clauses"), list):
        raise ImportFileError("JSON 须为 {\"catalogue\": {...}, \"clauses\": [...]} (JSON shape)")
    meta = doc.get("catalogue") or {}
    if not isinstance(meta, dict):
        raise ImportFileError("catalogue 须为对象 (catalogue must be an object)")
    rows = []
    for index, item in enumerate(doc["clauses"], start=1):
        item = item if isinstance(item, dict) else {}
        rows.append({"row": index, "number": _cell_text(item.get("number")), "group": item.get("group"),
                     "text": item.get("text"), "guidance": item.get("guidance")})
    return meta, rows


def read_catalogue_file(data: bytes, filename: str | None = None) -> tuple[str, dict, list[dict], list[str]]:
    """(format, metadata from the file, clause rows, ignored columns)."""
    if not data:
        raise ImportFileError("导入文件为空 (the file is empty)")
    name = (filename or "").lower()
    if name.endswith(".json") or data.lstrip()[:1] in (b"{", b"["):
        meta, rows = _json_source(data)
        return "json", meta, rows, []
    table = read_table(data, filename, columns=CLAUSE_COLUMNS, required=REQUIRED)
    rows = []
    for number, cells in table.rows:
        def cell(key):
            i = table.columns.get(key)
            return _cell_text(cells[i]) if i is not None and i < len(cells) else None
        rows.append({"row": number, "number": cell("number"), "group": cell("group"), "text": cell("text"),
                     "guidance": cell("guidance")})
    return table.format, {}, rows, table.ignored_columns


def import_catalogue(session: Session, actor: Actor, data: bytes, filename: str | None = None, *,
                     metadata: dict | None = None, dry_run: bool = False) -> CriteriaImportReport:
    """Check a catalogue file row by row; unless ``dry_run`` or an error, create it as a draft."""
    require_admin(actor)
    fmt, file_meta, rows, ignored = read_catalogue_file(data, filename)
    meta = {**file_meta, **{k: v for k, v in (metadata or {}).items() if v not in (None, "")}}
    report = CriteriaImportReport(format=fmt, total_rows=len(rows), dry_run=dry_run, ignored_columns=ignored)
    clauses, errors = check_clauses(rows)
    report.errors = errors
    report.failed = len({e["row"] for e in errors if e["row"] is not None}) + sum(e["row"] is None for e in errors)
    report.clauses = len(clauses)
    try:
        check_catalogue_fields(session, meta)
    except AppError as exc:
        report.errors.insert(0, {"row": None, "number": None, "reason": exc.message,
                                 "fields": exc.details.get("fields", {})})
    if not rows:
        report.errors.append({"row": None, "number": None, "reason": "文件中没有条款 (no clauses in the file)"})
    if report.errors:
        raise CriteriaImportInvalid(details={"report": report.as_dict()})
    if not dry_run:
        catalogue = create_catalogue(session, actor, meta, clauses)
        report.catalogue_id = catalogue.id
    return report


def catalogue_template_xlsx() -> bytes:
    """The blank clause sheet (条款号, 分组, 条款内容, 释义) and a sheet explaining the columns and fields."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "判定条款"
    ws.append(TEMPLATE_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(["5.1.1", "（示例分组）", "（示例：此处填写标准原文条款，导入前删除本行）", "（可选）"])
    for column, width in zip("ABCD", (10, 24, 80, 40)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["项目", "说明"])
    for row in (
        ("条款号", "必填，如 5.3.2 或 1；不得重复；同一上级编号下须从 1 连续编号（缺号视为漏条）"),
        ("分组", "选填，条款所属的分组（章节）名称"),
        ("条款内容", "必填，照录标准正式文本，不得改写或编造"),
        ("释义", "选填，判定说明或指引"),
        ("标准信息", "导入时另行填写：标准代码、名称、文号/标准号、类别（国家规定/行业标准/地方规定）、"
                 "适用行业（GB/T 4754 代码前缀，逗号分隔，空为全部）、施行日期、废止日期、替代的标准"),
        ("发布", "导入后为草稿；核对无误后由管理员发布，发布后不可修改"),
    ):
        help_ws.append(list(row))
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
