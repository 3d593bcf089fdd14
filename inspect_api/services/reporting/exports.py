"""Streamed exports: the two statistics tables and the hazard ledger (隐患台账), as XLSX and CSV.

Memory stays bounded whatever the row count: every block or chunk of rows is
written and handed on before the next is fetched. On PostgreSQL the ledger is one
statement over the whole period: CSV made by the server (``ledger_csv_copy``,
one ``COPY``), XLSX rows read on a server-side cursor (``ledger_stream``); on
SQLite it is read in chunks by keyset paging on (found_at, id) (``ledger_chunks``).

XLSX writer: ``XlsxStream`` writes the SpreadsheetML parts itself into a
``zipfile`` opened on an unseekable sink (entries carry data descriptors),
with inline strings (no shared-strings table to hold in memory) and
deflate level 1. Nothing is spooled to a temporary file, unlike openpyxl
``write_only`` and xlsxwriter ``constant_memory``, which both write the
whole uncompressed sheet XML to disk first and are 2-3x slower here (see
docs/stats.md for the figures).

CSV: UTF-8 with a BOM (so Excel opens the Chinese headers right), LF line ends.
Text cells a spreadsheet would take for a formula (``= + - @``, tab, CR at
the start) get a leading apostrophe in CSV (OWASP CSV injection); XLSX
inline strings are never formulas, so they are written as they are.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Iterable, Iterator

from sqlalchemy import (
    Date, DateTime, Integer, String, case, cast, func, literal, literal_column, select,
    tuple_, type_coerce,
)
from sqlalchemy.orm import Session, aliased

from ...models import ChecklistItem, Enterprise, Hazard, Region, User
from ..access.actor import Actor
from ..access.scope import scope_clause
from ..criteria import ledger as criteria_ledger
from .stats import (
    GRADE_LABELS, LOCAL_OFFSET_HOURS, LOCAL_TZ, StatsFilter, StatsTable, _industry_filter, _region_filter,
    dialect_name, region_label, require_stats_reader, tune_for_analytics,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")
LEDGER_CHUNK = 2000
# Excel holds 1,048,576 rows per sheet: title, period, header and totals take four
EXCEL_MAX_DATA_ROWS = 1_048_576 - 4

STATUS_LABELS = {
    "found": "已登记", "ordered": "已责令整改", "acknowledged": "企业已签收", "reported": "已报告整改",
    "rejected": "复查未通过", "verified": "复查通过待销号", "closed": "已销号",
}
LISTING_LABELS = {"province": "省级", "city": "市级", "county": "县级"}


@dataclass(frozen=True)
class ExportColumn:
    label: str
    kind: str  # text | int | rate | days | wan | money | date | datetime
    width: float = 12


# --------------------------------------------------------------------------- XLSX


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value) -> str:
    s = value if isinstance(value, str) else str(value)
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if _ILLEGAL_XML.search(s):
        s = _ILLEGAL_XML.sub("", s)
    return s


# cellXfs indexes in _STYLES
_S_TITLE, _S_SUB, _S_HEAD = 1, 2, 3
_S_KIND = {"text": 0, "int": 4, "rate": 5, "days": 5, "money": 5, "wan": 6, "date": 7, "datetime": 8}
_S_BOLD_KIND = {"text": 9, "int": 10, "rate": 11, "days": 11, "money": 11, "wan": 12, "date": 7, "datetime": 8}

_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="0.0000"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd"/>\
<numFmt numFmtId="166" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>
<fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font>\
<font><b/><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font>\
<font><b/><sz val="14"/><name val="宋体"/><family val="2"/><charset val="134"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="13">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center"/></xf>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>
<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="1" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
</Relationships>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
</Relationships>"""


class _Sink:
    """A write-only, unseekable file object: zipfile then writes data descriptors."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def excel_serial(value) -> float | None:
    """A date or aware datetime as an Excel serial number in Asia/Shanghai (1900 date system)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        local = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        delta = local - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    return float((value - date(1899, 12, 30)).days)


class XlsxStream:
    """One worksheet: title row, period/region row, bold frozen header, data rows, totals row.

    Values are already typed for their column: numbers (int / Decimal / float),
    Excel serial numbers for ``date`` / ``datetime`` columns (or date / datetime
    objects, converted here), str for text; None leaves the cell empty.
    """

    FLUSH_BYTES = 1 << 20

    def __init__(self, title: str, subtitle: str, columns: list[ExportColumn], sheet_name: str = "Sheet1"):
        self.title = title
        self.subtitle = subtitle
        self.columns = columns
        self.sheet_name = sheet_name[:31]
        self.letters = [_col_letter(i) for i in range(len(columns))]
        self.rownum = 0

    def _cell_xml(self, letter: str, rownum: int, kind: str, style: int, value) -> str:
        if value is None:
            return ""
        if kind == "text":
            s = f' s="{style}"' if style else ""
            return f'<c r="{letter}{rownum}" t="inlineStr"{s}><is><t xml:space="preserve">{xml_text(value)}</t></is></c>'
        if kind in ("date", "datetime") and not isinstance(value, (int, float)):
            value = excel_serial(value)
        if isinstance(value, Decimal):
            value = format(value, "f")
        return f'<c r="{letter}{rownum}" s="{style}"><v>{value}</v></c>'

    def _row(self, values, bold: bool = False) -> str:
        self.rownum += 1
        r = self.rownum
        styles = _S_BOLD_KIND if bold else _S_KIND
        cells = [self._cell_xml(letter, r, col.kind, styles[col.kind], v)
                 for letter, col, v in zip(self.letters, self.columns, values)]
        return f'<row r="{r}">{"".join(cells)}</row>'

    def _fixed_row(self, text: str, style: int) -> str:
        self.rownum += 1
        r = self.rownum
        return f'<row r="{r}"><c r="A{r}" t="inlineStr" s="{style}"><is><t>{xml_text(text)}</t></is></c></row>'

    def _data_rows(self, rows: list) -> str:
        """Fast path for plain data rows (no bold)."""
        out = []
        plan = list(zip(self.letters, [c.kind for c in self.columns], [_S_KIND[c.kind] for c in self.columns]))
        r = self.rownum
        for values in rows:
            r += 1
            cells = []
            append = cells.append
            for (letter, kind, style), v in zip(plan, values):
                if v is None:
                    continue
                if kind == "text":
                    if v.__class__ is not str:
                        v = str(v)
                    if "&" in v or "<" in v or ">" in v or _ILLEGAL_XML.search(v):
                        v = xml_text(v)
                    append(f'<c r="{letter}{r}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>')
                else:
                    if v.__class__ is Decimal:
                        v = format(v, "f")
                    elif kind in ("date", "datetime") and not isinstance(v, (int, float)):
                        v = excel_serial(v)
                    append(f'<c r="{letter}{r}" s="{style}"><v>{v}</v></c>')
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
        self.rownum = r
        return "".join(out)

    def generate(self, row_chunks: Iterable[list], totals: "callable | None" = None) -> Iterator[bytes]:
        """Yield the .xlsx bytes. ``row_chunks`` yields lists of row tuples; ``totals()`` (called after
        the last chunk) returns the totals row values, or None for no totals row."""
        sink = _Sink()
        zf = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("docProps/core.xml", self._core_xml())
        zf.writestr("xl/workbook.xml", self._workbook_xml())
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        ncols = len(self.columns)
        last = self.letters[-1]
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = [
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">',
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="3" topLeftCell="A4" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft" activeCell="A4" sqref="A4"/></sheetView></sheetViews>',
                '<sheetFormatPr defaultRowHeight="15"/><cols>',
                "".join(f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
                        for i, c in enumerate(self.columns)),
                "</cols><sheetData>",
                self._fixed_row(self.title, _S_TITLE),
                self._fixed_row(self.subtitle, _S_SUB),
            ]
            self.rownum += 1
            r = self.rownum
            head.append(f'<row r="{r}" ht="30" customHeight="1">' + "".join(
                f'<c r="{letter}{r}" t="inlineStr" s="{_S_HEAD}"><is><t>{xml_text(c.label)}</t></is></c>'
                for letter, c in zip(self.letters, self.columns)) + "</row>")
            sheet.write("".join(head).encode("utf-8"))
            pending = 0
            for chunk in row_chunks:
                data = self._data_rows(chunk).encode("utf-8")
                sheet.write(data)
                pending += len(data)
                if pending >= self.FLUSH_BYTES:
                    pending = 0
                    out = sink.take()
                    if out:
                        yield out
            tail = []
            if totals is not None:
                values = totals()
                if values is not None:
                    tail.append(self._row(values, bold=True))
            tail.append("</sheetData>")
            if ncols > 1:
                tail.append(f'<mergeCells count="2"><mergeCell ref="A1:{last}1"/><mergeCell ref="A2:{last}2"/>'
                            "</mergeCells>")
            tail.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                        '<pageSetup orientation="landscape" paperSize="9"/></worksheet>')
            sheet.write("".join(tail).encode("utf-8"))
        zf.close()
        yield sink.take()

    def _workbook_xml(self) -> str:
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<workbookPr date1904="0"/><bookViews><workbookView/></bookViews>'
                f'<sheets><sheet name="{xml_text(self.sheet_name)}" sheetId="1" r:id="rId1"/></sheets>'
                f'<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
                f"'{xml_text(self.sheet_name)}'!$3:$3</definedName></definedNames>"
                "</workbook>")

    def _core_xml(self) -> str:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<dc:title>{xml_text(self.title)}</dc:title><dc:creator>inspect_api</dc:creator>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created></cp:coreProperties>')


# --------------------------------------------------------------------------- CSV


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_line(values) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")


def stream_csv(header: list[str], row_chunks: Iterable[list], totals=None) -> Iterator[bytes]:
    """UTF-8 with BOM, LF line ends (as PostgreSQL's COPY writes them); one yielded block per chunk of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    yield codecs.BOM_UTF8 + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for chunk in row_chunks:
        writer.writerows(chunk)
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
    if totals is not None:
        values = totals()
        if values is not None:
            writer.writerow(values)
            yield buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- statistics tables


def period_text(f: StatsFilter) -> str:
    return f"统计期间: {f.date_from:%Y-%m-%d} 至 {f.date_to:%Y-%m-%d}"


def table_subtitle(table: StatsTable) -> str:
    parts = [period_text(table.filter), f"区划: {table.region_label}"]
    if table.filter.industry:
        parts.append(f"行业: {table.filter.industry}")
    parts.append(f"统计截至: {table.filter.as_of.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}")
    return "    ".join(parts)


def _table_columns(table: StatsTable) -> list[ExportColumn]:
    cols = [ExportColumn(table.group_label, "text", 14)]
    for c in table.columns:
        cols.append(ExportColumn(c.label, c.kind, max(10, min(24, len(c.label) * 1.6))))
    return cols


def _table_row(table: StatsTable, row: dict) -> list:
    return [row["label"], *[row.get(c.key) for c in table.columns]]


def stats_table_export(table: StatsTable, fmt: str) -> Iterator[bytes]:
    """A statistics table (rows + 合计) as XLSX or CSV."""
    columns = _table_columns(table)
    rows = [_table_row(table, r) for r in table.rows]
    total = _table_row(table, table.total)
    if fmt == "csv":
        return stream_csv([c.label for c in columns], [[[csv_safe(v) for v in r] for r in rows]], lambda: total)
    return XlsxStream(table.title, table_subtitle(table), columns, sheet_name=table.title).generate([rows],
                                                                                                  lambda: total)


# --------------------------------------------------------------------------- hazard ledger (隐患台账)


LEDGER_COLUMNS = [
    ExportColumn("隐患编号", "text", 18), ExportColumn("企业名称", "text", 30),
    ExportColumn("统一社会信用代码", "text", 21), ExportColumn("县(市、区)", "text", 10),
    ExportColumn("行业", "text", 8), ExportColumn("检查项目", "text", 36), ExportColumn("隐患描述", "text", 44),
    ExportColumn("隐患等级", "text", 10), ExportColumn("发现时间", "datetime", 17),
    ExportColumn("整改期限", "date", 12), ExportColumn("状态", "text", 14), ExportColumn("销号时间", "datetime", 17),
    ExportColumn("逾期天数", "int", 9), ExportColumn("复查人", "text", 12), ExportColumn("挂牌督办", "text", 10),
]
LEDGER_COLUMNS += [ExportColumn(*c) for c in criteria_ledger.LEDGER_COLUMNS]  # 判定依据, 判定条款 (services/criteria/ledger.py)


def _mapped(column, labels: dict):
    return case(*[(column == k, v) for k, v in labels.items()], else_=column)


def _csv_guard(expr):
    """Prefix ' to text a spreadsheet would read as a formula (done in SQL: the CSV path stays in C)."""
    first = func.substr(expr, 1, 1)
    return case((first.in_(_FORMULA_START), literal("'") + expr), else_=expr)


def local_wall_clock(column):
    """PostgreSQL: the Asia/Shanghai wall-clock time of a UTC timestamp, by the fixed +08:00 offset (no DST
    since 1991): a named zone costs a time-zone rule lookup per value, several per ledger row."""
    return func.timezone(literal_column(f"INTERVAL '+{LOCAL_OFFSET_HOURS:02d}:00'"), column)


def _local_text(column, dialect: str, with_time: bool):
    if dialect == "postgresql":
        # the ISO text form (DateStyle ISO, set by tune_for_analytics) cut to minutes: several times
        # cheaper than to_char()
        local = local_wall_clock(column)
        if with_time:
            return func.substr(cast(local, String), 1, 16)
        return cast(cast(local, Date), String)
    return func.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d", column, f"+{LOCAL_OFFSET_HOURS} hours")


def _local_serial(column, dialect: str, with_time: bool):
    """Excel serial number of the Asia/Shanghai wall-clock time (or date); 25569 = 1970-01-01."""
    if dialect == "postgresql":
        local = local_wall_clock(column)
        if with_time:
            return func.extract("epoch", local) / 86400.0 + 25569
        return cast(local, Date) - cast(literal("1899-12-30"), Date)
    if with_time:
        return func.julianday(column, f"+{LOCAL_OFFSET_HOURS} hours") - 2415018.5
    return func.julianday(func.date(column, f"+{LOCAL_OFFSET_HOURS} hours")) - 2415018.5


def _days_overdue(now: datetime, dialect: str):
    """Calendar days (Asia/Shanghai) from the deadline to the closing day, or to today when open; >= 0."""
    H = Hazard
    until = case((H.status == "closed", H.closed_at), else_=literal(now, H.closed_at.type))
    if dialect == "postgresql":
        diff = cast(local_wall_clock(until), Date) - cast(local_wall_clock(H.deadline_at), Date)
        return case((H.deadline_at.is_(None), None), else_=func.greatest(diff, 0))
    diff = cast(func.julianday(func.date(until, f"+{LOCAL_OFFSET_HOURS} hours"))
                - func.julianday(func.date(H.deadline_at, f"+{LOCAL_OFFSET_HOURS} hours")), Integer)
    return case((H.deadline_at.is_(None), None), else_=func.max(diff, 0))


def ledger_statement(session: Session, actor: Actor, f: StatsFilter, fmt: str, now: datetime | None = None,
                     limit: int | None = None):
    """One row per hazard found in the period, in the ledger's column order, typed for ``fmt``, plus a last
    hidden column (found_at) for keyset paging. Ordered by (found_at, id)."""
    require_stats_reader(actor)
    dialect = dialect_name(session)
    now = now or datetime.now(timezone.utc)
    H = Hazard
    county = aliased(Region)
    reviewer = aliased(User)  # of the hazard's latest review: hazards.last_reviewer_id (models/hazards.py)
    latest_reviewer = func.coalesce(reviewer.display_name, reviewer.username)
    if fmt == "csv":
        def when(col, with_time):
            return _local_text(col, dialect, with_time)
        guard = _csv_guard
    else:
        def when(col, with_time):
            return _local_serial(col, dialect, with_time)

        def guard(expr):
            return expr
    columns = [
        H.id,
        guard(Enterprise.name),
        Enterprise.uscc,
        func.coalesce(county.name, func.substr(H.region_code, 1, 6)),
        Enterprise.industry,
        guard(ChecklistItem.content),
        guard(H.description),
        _mapped(H.grade, GRADE_LABELS),
        when(H.found_at, True),
        when(H.deadline_at, False),
        _mapped(H.status, STATUS_LABELS),
        when(H.closed_at, True),
        _days_overdue(now, dialect),
        latest_reviewer,
        _mapped(H.listing_level, LISTING_LABELS),
        *criteria_ledger.ledger_columns(guard),
        type_coerce(H.found_at, DateTime(timezone=True)).label("_found_at"),  # the keyset cursor, not exported
    ]
    stmt = (
        select(*columns).select_from(H)
        .join(Enterprise, Enterprise.id == H.enterprise_id)
        .outerjoin(county, county.id == func.substr(H.region_code, 1, 6))
        .outerjoin(ChecklistItem, ChecklistItem.id == H.item_id)  # the finding's item, kept on the hazard
        .outerjoin(reviewer, reviewer.id == H.last_reviewer_id)
        .outerjoin(*criteria_ledger.CLAUSE_JOIN).outerjoin(*criteria_ledger.CATALOGUE_JOIN)
        .where(H.deleted_at.is_(None), scope_clause(H, actor.user), _region_filter(H.region_code, f),
               _industry_filter(f), H.found_at >= f.start, H.found_at < f.end)
        .order_by(H.found_at, H.id)
    )
    return stmt.limit(limit) if limit is not None else stmt


def _keyset_after(stmt, after):
    """Rows after the key ``after`` = (found_at, id). The plain ``found_at >=`` bound is what the index range
    scan (ix_hazards_stats_found) starts from: the row comparison alone is only a filter, and every page
    would scan the ledger from its first row again."""
    if after is None:
        return stmt
    H = Hazard
    at = literal(after[0], DateTime(timezone=True))
    return stmt.where(H.found_at >= at, tuple_(H.found_at, H.id) > tuple_(at, literal(after[1], String())))


def _keyset_through(stmt, last):
    """Rows up to and including the key ``last`` = (found_at, id)."""
    H = Hazard
    at = literal(last[0], DateTime(timezone=True))
    return stmt.where(H.found_at <= at, tuple_(H.found_at, H.id) <= tuple_(at, literal(last[1], String())))


def ledger_chunks(session: Session, stmt, chunk: int = LEDGER_CHUNK, counter: list | None = None,
                  limit: int | None = None):
    """The rows in chunks of ``chunk``, by keyset paging on (found_at, id): each chunk is one short
    ordered index range scan (ix_hazards_stats_found) with its joins, so neither the database nor the
    app ever sorts or holds the whole ledger, however many rows it has. One transaction: a consistent
    snapshot on PostgreSQL (REPEATABLE READ is not required: rows are only ever appended or updated,
    and each hazard appears once because the keyset moves strictly forward)."""
    tune_for_analytics(session)
    conn = session.connection()
    after = None
    remaining = limit
    while remaining is None or remaining > 0:
        n = chunk if remaining is None else min(chunk, remaining)
        rows = conn.execute(_keyset_after(stmt, after).limit(n)).all()
        if not rows:
            return
        last = rows[-1]
        after = (last[-1], last[0])
        part = [r[:-1] for r in rows]
        if counter is not None:
            counter[0] += len(part)
        if remaining is not None:
            remaining -= len(part)
        yield part
        if len(rows) < n:
            return


def _first_rows(conn, stmt, limit: int | None):
    """The ledger statement without its keyset column, cut after its first ``limit`` rows by an upper key
    bound (found first by an index-only ``OFFSET`` on (found_at, id)) rather than by LIMIT: the statement
    keeps the shape the planner takes for a whole period (hash joins, one sort), with a row estimate from
    the found_at bound. Same rows as ``ORDER BY found_at, id LIMIT n``: the key is unique."""
    H = Hazard
    body = stmt.with_only_columns(*list(stmt.selected_columns)[:-1])
    if limit is None:
        return body
    # the bound needs only the filters: hazards (+ enterprises for the industry), no other join
    keys = (select(H.found_at, H.id).select_from(H).join(Enterprise, Enterprise.id == H.enterprise_id)
            .where(stmt.whereclause).order_by(H.found_at, H.id))
    last = conn.execute(keys.offset(limit - 1).limit(1)).first()
    return body if last is None else _keyset_through(body, (last[0], last[1]))


def ledger_stream(session: Session, stmt, chunk: int = LEDGER_CHUNK, counter: list | None = None,
                  limit: int | None = None, cap: int | None = None):
    """PostgreSQL: the rows in chunks of ``chunk``, from one statement over the whole period read on a
    server-side cursor (the app holds one chunk at a time; the server streams, sorting once, spilling to
    disk past work_mem) instead of one keyset page query after another (each planned and started anew, with
    index probes per row). ``limit``: the first rows only (a key bound, see ``_first_rows``); ``cap``: stop
    reading there (Excel's row limit; no bound, so no extra query when the ledger is shorter)."""
    if limit is not None and limit <= 0:
        return
    tune_for_analytics(session)
    conn = session.connection()
    # a cursor is planned for its first 10% of rows by default (nested loops, no sort): this one is read
    # to the end
    conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    body = _first_rows(conn, stmt, limit)
    bounds = [n for n in (limit, cap) if n is not None]
    remaining = min(bounds) if bounds else None
    # (the options on the statement: Connection.execution_options would set them for the connection)
    result = conn.execute(body.execution_options(stream_results=True, max_row_buffer=chunk))
    try:
        for part in result.partitions(chunk):
            if remaining is not None:
                part = part[:remaining]
                remaining -= len(part)
            if counter is not None:
                counter[0] += len(part)
            if part:
                yield part
            if remaining == 0:
                return
    finally:
        result.close()


def ledger_csv_copy(session: Session, stmt, limit: int | None = None,
                    block: int = 1 << 20) -> Iterator[bytes]:
    """PostgreSQL: the ledger rows as CSV made by the server, in one ``COPY (…) TO STDOUT (FORMAT csv)`` over
    the whole period; the app only gathers the server's rows into blocks of about ``block`` bytes and hands
    them on (memory stays bounded: COPY output streams). Same rows and text as the Python path.

    One statement without LIMIT lets the planner take hash joins (enterprises, regions, findings, checklist
    items, the latest reviews) over a parallel scan, then one sort on (found_at, id) under a Gather Merge:
    several times faster over a large period than index probes per row. ``limit``: the first rows only (a key
    bound, see ``_first_rows``)."""
    if limit is not None and limit <= 0:
        return
    tune_for_analytics(session)
    conn = session.connection()
    body = _first_rows(conn, stmt, limit)
    compiled = body.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    out, size = [], 0
    with raw.cursor() as cur:
        with cur.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy:
            for data in copy:
                # copied at once: a memoryview kept until the join holds libpq's buffer, and ~3,600 of them
                # per block made the whole export 1.6x slower (measured: 0.43 s vs 0.26 s for 99k rows)
                out.append(bytes(data))
                size += len(data)
                if size >= block:
                    yield b"".join(out)
                    out, size = [], 0
    if out:
        yield b"".join(out)


def ledger_export(session: Session, actor: Actor, f: StatsFilter, fmt: str, now: datetime | None = None,
                  chunk: int = LEDGER_CHUNK, limit: int | None = None) -> Iterator[bytes]:
    """The hazard ledger as XLSX or CSV, streamed. The query runs when the first chunk is asked for."""
    require_stats_reader(actor)
    subtitle = "    ".join([period_text(f) + " (按发现时间)", f"区划: {region_label(session, actor, f)}"]
                           + ([f"行业: {f.industry}"] if f.industry else [])
                           + [f"导出时间: {(now or datetime.now(timezone.utc)).astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"])

    # Built now, run later: the statement captures the caller's scope while the request's objects are
    # loaded; the generator runs after the request transaction ended (and the ORM session was removed).
    stmt = ledger_statement(session, actor, f, fmt, now)

    def generate():
        count = [0]
        postgres = dialect_name(session) == "postgresql"
        if fmt == "csv" and postgres:
            yield codecs.BOM_UTF8 + _csv_line([c.label for c in LEDGER_COLUMNS])
            yield from ledger_csv_copy(session, stmt, limit=limit)
        elif fmt == "csv":
            yield from stream_csv([c.label for c in LEDGER_COLUMNS],
                                  ledger_chunks(session, stmt, chunk, count, limit))
        else:
            if postgres:
                chunks = ledger_stream(session, stmt, chunk, count, limit=limit, cap=EXCEL_MAX_DATA_ROWS)
            else:
                cap = min(limit, EXCEL_MAX_DATA_ROWS) if limit is not None else EXCEL_MAX_DATA_ROWS
                chunks = ledger_chunks(session, stmt, chunk, count, cap)

            def totals():
                note = f"{count[0]} 项隐患"
                if count[0] >= EXCEL_MAX_DATA_ROWS:
                    note += "（已达 Excel 单表行数上限，可能未全部导出：请缩小期间或导出 CSV）"
                return ["合计", note] + [None] * (len(LEDGER_COLUMNS) - 2)

            yield from XlsxStream("隐患排查治理台账", subtitle, LEDGER_COLUMNS, sheet_name="隐患台账").generate(
                chunks, totals)

    return generate()
