"""Exports opened back with openpyxl and csv and compared with the figures and the data set."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import openpyxl

from inspect_api.models import Hazard, Rectification, Review
from inspect_api.services.reporting import exports
from inspect_api.services.reporting import stats
from inspect_api.services.access.actor import Actor

from .dataset import LEDGER_NOW, PERIOD, cst

Q = "from=2026-01-01&to=2026-06-30"
CST = timezone(timedelta(hours=8))


def download(client, auth, user, url):
    resp = client.get(url, headers=auth.headers(user))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    resp.was_streamed = resp.is_streamed
    resp.get_data()  # consume the stream before the next request
    return resp


def open_xlsx(body: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(body))
    return wb.worksheets[0]


def read_csv(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


def test_hazard_statistics_xlsx_has_title_period_bold_frozen_header_numbers_and_totals(client, auth, data):
    resp = download(client, auth, "supervisor", f"/api/v1/stats/hazards/export?{Q}&format=xlsx")
    assert resp.mimetype == exports.XLSX_MIME
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.was_streamed
    json_body = client.get(f"/api/v1/stats/hazards?{Q}", headers=auth.headers("supervisor")).get_json()
    ws = open_xlsx(resp.data)
    assert ws["A1"].value == "隐患排查治理情况统计表" and ws["A1"].font.b
    assert "2026-01-01 至 2026-06-30" in ws["A2"].value and "衡水市" in ws["A2"].value
    assert ws.freeze_panes == "A4"
    header = [c.value for c in ws[3]]
    assert header[0] == "县(市、区)"
    assert header[1:] == [c["label"] for c in json_body["columns"]]
    assert all(c.font.b for c in ws[3])
    assert ws.column_dimensions["A"].width == 14 and ws.column_dimensions["B"].width >= 10
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == len(json_body["rows"]) + 1
    keys = [c["key"] for c in json_body["columns"]]
    for got, want in zip(rows, [*json_body["rows"], json_body["total"]]):
        assert got[0] == want["label"]
        for value, key in zip(got[1:], keys):
            assert value == want[key], (want["label"], key)
    taocheng = rows[0]
    assert taocheng[0] == "桃城区" and isinstance(taocheng[keys.index("general_found") + 1], int)
    assert taocheng[keys.index("funds_wan") + 1] == 5.57  # a number, not text
    total = rows[-1]
    assert total[0] == "合计" and ws.cell(row=ws.max_row, column=1).font.b
    assert total[keys.index("funds_wan") + 1] == 17.5701


def test_enforcement_statistics_csv_has_bom_chinese_headers_and_totals(client, auth, data):
    resp = download(client, auth, "supervisor", f"/api/v1/stats/enforcement/export?{Q}&format=csv")
    assert resp.mimetype == "text/csv"
    rows = read_csv(resp.data)
    assert rows[0][:3] == ["县(市、区)", "执法检查(次)", "检查企业(家)"]
    assert rows[0][rows[0].index("罚款金额(万元)")]
    body = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert body["桃城区"]["执法检查(次)"] == "2"
    assert body["深州市"]["罚款金额(万元)"] == "5.5556"
    assert body["合计"]["实际收缴罚款(万元)"] == "4.0000"
    assert body["合计"]["其中:责令停产停业整顿(份)"] == "1"
    assert len(rows) == 1 + 11 + 1  # header, every county, 合计


LEDGER_HEADER = ["隐患编号", "企业名称", "统一社会信用代码", "县(市、区)", "行业", "检查项目", "隐患描述", "隐患等级",
                 "发现时间", "整改期限", "状态", "销号时间", "逾期天数", "复查人", "挂牌督办",
                 "判定依据", "判定条款"]  # the criteria columns (services/criteria/ledger.py)


def _ledger(db, data, fmt, user="supervisor", chunk=3):
    actor = Actor(data.world[user])
    f = stats.make_filter(db, actor, date_from=PERIOD[0], date_to=PERIOD[1], now=LEDGER_NOW)
    return b"".join(exports.ledger_export(db, actor, f, fmt, now=LEDGER_NOW, chunk=chunk))


def test_ledger_csv_rows_in_found_order_with_local_times_and_days_overdue(db, data):
    rows = read_csv(_ledger(db, data, "csv"))
    assert rows[0] == LEDGER_HEADER
    h = data.hazards
    order = ["h7", "h1", "h2", "h3", "h4", "h5", "h6", "h11", "h12"]  # by found_at; h8 h9 h10 are not listed
    assert [r[0] for r in rows[1:]] == [h[k].id for k in order]
    by_id = {r[0]: dict(zip(LEDGER_HEADER, r)) for r in rows[1:]}
    h7 = by_id[h["h7"].id]
    assert h7["企业名称"] == "深州精细化工有限公司" and h7["县(市、区)"] == "深州市" and h7["行业"] == "C2614"
    assert h7["发现时间"] == "2026-01-01 00:30"  # 2025-12-31 16:30 UTC shown in Asia/Shanghai
    assert (h7["整改期限"], h7["状态"], h7["销号时间"], h7["逾期天数"]) == ("2026-06-30", "已销号", "2026-07-02 10:00", "2")
    h1 = by_id[h["h1"].id]
    assert (h1["检查项目"], h1["隐患等级"], h1["复查人"], h1["逾期天数"]) == ("储罐区防火堤完好、无破损", "一般隐患",
                                                                  "inspector1", "0")
    h2 = by_id[h["h2"].id]
    assert (h2["状态"], h2["逾期天数"], h2["销号时间"]) == ("已报告整改", "145", "")  # 02-20 -> 07-15, still open
    assert h2["复查人"] == "inspector1"
    assert by_id[h["h12"].id]["复查人"] == "inspector2"  # the latest of its two reviews
    assert by_id[h["h12"].id]["逾期天数"] == "5"  # deadline 05-10, closed 05-15
    h5 = by_id[h["h5"].id]
    assert (h5["隐患等级"], h5["挂牌督办"], h5["逾期天数"]) == ("重大隐患", "省级", "86")  # 04-20 -> 07-15
    assert h5["隐患描述"] == "液氯储罐 <紧急切断> & 联锁未投用"
    assert by_id[h["h6"].id]["逾期天数"] == "" and by_id[h["h6"].id]["整改期限"] == ""  # no deadline
    # a formula-looking description is neutralised in CSV
    assert by_id[h["h3"].id]["隐患描述"] == '\'=HYPERLINK("http://evil.example","点击")'


def test_ledger_xlsx_round_trips_with_dates_as_dates_and_a_totals_row(db, data):
    ws = open_xlsx(_ledger(db, data, "xlsx"))
    assert ws["A1"].value == "隐患排查治理台账"
    assert "2026-01-01 至 2026-06-30" in ws["A2"].value and "衡水市" in ws["A2"].value
    assert [c.value for c in ws[3]] == LEDGER_HEADER and ws.freeze_panes == "A4"
    assert all(c.font.b for c in ws[3])
    assert ws.column_dimensions["G"].width == 44
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 9 + 1
    h = data.hazards
    by_id = {r[0]: dict(zip(LEDGER_HEADER, r)) for r in rows[:-1]}
    h7 = by_id[h["h7"].id]
    assert abs(h7["发现时间"] - datetime(2026, 1, 1, 0, 30)) < timedelta(seconds=1)
    assert h7["整改期限"] == datetime(2026, 6, 30)
    assert abs(h7["销号时间"] - datetime(2026, 7, 2, 10, 0)) < timedelta(seconds=1)
    assert h7["逾期天数"] == 2 and isinstance(h7["逾期天数"], int)
    assert by_id[h["h2"].id]["逾期天数"] == 145 and by_id[h["h2"].id]["销号时间"] is None
    assert by_id[h["h5"].id]["隐患描述"] == "液氯储罐 <紧急切断> & 联锁未投用"
    assert by_id[h["h3"].id]["隐患描述"] == '=HYPERLINK("http://evil.example","点击")'  # text, not a formula
    found_cell = ws.cell(row=4, column=9)
    assert found_cell.is_date and found_cell.number_format == "yyyy\\-mm\\-dd\\ hh:mm"
    assert rows[-1][:2] == ("合计", "9 项隐患")


def test_ledger_scope_follows_the_caller(db, data):
    rows = read_csv(_ledger(db, data, "csv", user="supervisor_taocheng"))
    h = data.hazards
    assert [r[0] for r in rows[1:]] == [h[k].id for k in ("h1", "h2", "h3", "h4", "h12")]


def test_ledger_api_streams_both_formats(client, auth, data):
    resp = download(client, auth, "inspector3", f"/api/v1/stats/ledger/export?{Q}&format=csv")
    assert resp.was_streamed and resp.mimetype == "text/csv"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    rows = read_csv(resp.data)
    assert len(rows) == 1 + 4  # 深州: h7 h5 h6 h11
    today = datetime.now(timezone.utc).astimezone(CST).date()
    h5 = dict(zip(LEDGER_HEADER, rows[2]))
    assert h5["逾期天数"] == str((today - datetime(2026, 4, 20).date()).days)  # still open: counted to today
    resp = download(client, auth, "admin", f"/api/v1/stats/ledger/export?{Q}&format=xlsx")
    ws = open_xlsx(resp.data)
    assert ws.max_row == 3 + 9 + 1


def test_xlsx_writer_escapes_and_drops_characters_xml_cannot_hold(tmp_path):
    cols = [exports.ExportColumn("文本", "text"), exports.ExportColumn("数", "int"),
            exports.ExportColumn("日期", "date")]
    w = exports.XlsxStream("标题 <&>", "副标题", cols)
    body = b"".join(w.generate([[("a\x01b<c>&d ", 3, datetime(2026, 3, 1, tzinfo=timezone.utc).date()),
                                 (None, None, None)]]))
    ws = open_xlsx(body)
    assert ws["A1"].value == "标题 <&>"
    assert ws["A4"].value == "ab<c>&d " and ws["B4"].value == 3 and ws["C4"].value == datetime(2026, 3, 1)
    assert ws["A5"].value is None and ws.max_row == 5


def test_ledger_csv_is_the_same_whatever_the_page_size_and_writer(db, data):
    """Keyset paging never skips or repeats a row; on PostgreSQL the server-made CSV (COPY) equals the
    rows written by Python's csv module."""
    from ..conftest import is_postgres

    small, large = _ledger(db, data, "csv", chunk=2), _ledger(db, data, "csv", chunk=1000)
    assert small == large
    assert b"\r" not in small and small.count(b"\n") == 1 + 9
    actor = Actor(data.world["supervisor"])
    f = stats.make_filter(db, actor, date_from=PERIOD[0], date_to=PERIOD[1], now=LEDGER_NOW)
    stmt = exports.ledger_statement(db, actor, f, "csv", LEDGER_NOW)
    by_python = b"".join(exports.stream_csv([c.label for c in exports.LEDGER_COLUMNS],
                                            exports.ledger_chunks(db, stmt, chunk=4)))
    assert by_python == small
    if is_postgres():
        copied = b"".join(exports.ledger_csv_copy(db, stmt))
        assert copied == small[small.index(b"\n") + 1:]


def _ledger_rows(db, data, fmt="csv", user="supervisor", chunk=3, limit=None):
    actor = Actor(data.world[user])
    f = stats.make_filter(db, actor, date_from=PERIOD[0], date_to=PERIOD[1], now=LEDGER_NOW)
    body = b"".join(exports.ledger_export(db, actor, f, fmt, now=LEDGER_NOW, chunk=chunk, limit=limit))
    if fmt == "csv":
        return read_csv(body)
    return list(open_xlsx(body).iter_rows(min_row=3, values_only=True))[:-1]  # the header, the rows (no 合计)


def test_ledger_limit_takes_the_first_rows_even_within_a_tie_on_found_at(db, data):
    """``limit`` (the benchmark's, Excel's cap) cuts the ledger after its first rows by (found_at, id): on
    PostgreSQL the single COPY is bounded by the key of the last row, so rows that share its found_at and
    come after it by id are not listed."""
    h1 = data.hazards["h1"]
    for hid in ("0000-tie", "zzzz-tie"):  # before and after h1 by id (h1's id is a random hex string)
        db.add(Hazard(id=hid, enterprise_id=h1.enterprise_id, region_code=h1.region_code, description="同时发现",
                      grade="general", status="found", found_at=h1.found_at))
    db.flush()
    full = _ledger_rows(db, data, chunk=1000)
    ids = [r[0] for r in full[1:]]
    assert len(ids) == 11 and ids[1:4] == sorted(["0000-tie", "zzzz-tie", h1.id])
    for n in (1, 2, 3, 4, 11, 50):
        assert _ledger_rows(db, data, chunk=2, limit=n) == full[:1 + n], n
    assert _ledger_rows(db, data, limit=0) == full[:1]


def test_ledger_latest_reviewer_breaks_a_tie_on_the_review_id(db, data):
    h2 = data.hazards["h2"]
    at = cst(2026, 3, 1, 9, 0)  # later than h2's first review (02-18, inspector1)
    for vid, who in (("zzzz-review", "inspector3"), ("0000-review", "inspector2")):
        r = Rectification(hazard_id=h2.id, enterprise_id=h2.enterprise_id, region_code=h2.region_code,
                          description="再次整改", status="rejected", reported_at=at)
        db.add(r)
        db.flush()
        db.add(Review(id=vid, rectification_id=r.id, hazard_id=h2.id, enterprise_id=h2.enterprise_id,
                      region_code=h2.region_code, reviewer_id=data.world[who].id, result="rejected",
                      reviewed_at=at))
    db.flush()
    for fmt in ("csv", "xlsx"):
        for chunk in (2, 1000):
            rows = {r[0]: dict(zip(LEDGER_HEADER, r)) for r in _ledger_rows(db, data, fmt, chunk=chunk)[1:]}
            assert rows[h2.id]["复查人"] == "inspector3", (fmt, chunk)
            assert rows[data.hazards["h12"].id]["复查人"] == "inspector2"
            assert rows[data.hazards["h4"].id]["复查人"] in ("", None)  # a report, no review
