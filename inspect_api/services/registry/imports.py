"""Bulk import of enterprises from XLSX / CSV spreadsheets.

Reading (``read_table``): XLSX through openpyxl (read-only, values only) or
CSV in UTF-8 (with or without BOM) falling back to GB18030. The header row
is the first row (within the first ten) that names a credit-code column and
a name column; row numbers in the report are those the spreadsheet shows
(header on row 1 -> first data row is 2). Blank rows are skipped.

Importing (``import_enterprises``): every good row is imported, every bad row
is reported with its row number and a reason in Chinese. Rows are matched on
the credit code (统一社会信用代码): an unknown code creates an enterprise, a
known one is updated only in the columns that differ — a file imported twice
writes nothing the second time (no rows, no audit events, no sync cursor
bumps). Blank optional cells leave the stored value alone. Existing
enterprises are loaded with one query per 500 codes, not one per row.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import AppError, ValidationError
from ...models import Enterprise, Region
from ..access.actor import Actor
from ..access.audit import record_event
from .enterprises import (
    OutsideJurisdiction, apply_update, can_manage_region, check_fields, create_enterprise, diff_fields,
)

MAX_ROWS = 50_000

# canonical field -> accepted header spellings (compared after removing spaces, brackets' content kept)
ENTERPRISE_COLUMNS = {
    "uscc": ["统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "uscc", "credit_code", "creditcode",
             "unified_social_credit_code"],
    "name": ["企业名称", "单位名称", "被检查单位名称", "企业(单位)名称", "name", "enterprise_name", "company",
             "company_name"],
    "region": ["所属区县/行政区划代码", "所属区县", "区县", "所属区域", "所属地区", "属地", "行政区划",
               "region", "county", "region_name", "district"],
    "region_code": ["行政区划代码", "区划代码", "所属区县代码", "region_code", "region_id", "division_code"],
    "address": ["地址", "生产经营地址", "经营地址", "企业地址", "注册地址", "详细地址", "address"],
    "industry": ["行业", "所属行业", "行业类别", "行业代码", "国民经济行业分类", "industry", "industry_code"],
    "scale": ["企业规模", "规模", "scale", "size"],
    "major_hazard_level": ["重大危险源等级", "重大危险源", "重大危险源级别", "是否重大危险源/等级",
                           "major_hazard_level", "major_hazard"],
    "risk_color": ["风险等级", "安全风险等级", "风险等级(红/橙/黄/蓝)", "风险颜色", "风险分级", "四色等级",
                   "risk_color", "risk_level", "risk"],
    "hazardous_processes": ["重点监管危险化工工艺", "危险化工工艺", "重点监管工艺", "涉及危险化工工艺",
                            "hazardous_processes", "processes"],
    "legal_representative": ["法定代表人", "法人代表", "法人", "legal_representative"],
    "safety_contact": ["联系人", "安全负责人", "安全联系人", "安全管理负责人", "contact", "safety_contact",
                       "contact_person"],
    "contact_phone": ["联系电话", "电话", "联系方式", "手机", "phone", "contact_phone", "tel"],
    "latitude": ["纬度", "latitude", "lat"],
    "longitude": ["经度", "longitude", "lng", "lon"],
    "note": ["备注", "note", "remark", "remarks"],
}
REQUIRED_COLUMNS = ("uscc", "name")
# One refusal for every row the importer may not write, whatever the reason: existing elsewhere or new in a
# county outside the importer's jurisdiction (no existence or content oracle across jurisdictions)
OUT_OF_SCOPE = "该企业或所属区县不在您的管辖范围内 (the enterprise or its county is outside your jurisdiction)"

_RISK = {"红": "red", "红色": "red", "重大风险": "red", "red": "red",
         "橙": "orange", "橙色": "orange", "较大风险": "orange", "orange": "orange",
         "黄": "yellow", "黄色": "yellow", "一般风险": "yellow", "yellow": "yellow",
         "蓝": "blue", "蓝色": "blue", "低风险": "blue", "blue": "blue"}
_SCALE = {"大型": "large", "大": "large", "large": "large", "中型": "medium", "中": "medium", "medium": "medium",
          "小型": "small", "小": "small", "small": "small", "微型": "micro", "微": "micro", "micro": "micro"}
_LEVEL = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "一": 1, "二": 2, "三": 3, "四": 4,
          "1": 1, "2": 2, "3": 3, "4": 4, "1级": 1, "2级": 2, "3级": 3, "4级": 4,
          "无": 0, "否": 0, "0": 0, "不构成": 0, "非重大危险源": 0, "none": 0, "no": 0}
# coded columns: (field, accepted spellings -> value, 表头, what is allowed), checked in this order
_CODED_COLUMNS = [
    ("scale", _SCALE, "企业规模", "大型/中型/小型/微型"),
    ("major_hazard_level", _LEVEL, "重大危险源等级", "无/一级/二级/三级/四级"),
    ("risk_color", _RISK, "风险等级", "红/橙/黄/蓝"),
]
_PROCESS_SPLIT = re.compile(r"[、,，;；/|\n]+")

# A cell saying "(清空)" clears an optional field; a blank cell leaves the field as it is (docs/registry.md)
CLEAR_MARKERS = {"(清空)", "（清空）", "[清空]", "【清空】"}
CLEARABLE = ("address", "legal_representative", "safety_contact", "contact_phone", "note", "industry", "scale",
             "risk_color", "hazardous_processes", "latitude", "longitude")


def _is_clear(value: str | None) -> bool:
    return value is not None and value.strip() in CLEAR_MARKERS


class ImportFileError(AppError):
    status = 422
    code = "import_file_invalid"
    message = "无法读取导入文件 (the import file cannot be read)"


@dataclass
class Table:
    format: str
    header_row: int
    columns: dict[str, int]  # canonical field -> column index
    rows: list[tuple[int, list]]  # (spreadsheet row number, cell values)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None


def _norm_header(value) -> str:
    text = "" if value is None else str(value)
    text = text.strip().lower().replace(" ", "").replace("\u3000", "").replace("（", "(").replace("）", ")")
    return text.replace("*", "").replace("＊", "")


def _alias_index(columns: dict[str, list[str]]) -> dict[str, str]:
    index = {}
    for canonical, aliases in columns.items():
        for alias in aliases:
            index[_norm_header(alias)] = canonical
    return index


def _map_header(cells: list, columns: dict[str, list[str]]) -> tuple[dict[str, int], list[str]]:
    aliases = _alias_index(columns)
    mapping: dict[str, int] = {}
    ignored = []
    for i, cell in enumerate(cells):
        key = _norm_header(cell)
        if not key:
            continue
        canonical = aliases.get(key)
        if canonical is None:
            # "风险等级（红/橙/黄/蓝）" and the like: match on the text before a bracket
            canonical = aliases.get(key.split("(")[0])
        if canonical and canonical not in mapping:
            mapping[canonical] = i
        else:
            ignored.append(str(cell).strip())
    return mapping, ignored


def _cell_text(value) -> str | None:
    """A cell as text: numbers without a trailing .0, blanks as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("文件编码无法识别，请使用 UTF-8 或 GB18030 (unknown text encoding)")


def _csv_rows(data: bytes) -> tuple[list[tuple[int, list]], str]:
    text, encoding = decode_csv(data)
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            # csv.reader's line_num counts physical lines; the spreadsheet row is the record index
            rows.append((len(rows) + 1, row))
            if len(rows) > MAX_ROWS + 10:
                raise ImportFileError(f"行数超过上限 {MAX_ROWS} (too many rows)")
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误：{exc} (malformed CSV)") from exc
    return rows, encoding


def _xlsx_rows(data: bytes) -> tuple[list[tuple[int, list]], str]:
    from openpyxl import load_workbook

    broken = "XLSX 文件已损坏或不是 Excel 2007+ 格式 (not a readable .xlsx file)"
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, ParseError, TypeError …: hostile or odd files
        raise ImportFileError(broken) from exc
    try:
        return _sheet_rows(wb)
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(broken) from exc
    finally:
        wb.close()


def _sheet_rows(wb) -> tuple[list[tuple[int, list]], str]:
    """Non-blank rows of the first sheet as (spreadsheet row number, values)."""
    ws = wb.worksheets[0]
    rows = []
    counter = 0
    for cells in ws.iter_rows():
        counter += 1
        # read-only cells know their row; EmptyCell fillers do not
        number = next((c.row for c in cells if getattr(c, "row", None)), None) or counter
        counter = number
        values = [getattr(c, "value", None) for c in cells]
        if any(v is not None and str(v).strip() for v in values):
            rows.append((number, values))
        if len(rows) > MAX_ROWS + 10 or counter > 2 * MAX_ROWS:
            raise ImportFileError(f"行数超过上限 {MAX_ROWS} (too many rows)")
    return rows, ws.title


def sniff_format(data: bytes, filename: str | None = None) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV (legacy .xls is not supported)")
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        raise ImportFileError("XLSX 文件已损坏 (not a readable .xlsx file)")
    return "csv"


def read_table(data: bytes, filename: str | None = None, columns: dict[str, list[str]] = ENTERPRISE_COLUMNS,
               required: tuple[str, ...] = REQUIRED_COLUMNS) -> Table:
    """Read a spreadsheet into a Table of raw cells keyed by canonical column."""
    if not data:
        raise ImportFileError("导入文件为空 (the file is empty)")
    fmt = sniff_format(data, filename)
    encoding = sheet = None
    if fmt == "xlsx":
        raw_rows, sheet = _xlsx_rows(data)
    else:
        raw_rows, encoding = _csv_rows(data)
    for position, (number, cells) in enumerate(raw_rows[:10]):
        mapping, ignored = _map_header(cells, columns)
        if all(c in mapping for c in required):
            body = [(n, list(c)) for n, c in raw_rows[position + 1:]
                    if any(v is not None and str(v).strip() for v in c)]
            if len(body) > MAX_ROWS:
                raise ImportFileError(f"行数超过上限 {MAX_ROWS} (too many rows)")
            return Table(format=fmt, header_row=number, columns=mapping, rows=body, ignored_columns=ignored,
                         encoding=encoding, sheet=sheet)
    names = "、".join(columns[c][0] for c in required)
    raise ImportFileError(f"未找到表头：需要包含 {names} 列 (header row with the required columns not found)",
                          code="import_missing_columns", details={"required": list(required)})


# ---------------------------------------------------------------------------
# enterprises


@dataclass
class ImportReport:
    format: str
    encoding: str | None
    sheet: str | None
    header_row: int
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    dry_run: bool = False
    skipped_examples: int = 0  # rows marked as the template's example (备注 starts with EXAMPLE_MARK)
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class _RegionResolver:
    """Region codes and names (桃城区, 衡水市桃城区, 131102) from one query."""

    def __init__(self, session: Session):
        self.codes: set[str] = set()
        self.by_name: dict[str, str] = {}
        regions = list(session.execute(select(Region.id, Region.name, Region.parent_id)))
        names = {rid: name for rid, name, _ in regions}
        for rid, name, parent in regions:
            self.codes.add(rid)
            self.by_name.setdefault(name, rid)
            if parent and parent in names:
                self.by_name.setdefault(names[parent] + name, rid)

    def resolve(self, name: str | None, code: str | None) -> tuple[str | None, str | None]:
        """(code, error)"""
        if code:
            code = code.strip()
            if code not in self.codes:
                return None, f"行政区划代码不存在：{code}"
        by_name = None
        if name:
            name = name.strip().replace(" ", "")
            if name.isdigit():
                if name not in self.codes:
                    return None, f"行政区划代码不存在：{name}"
                by_name = name
            else:
                by_name = self.by_name.get(name) or self.by_name.get(name.replace("河北省", ""))
                if by_name is None:
                    return None, f"所属区县不存在：{name}"
        if code and by_name and code != by_name:
            return None, f"所属区县“{name}”与行政区划代码 {code} 不一致"
        result = code or by_name
        if not result:
            return None, "所属区县/行政区划代码不能为空"
        return result, None


def _parse_enterprise_row(cells: list, columns: dict[str, int],
                          regions: _RegionResolver) -> tuple[dict, dict]:
    """(fields for check_fields, {field: reason}) from one row; blank optional cells are left out."""
    def get(name):
        i = columns.get(name)
        return _cell_text(cells[i]) if i is not None and i < len(cells) else None

    data: dict = {}
    errors: dict[str, str] = {}
    uscc = get("uscc")
    if not uscc:
        errors["uscc"] = "统一社会信用代码不能为空"
    else:
        data["uscc"] = uscc
    name = get("name")
    if not name:
        errors["name"] = "企业名称不能为空"
    else:
        data["name"] = name
    if "region" in columns or "region_code" in columns:
        code, reason = regions.resolve(get("region"), get("region_code"))
        if reason:
            errors["region_code"] = reason
        else:
            data["region_code"] = code
    for key in CLEARABLE:
        if _is_clear(get(key)):
            # "(清空)": the field is cleared (a blank cell leaves it as it is)
            data[key] = [] if key == "hazardous_processes" else None
    for key in ("address", "legal_representative", "safety_contact", "contact_phone", "note"):
        value = get(key)
        if value is not None and key not in data:
            data[key] = value
    industry = get("industry")
    if industry is not None and "industry" not in data:
        data["industry"] = industry
    for key, table, label, allowed in _CODED_COLUMNS:
        value = get(key)
        if value is None or key in data:
            continue
        lowered = value.lower()
        if key == "major_hazard_level":
            lowered = lowered.replace("重大危险源", "") or lowered
        mapped = table.get(lowered)
        if mapped is None:
            errors[key] = f"{label}“{value}”无法识别，应为 {allowed}"
        else:
            data[key] = mapped
    processes = get("hazardous_processes")
    if processes is not None and "hazardous_processes" not in data:
        parts = [p for p in _PROCESS_SPLIT.split(processes) if p.strip()]
        if parts in (["无"], ["否"]):
            parts = []
        data["hazardous_processes"] = parts
    for key in ("latitude", "longitude"):
        value = get(key)
        if value is not None and key not in data:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):  # float() takes "nan" and "inf": not coordinates
                errors[key] = f"{'纬度' if key == 'latitude' else '经度'}“{value}”不是数字"
            else:
                data[key] = number
    return data, errors


def _zh_reason(reason: str) -> str:
    """Service messages are 'zh (en)': the report shows the Chinese part."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", reason)


def import_enterprises(session: Session, actor: Actor, table: Table, *,
                       dry_run: bool = False) -> ImportReport:
    report = ImportReport(format=table.format, encoding=table.encoding, sheet=table.sheet,
                          header_row=table.header_row, dry_run=dry_run, ignored_columns=table.ignored_columns)
    if "region" not in table.columns and "region_code" not in table.columns:
        raise ImportFileError("缺少“所属区县/行政区划代码”列 (a region column is required)",
                              code="import_missing_columns", details={"required": ["region"]})
    regions = _RegionResolver(session)
    report.total_rows = len(table.rows)

    def fail(number, data, reasons: dict):
        report.failed += 1
        zh = {k: _zh_reason(v) for k, v in reasons.items()}
        report.errors.append({
            "row": number, "uscc": data.get("uscc"), "name": data.get("name"),
            "reason": "；".join(zh.values()),
            "fields": zh,
        })

    good: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        if is_example_row(cells, table.columns):
            report.skipped_examples += 1
            report.total_rows -= 1
            continue
        data, errors = _parse_enterprise_row(cells, table.columns, regions)
        if not errors:
            try:
                data = check_fields(session, data, regions=regions.codes)
            except ValidationError as exc:
                errors = {k: v[0] for k, v in exc.details["fields"].items()}
        if not errors and data["uscc"] in seen:
            errors = {"uscc": f"统一社会信用代码与第 {seen[data['uscc']]} 行重复"}
        if errors:
            fail(number, data, errors)
            continue
        seen[data["uscc"]] = number
        good.append((number, data))

    existing: dict[str, Enterprise] = {}
    codes = [d["uscc"] for _, d in good]
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        for ent in session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk))):
            existing[ent.uscc] = ent

    for number, data in good:
        ent = existing.get(data["uscc"])
        if ent is not None and not can_manage_region(actor, ent.region_id):
            # another jurisdiction's enterprise: refused exactly like a new code in another county, so the
            # import tells nothing about it (neither that it exists nor whether the row matches it)
            fail(number, data, {"region_code": OUT_OF_SCOPE})
            continue
        if ent is None:
            if "region_code" not in data:
                fail(number, data, {"region_code": "所属区县/行政区划代码不能为空"})
                continue
            if not can_manage_region(actor, data["region_code"]):
                fail(number, data, {"region_code": OUT_OF_SCOPE})
                continue
            if not dry_run:
                create_enterprise(session, actor, data, checked=True, flush=False)
            report.created += 1
            continue
        revive = ent.deleted_at is not None
        if not diff_fields(ent, data) and not revive:
            report.unchanged += 1
            continue
        if dry_run:
            report.updated += 1
            continue
        try:
            apply_update(session, actor, ent, data, action="enterprise.imported")
        except OutsideJurisdiction:
            fail(number, data, {"region_code": OUT_OF_SCOPE})
            continue
        if revive:
            ent.deleted_at = None
            record_event(session, actor, "enterprise.restored", ent, reason="imported again")
        report.updated += 1
    if not dry_run and (report.created or report.updated):
        session.flush()
        record_event(session, actor, "enterprise.bulk_import", None, table="enterprises", data={
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "failed": report.failed, "format": report.format,
        })
    return report


def import_enterprises_file(session: Session, actor: Actor, data: bytes, filename: str | None = None, *,
                            dry_run: bool = False) -> ImportReport:
    return import_enterprises(session, actor, read_table(data, filename), dry_run=dry_run)


TEMPLATE_HEADER = ["统一社会信用代码", "企业名称", "所属区县", "地址", "行业", "企业规模", "重大危险源等级",
                   "风险等级（红/橙/黄/蓝）", "重点监管危险化工工艺", "法定代表人", "联系人", "联系电话", "纬度", "经度",
                   "备注"]
# The template's example row says so in its 备注 cell; a row whose 备注 starts with this is never imported.
EXAMPLE_MARK = "【示例行】"


def is_example_row(cells: list, columns: dict[str, int]) -> bool:
    i = columns.get("note")
    if i is None or i >= len(cells):
        return False
    return (_cell_text(cells[i]) or "").startswith(EXAMPLE_MARK)


def _example_row(example_uscc: str) -> list:
    return [example_uscc, "衡水示例化工有限公司", "桃城区", "衡水市桃城区某某路1号", "C2614", "中型", "三级", "橙",
            "氯化工艺、加氢工艺", "张三", "李四", "0318-1234567", 37.739, 115.670,
            EXAMPLE_MARK + "填写示例，导入时自动跳过；可保留或删除"]


def enterprise_template_csv(example_uscc: str) -> bytes:
    """The import template as CSV (UTF-8 with BOM, so that Excel opens it in Chinese): header + example row."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(_example_row(example_uscc))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def enterprise_template_xlsx(example_uscc: str) -> bytes:
    """A blank import spreadsheet: the header, one example row, and a sheet explaining the columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .enterprises import HAZARDOUS_PROCESSES, INDUSTRIES

    wb = Workbook()
    ws = wb.active
    ws.title = "企业名录"
    ws.append(TEMPLATE_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(_example_row(example_uscc))
    for column, width in zip("ABCDEFGHIJKLMNO", (22, 30, 12, 32, 8, 10, 14, 20, 28, 12, 10, 16, 10, 10, 20)):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("填写说明")
    help_ws.append(["列", "说明"])
    for row in (
        ("统一社会信用代码", "必填，18位，按 GB 32100 校验；同一代码重复导入时更新该企业"),
        ("企业名称", "必填"),
        ("所属区县", "必填：区县名称（如 桃城区）或行政区划代码（如 131102）"),
        ("行业", "GB/T 4754-2017 国民经济行业分类代码，如 C26 或 C2614；也可写下列名称"),
        ("备注", f"以“{EXAMPLE_MARK}”开头的行是填写示例，导入时自动跳过"),
        ("企业规模", "大型 / 中型 / 小型 / 微型"),
        ("重大危险源等级", "无 / 一级 / 二级 / 三级 / 四级"),
        ("风险等级", "红 / 橙 / 黄 / 蓝"),
        ("重点监管危险化工工艺", "多个用顿号、逗号或分号分隔；可选值见下"),
        ("空白单元格", "更新已有企业时，空白的选填单元格保留原值"),
    ):
        help_ws.append(list(row))
    help_ws.append([])
    help_ws.append(["重点监管危险化工工艺（18种）", "、".join(HAZARDOUS_PROCESSES)])
    help_ws.append(["行业代码（GB/T 4754-2017）", "；".join(f"{k} {v}" for k, v in INDUSTRIES.items())])
    help_ws.column_dimensions["A"].width = 28
    help_ws.column_dimensions["B"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def enterprise_template(fmt: str = "xlsx") -> tuple[bytes, str, str]:
    """(bytes, MIME type, file name) of the import template in ``fmt`` (xlsx or csv)."""
    from .uscc import make_uscc

    example = make_uscc("131102", 1)
    if fmt == "csv":
        return enterprise_template_csv(example), "text/csv; charset=utf-8", "企业导入模板.csv"
    return (enterprise_template_xlsx(example),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "企业导入模板.xlsx")
