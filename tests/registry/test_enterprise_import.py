"""Bulk import of enterprises from XLSX and CSV: row reports, idempotency, encodings."""
import io

from openpyxl import Workbook
from sqlalchemy import func, select

from inspect_api.models import AuditEvent, Enterprise, current_seq
from inspect_api.services.access.actor import Actor
from inspect_api.services.registry.imports import import_enterprises_file
from inspect_api.services.registry.uscc import make_uscc

HEADER = ["统一社会信用代码", "企业名称", "所属区县", "地址", "行业", "企业规模", "重大危险源等级",
          "风险等级（红/橙/黄/蓝）", "重点监管危险化工工艺", "联系人", "联系电话"]
COUNTIES = ["桃城区", "冀州区", "枣强县", "武邑县", "深州市", "景县"]


def _row(i):
    county = COUNTIES[i % len(COUNTIES)]
    code = {"桃城区": "131102", "冀州区": "131103", "枣强县": "131121", "武邑县": "131122", "深州市": "131182",
            "景县": "131127"}[county]
    return [make_uscc(code, 500_000 + i), f"衡水测试{i:04d}化工有限公司", county, f"{county}化工园区{i}号",
            "C26", ["大型", "中型", "小型", "微型"][i % 4], ["无", "一级", "二级", "三级", "四级"][i % 5],
            ["红", "橙", "黄", "蓝"][i % 4], "氯化工艺、加氢工艺" if i % 3 == 0 else "", f"张{i}",
            13800000000 + i]


def _xlsx(rows, header=HEADER, title=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业名录"
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _counts(db):
    return (db.scalar(select(func.count()).select_from(Enterprise)),
            db.scalar(select(func.count()).select_from(AuditEvent)),
            current_seq(db))


def test_1000_row_xlsx_with_10_broken_rows_imports_990_and_a_second_import_changes_nothing(
        client, db, world, auth):
    rows = [_row(i) for i in range(1000)]
    broken = {}  # spreadsheet row number (header = 1) -> what is wrong

    def brk(index, what, fn):
        fn(rows[index])
        broken[index + 2] = what
    brk(3, "uscc", lambda r: r.__setitem__(0, r[0][:17] + ("0" if r[0][17] != "0" else "1")))
    brk(50, "name", lambda r: r.__setitem__(1, None))
    brk(120, "region", lambda r: r.__setitem__(2, "火星区"))
    brk(233, "risk", lambda r: r.__setitem__(7, "紫"))
    brk(345, "level", lambda r: r.__setitem__(6, "五级"))
    brk(456, "dup", lambda r: r.__setitem__(0, rows[455][0]))
    brk(567, "process", lambda r: r.__setitem__(8, "炼金工艺"))
    brk(678, "empty uscc", lambda r: r.__setitem__(0, None))
    brk(789, "short uscc", lambda r: r.__setitem__(0, "91131102ABC"))
    brk(998, "scale", lambda r: r.__setitem__(5, "巨型"))
    data = _xlsx(rows)
    h = auth.headers("admin")
    before = _counts(db)

    def upload():
        resp = client.post("/api/v1/enterprises/import", data={"file": (io.BytesIO(data), "企业名录.xlsx")},
                           headers=h, content_type="multipart/form-data")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    report = upload()
    assert (report["created"], report["updated"], report["unchanged"], report["failed"]) == (990, 0, 0, 10)
    assert report["format"] == "xlsx" and report["header_row"] == 1 and report["total_rows"] == 1000
    assert sorted(e["row"] for e in report["errors"]) == sorted(broken)
    reasons = {e["row"]: e["reason"] for e in report["errors"]}
    assert "校验位" in reasons[5]
    assert "企业名称不能为空" in reasons[52]
    assert "火星区" in reasons[122]
    assert "紫" in reasons[235]
    assert "五级" in reasons[347]
    assert "第 457 行重复" in reasons[458]
    assert "炼金工艺" in reasons[569]
    assert "统一社会信用代码不能为空" in reasons[680]
    assert "18位" in reasons[791]
    assert "巨型" in reasons[1000]
    assert db.scalar(select(func.count()).select_from(Enterprise)) == before[0] + 990
    ent = db.scalars(select(Enterprise).where(Enterprise.uscc == rows[0][0])).one()
    assert (ent.region_id, ent.scale, ent.major_hazard_level, ent.risk_color, ent.contact_phone) == (
        "131102", "large", 0, "red", "13800000000")
    assert ent.hazardous_processes == ["氯化工艺", "加氢工艺"]

    after_first = _counts(db)
    updated_at = db.scalar(select(func.max(Enterprise.updated_at)))
    again = upload()
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 990, 10)
    assert sorted(e["row"] for e in again["errors"]) == sorted(broken)
    # no new rows, no audit events, no sync cursor taken, no row touched
    assert _counts(db) == after_first
    assert db.scalar(select(func.max(Enterprise.updated_at))) == updated_at


def test_a_changed_row_updates_only_that_enterprise_with_one_audit_event(db, world):
    rows = [_row(i) for i in range(5)]
    actor = Actor(world["admin"])
    import_enterprises_file(db, actor, _xlsx(rows))
    db.flush()
    seq_before = current_seq(db)
    rows[2][7] = "红" if rows[2][7] != "红" else "蓝"
    rows[2][3] = "新地址 8 号"
    report = import_enterprises_file(db, actor, _xlsx(rows))
    db.flush()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    ent = db.scalars(select(Enterprise).where(Enterprise.uscc == rows[2][0])).one()
    assert ent.address == "新地址 8 号"
    events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == ent.id)
                        .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["enterprise.created", "enterprise.imported"]
    assert set(events[-1].data) == {"address", "risk_color"}
    # one cursor for the changed enterprise
    assert current_seq(db) == seq_before + 1


def test_csv_in_utf8_with_bom_gb18030_and_english_headers(db, world):
    actor = Actor(world["admin"])
    lines = ["统一社会信用代码,企业名称,行政区划代码,风险等级,重大危险源等级",
             f"{make_uscc('131102', 9001)},衡水甲醇储运有限公司,131102,橙,二级",
             f"{make_uscc('131182', 9002)},深州氯碱化工有限公司,131182,红色,1"]
    text = "\r\n".join(lines) + "\r\n"
    r1 = import_enterprises_file(db, actor, "\ufeff".encode() + text.encode("utf-8"), "a.csv")
    assert (r1.created, r1.failed, r1.encoding) == (2, 0, "utf-8")
    lines2 = ["统一社会信用代码,企业名称,所属区县,风险等级",
              f"{make_uscc('131121', 9003)},枣强县聚氨酯材料有限公司,枣强县,黄"]
    r2 = import_enterprises_file(db, actor, "\n".join(lines2).encode("gb18030"), "b.csv")
    assert (r2.created, r2.failed, r2.encoding) == (1, 0, "gb18030")
    english = (f"uscc,name,region_code,risk_color,major_hazard_level,hazardous_processes\n"
               f"{make_uscc('131127', 9004)},景县加氢化工有限公司,131127,blue,0,加氢工艺;氧化工艺\n")
    r3 = import_enterprises_file(db, actor, english.encode(), "c.csv")
    assert (r3.created, r3.failed) == (1, 0)
    db.flush()
    ent = db.scalars(select(Enterprise).where(Enterprise.name == "景县加氢化工有限公司")).one()
    assert ent.hazardous_processes == ["加氢工艺", "氧化工艺"] and ent.region_id == "131127"
    shenzhou = db.scalars(select(Enterprise).where(Enterprise.name == "深州氯碱化工有限公司")).one()
    assert (shenzhou.risk_color, shenzhou.major_hazard_level) == ("red", 1)


def test_title_row_above_the_header_keeps_spreadsheet_row_numbers(db, world):
    rows = [_row(0), _row(1)]
    rows[1][2] = "不存在县"
    report = import_enterprises_file(db, Actor(world["admin"]), _xlsx(rows, title="衡水市危险化学品企业名录"))
    assert report.header_row == 2
    assert [(e["row"], e["uscc"]) for e in report.errors] == [(4, rows[1][0])]
    assert report.created == 1


def test_region_name_and_code_that_disagree_are_reported(db, world):
    header = ["统一社会信用代码", "企业名称", "所属区县", "行政区划代码"]
    rows = [[make_uscc("131102", 42), "衡水不一致化工有限公司", "深州市", "131102"]]
    report = import_enterprises_file(db, Actor(world["admin"]), _xlsx(rows, header=header))
    assert report.failed == 1 and "不一致" in report.errors[0]["reason"]


def test_dry_run_reports_without_writing(db, world):
    before = _counts(db)
    data = _xlsx([_row(i) for i in range(3)])
    report = import_enterprises_file(db, Actor(world["admin"]), data, dry_run=True)
    db.flush()
    assert (report.created, report.dry_run) == (3, True)
    assert _counts(db) == before


def test_county_supervisor_import_refuses_rows_outside_jurisdiction(db, world):
    rows = [_row(0), _row(4)]  # 桃城区, 深州市
    report = import_enterprises_file(db, Actor(world["supervisor_taocheng"]), _xlsx(rows))
    assert report.created == 1
    assert [e["row"] for e in report.errors] == [3]
    assert "管辖范围" in report.errors[0]["reason"]


def test_file_without_the_required_columns_is_422(client, world, auth):
    data = _xlsx([["x", "y"]], header=["名称", "其他"])
    resp = client.post("/api/v1/enterprises/import", data={"file": (io.BytesIO(data), "bad.xlsx")},
                       headers=auth.headers("admin"), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "import_missing_columns"


def test_garbage_upload_is_422_in_the_error_shape(client, world, auth):
    garbage = (io.BytesIO(b"PK\x03\x04garbage"), "x.xlsx")
    resp = client.post("/api/v1/enterprises/import", data={"file": garbage},
                       headers=auth.headers("admin"), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "import_file_invalid"


def test_import_through_the_api_returns_the_row_report_and_commits_good_rows(client, world, auth, db):
    rows = [_row(i) for i in range(4)]
    rows[1][0] = "91131102000000000X"
    resp = client.post("/api/v1/enterprises/import", data={"file": (io.BytesIO(_xlsx(rows)), "e.xlsx")},
                       headers=auth.headers("admin"), content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["created"], body["failed"]) == (3, 1)
    assert body["errors"][0]["row"] == 3 and "uscc" in body["errors"][0]["fields"]
    listed = client.get("/api/v1/enterprises?q=衡水测试&page_size=50", headers=auth.headers("admin")).get_json()
    assert len(listed) == 3


def test_import_needs_a_file_and_an_admin_or_supervisor(client, world, auth):
    resp = client.post("/api/v1/enterprises/import", data={}, headers=auth.headers("admin"),
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.get_json()["details"]["fields"]
    data = {"file": (io.BytesIO(_xlsx([_row(0)])), "e.xlsx")}
    resp = client.post("/api/v1/enterprises/import", data=data, headers=auth.headers("inspector1"),
                       content_type="multipart/form-data")
    assert resp.status_code == 403


def _count_selects(db, fn):
    from sqlalchemy import event

    conn = db.connection()
    seen = []

    def listener(conn_, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(conn, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(conn, "before_cursor_execute", listener)
    return len(seen)


def test_import_queries_do_not_grow_with_the_number_of_rows(db, world):
    actor = Actor(world["admin"])
    small = _xlsx([_row(i) for i in range(20)])
    big = _xlsx([_row(i) for i in range(20, 420)])
    small_new = _count_selects(db, lambda: (import_enterprises_file(db, actor, small), db.flush()))
    big_new = _count_selects(db, lambda: (import_enterprises_file(db, actor, big), db.flush()))
    assert big_new <= small_new <= 4
    # re-importing (every row matched to an existing enterprise) is batched too
    big_again = _count_selects(db, lambda: (import_enterprises_file(db, actor, big), db.flush()))
    assert big_again <= 4


def test_a_row_moving_an_enterprise_to_another_county_leaves_a_tombstone_for_the_old_one(db, world):
    from inspect_api.models import SyncTombstone

    header = ["统一社会信用代码", "企业名称", "所属区县"]
    rows = [[world.ent2.uscc, world.ent2.name, "深州市"]]
    report = import_enterprises_file(db, Actor(world["admin"]), _xlsx(rows, header=header))
    db.flush()
    assert (report.updated, report.failed) == (1, 0)
    assert db.get(Enterprise, world.ent2.id).region_id == "131182"
    stones = db.scalars(select(SyncTombstone).where(SyncTombstone.record_id == world.ent2.id)).all()
    assert [(s.table_name, s.region_code) for s in stones] == [("enterprises", "131102")]


def test_a_zip_that_is_not_a_workbook_and_a_legacy_xls_are_422(client, world, auth):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<broken")
        z.writestr("xl/workbook.xml", "<x>")
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    for data, name in ((buf.getvalue(), "odd.xlsx"), (legacy, "old.xls")):
        resp = client.post("/api/v1/enterprises/import", data={"file": (io.BytesIO(data), name)},
                           headers=auth.headers("admin"), content_type="multipart/form-data")
        assert resp.status_code == 422, name
        assert resp.get_json()["code"] == "import_file_invalid"


def test_the_import_templates_example_row_is_never_imported_but_a_filled_row_is(client, world, auth, db):
    from openpyxl import load_workbook

    h = auth.headers("admin")
    resp = client.get("/api/v1/enterprises/import/template", headers=h)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in resp.headers["Content-Disposition"]
    report = import_enterprises_file(db, Actor(world["admin"]), resp.data, "template.xlsx")
    assert (report.created, report.failed, report.skipped_examples, report.total_rows) == (0, 0, 1, 0)
    assert db.scalar(select(func.count()).select_from(Enterprise).where(
        Enterprise.uscc == make_uscc("131102", 1))) == 0
    # the user fills a row under the example: that row is imported, the example still is not
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["企业名录"]
    ws.append([make_uscc("131102", 777), "衡水真实化工有限公司", "桃城区", "衡水市桃城区某路9号", "C2614", "中型",
               "三级", "橙", "氯化工艺", "王五", "赵六", "0318-7654321", 37.7, 115.6, None])
    buf = io.BytesIO()
    wb.save(buf)
    report = import_enterprises_file(db, Actor(world["admin"]), buf.getvalue(), "filled.xlsx")
    assert (report.created, report.failed, report.skipped_examples) == (1, 0, 1)
    db.flush()
    ent = db.scalars(select(Enterprise).where(Enterprise.name == "衡水真实化工有限公司")).one()
    assert (ent.region_id, ent.major_hazard_level, ent.risk_color, ent.scale, ent.industry) == (
        "131102", 3, "orange", "medium", "C2614")
    assert client.get("/api/v1/enterprises/import/template",
                      headers=auth.headers("inspector1")).status_code == 403


def test_the_csv_template_is_csv_with_a_bom_and_its_example_row_is_skipped(client, world, auth, db):
    resp = client.get("/api/v1/enterprises/import/template?format=csv", headers=auth.headers("admin"))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode("utf-8"))
    text = resp.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("统一社会信用代码,企业名称,所属区县")
    assert "【示例行】" in text.splitlines()[1]
    report = import_enterprises_file(db, Actor(world["admin"]), resp.data, "template.csv")
    assert (report.created, report.skipped_examples) == (0, 1)
    bad = client.get("/api/v1/enterprises/import/template?format=pdf", headers=auth.headers("admin"))
    assert bad.status_code == 422


def test_the_portal_import_page_offers_both_templates(client, world):
    from ..browser.portal_helpers import portal_login

    portal_login(client, "admin")
    html = client.get("/admin/enterprises/import").get_data(as_text=True)
    assert "/admin/enterprises/import/template?format=csv" in html and "下载导入模板" in html
    xlsx = client.get("/admin/enterprises/import/template")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv_resp = client.get("/admin/enterprises/import/template?format=csv")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert "企业导入模板.csv" in __import__("urllib.parse").parse.unquote(csv_resp.headers["Content-Disposition"])
