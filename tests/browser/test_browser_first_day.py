"""A bureau's first day (issue 13), in headless Chromium at 360 px and 1280 px, on the demo seed itself:
every role has work, no input is cut, the sign-in warns, templates and the ledger download, documents name
who signed, people appear by name, irreversible steps ask first, and the small things are right.

With INSPECT_SCREENSHOT_DIR=docs/screenshots this module refreshes the README's screenshots.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from inspect_api import create_app
from inspect_api.extensions import db as _db

from tests.conftest import TEST_CONFIG, LiveServer, make_fresh_database

from .conftest import DESKTOP, PHONE, ConsoleWatch, fits_width, new_page, sign_in, sign_out
from .seed import jpeg_bytes

PASSWORD = "Demo-pass-2026"
COUNTIES = ["桃城区", "冀州区", "枣强县", "武邑县", "武强县", "饶阳县", "安平县", "故城县", "景县", "阜城县", "深州市"]
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


@pytest.fixture(scope="module")
def demo():
    """The demo seed (flask seed-demo) served over HTTP: one server per module."""
    from werkzeug.serving import make_server

    from inspect_api.cli.demo_data import seed_demo
    from inspect_api.models import Hazard, Notice, Rectification, User

    url, drop = make_fresh_database()
    uploads = tempfile.mkdtemp(prefix="inspect_demo_uploads_")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, "UPLOAD_ROOT": uploads,
                      "LOGIN_THROTTLE_ADDRESS_LIMIT": 10000})
    ids = {}
    with app.app_context():
        _db.create_all()
        _db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        seed_demo(_db.session, password=PASSWORD)
        _db.session.commit()
        s = _db.session
        users = {u.username: u for u in s.scalars(select(User))}
        e1 = users["enterprise1"].enterprise_id
        ids["to_sign"] = s.scalars(select(Notice).where(Notice.enterprise_id == e1, Notice.status == "issued")).first().id
        ids["rejected"] = s.scalars(select(Hazard).where(Hazard.enterprise_id == e1,
                                                         Hazard.status == "rejected")).first().id
        ids["acknowledged_notice"] = s.scalars(select(Notice).where(
            Notice.enterprise_id == e1, Notice.status == "acknowledged")).first().id
        ids["verified"] = s.scalars(select(Hazard).where(Hazard.status == "verified")).first().id
        ids["closed_no_photo"] = s.scalars(select(Hazard).where(
            Hazard.enterprise_id == e1, Hazard.status == "closed").order_by(Hazard.found_at)).first().id
        ids["pending_taocheng"] = s.scalars(select(Rectification).where(
            Rectification.status == "pending", Rectification.region_code == "131102")).first().id
        _db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(app, server, thread, f"http://127.0.0.1:{server.server_port}")
    live.ids = ids
    yield live
    server.shutdown()
    thread.join(10)
    server.server_close()
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop()
    shutil.rmtree(uploads, ignore_errors=True)


def loaded(page, locator) -> bool:
    """The image is decoded (lazy images load once scrolled to)."""
    locator.scroll_into_view_if_needed()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=locator.element_handle(),
                           timeout=15000)
    return True


def _ok_dialog(page, asked):
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))


# ------------------------------------------------------------------ 3. every role has work; 7. names; 8. confirm

def test_enterprise1_finds_a_notice_to_sign_a_listed_major_hazard_and_a_fix_to_redo(browser, demo, screens):
    watch = ConsoleWatch()
    page = new_page(browser, demo.url, PHONE, watch)
    sign_in(page, "enterprise1", PASSWORD)
    body = page.inner_text("main")
    assert "待签收" in body and "挂牌督办" in body and "重大隐患" in body and "复查不合格" in body
    assert fits_width(page)
    # every deadline shown ends the day at 23:59, in the one date format
    deadlines = page.locator(".notice-item .small b").all_inner_texts()
    assert deadlines and all(DATE_TIME.match(d) and d.endswith("23:59") for d in deadlines), deadlines
    screens.shot(page, "enterprise-home")

    page.goto(f"/enterprise/notices/{demo.ids['to_sign']}")
    officers = page.inner_text(".officers")
    assert "王强（执法证号 13110221001）" in officers and "李明（执法证号 13110221002）" in officers
    assert "inspector" not in page.content()  # people by name, never by login name
    assert loaded(page, page.locator(".thumbs img").first)
    assert fits_width(page)
    screens.shot(page, "enterprise-notice")
    # 签收 asks first; dismissed nothing happens
    page.once("dialog", lambda d: d.dismiss())
    page.click("button#acknowledge")
    assert page.locator("button#acknowledge").count() == 1
    asked = []
    _ok_dialog(page, asked)
    page.click("button#acknowledge")
    page.wait_for_load_state("networkidle")
    assert "确定签收" in asked[0] and "已签收整改指令书" in page.content()
    assert "王建国" in page.inner_text(".acknowledged")
    # the notice PDF now names who signed online, and when
    with page.expect_download() as dl:
        page.click("a:has-text('下载指令书（PDF）')")
    data = Path(dl.value.path()).read_bytes()
    from tests.lifecycle.test_documents import assert_cjk_font_embedded, assert_line_breaking_rules, pdftotext

    assert "在网上签收" in "".join(pdftotext(data).split()) and "王建国" in pdftotext(data)
    assert_line_breaking_rules(data)
    assert_cjk_font_embedded(data)
    assert watch.real_errors() == []


def test_a_hazard_without_photos_says_so_under_a_heading(browser, demo):
    page = new_page(browser, demo.url, DESKTOP)
    sign_in(page, "enterprise1", PASSWORD)
    page.goto(f"/enterprise/hazards/{demo.ids['closed_no_photo']}")
    heading = page.locator("h4.photos-heading").first
    assert heading.inner_text() == "隐患照片"
    assert heading.evaluate("el => el.nextElementSibling.textContent.trim()") == "暂无照片"


# ------------------------------------------------------------------ 1. no input silently cut

@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_too_long_fix_report_shows_a_counter_and_is_refused_whole_naming_the_field(browser, demo, viewport,
                                                                                      tmp_path):
    page = new_page(browser, demo.url, viewport)
    sign_in(page, "enterprise1", PASSWORD)
    page.goto(f"/enterprise/hazards/{demo.ids['rejected']}/report")
    counter = page.locator("textarea[name=description] + .char-counter")
    assert counter.inner_text() == "0 / 10000"
    page.fill("textarea[name=description]", "整改")
    assert counter.inner_text() == "2 / 10000"
    long_text = "整" * 10001
    page.fill("textarea[name=description]", long_text)
    assert "10001 / 10000" in counter.inner_text() and "超出 1 字" in counter.inner_text()
    assert "over" in counter.get_attribute("class")
    assert page.eval_on_selector("textarea[name=description]", "el => el.value.length") == 10001  # not cut
    assert fits_width(page) or viewport is DESKTOP
    photo = tmp_path / "after.jpg"
    photo.write_bytes(jpeg_bytes((30, 150, 60)))
    page.set_input_files("input[type=file][name=photos]", str(photo))
    # the browser will not send it; a direct post (validation switched off) is refused by the server
    page.eval_on_selector("main form.form", "f => { f.noValidate = true; "
                                  "f.querySelectorAll('[data-maxlength]').forEach(e => e.setCustomValidity('')); }")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=60000) as posted:
        page.click("button:has-text('提交整改报告')")
    assert posted.value.status == 422
    page.wait_for_load_state("load")
    assert page.inner_text(".field-error") == "整改情况最多 10000 字，现为 10001 字"
    assert page.eval_on_selector("textarea[name=description]", "el => el.value.length") == 10001


# ------------------------------------------------------------------ 2. the sign-in throttle warns

def test_a_wrong_password_warns_how_many_tries_remain_in_chinese(browser, demo):
    page = new_page(browser, demo.url, PHONE)
    page.goto("/login")
    page.fill("input[name=username]", "supervisor_taocheng")
    page.fill("input[name=password]", "wrong-password-1")
    page.click("button:has-text('登录')")
    page.wait_for_load_state("networkidle")
    alert = page.inner_text("[role=alert]")
    assert "用户名或密码错误" in alert and "还可尝试 4 次" in alert
    assert fits_width(page)
    sign_in(page, "supervisor_taocheng", PASSWORD)  # the right password still works, and resets the count
    assert "/desk" in page.url


# ------------------------------------------------------------------ 3. inspectors review, with both photos

def test_inspectors_find_fixes_to_review_with_before_and_after_photos(browser, demo, screens):
    page = new_page(browser, demo.url, DESKTOP)
    sign_in(page, "inspector3", PASSWORD)
    assert page.locator("a.button:has-text('复查')").count() >= 1
    sign_out(page)
    sign_in(page, "inspector1", PASSWORD)
    assert page.locator("a.button:has-text('复查')").count() >= 2
    screens.shot(page, "desk-home")
    page.goto(f"/desk/rectifications/{demo.ids['pending_taocheng']}")
    for side in ("before", "after"):
        assert loaded(page, page.locator(f".compare figure.{side} img").first), side
    options = page.locator("select[name=co_reviewer_id] option").all_inner_texts()
    assert "李明（执法证号 13110221002）" in options and not any("inspector" in o for o in options)
    screens.shot(page, "desk-review")
    # accepting asks first, and says what follows
    page.check("input[name=result][value=accepted]")
    page.select_option("select[name=co_reviewer_id]", label="李明（执法证号 13110221002）")
    page.once("dialog", lambda d: d.dismiss())
    page.click("button:has-text('提交复查结论')")
    assert page.locator("button:has-text('提交复查结论')").count() == 1  # still on the form
    asked = []
    _ok_dialog(page, asked)
    page.click("button:has-text('提交复查结论')")
    page.wait_for_load_state("networkidle")
    assert "确定复查合格" in asked[0] and "不可更改" in asked[0]
    assert "复查结论已保存" in page.content()


# ------------------------------------------------------------------ 3. supervisors: closure, listing, dashboard

def test_supervisor_closes_a_verified_major_hazard_and_sees_every_county(browser, demo, screens):
    page = new_page(browser, demo.url, DESKTOP)
    sign_in(page, "supervisor", PASSWORD)
    page.goto(f"/desk/hazards/{demo.ids['verified']}")
    body = page.inner_text("main")
    assert "县级挂牌督办" in body and "判定依据：HC2017-05" in body and "紧急切断" in body
    assert "张丽娜" in body  # listed by, by name
    screens.shot(page, "desk-hazard")
    page.goto("/dashboard")
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=20000)
    # the county filter and the chart in GB/T 2260 order, and every county has hazards this year
    assert page.locator("select[name=region] option").all_inner_texts()[1:] == COUNTIES
    labels = page.evaluate("echarts.getInstanceByDom(document.getElementById('chart-county'))"
                           ".getOption().yAxis[0].data")
    assert labels == COUNTIES
    rows = page.evaluate("fetch(document.getElementById('dashboard').dataset.src).then(r => r.json())")
    found = {r["label"]: r["hazards_found"] for r in rows["hazards_by_county"]["rows"]}
    assert all(found[c] > 0 for c in COUNTIES), found
    # one date format; 万元 with two decimals; 行业 a choice of GB/T 4754 codes with names
    status = page.inner_text("#dash-status")
    assert re.search(r"统计截至 \d{4}-\d{2}-\d{2} \d{2}:\d{2}（北京时间）", status), status
    assert re.fullmatch(r"\d+\.\d{2}", page.inner_text("[data-kpi='fines_decided_wan']"))
    assert "C26 化学原料和化学制品制造业" in page.locator("select[name=industry] option").all_inner_texts()
    screens.shot(page, "dashboard")
    # the ledger carries the fix
    with page.expect_download() as dl:
        page.click("a[data-export='ledger-csv']")
    header = next(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    for column in ("整改措施", "责任人", "资金(万元)", "完成日期", "复查意见"):
        assert column in header


def test_dashboard_fits_a_phone(browser, demo):
    page = new_page(browser, demo.url, PHONE)
    sign_in(page, "supervisor", PASSWORD)
    page.goto("/dashboard")
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=20000)
    assert fits_width(page)


# ------------------------------------------------------------------ 3./4./9. admin: devices, import, checklist

def test_admin_sees_tablets_downloads_both_templates_and_reads_the_criteria(browser, demo, screens):
    page = new_page(browser, demo.url, DESKTOP)
    sign_in(page, "admin", PASSWORD)
    page.goto("/admin/devices")
    rows = page.locator("tbody tr")
    assert rows.count() >= 6
    body = page.inner_text("main")
    assert "周涛（执法证号 13110021001）" in body and "已停用" in body
    screens.shot(page, "admin-devices")
    page.goto("/admin/enterprises/import")
    with page.expect_download() as xlsx:
        page.click("#template-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as csv_dl:
        page.click("#template-csv")
    assert csv_dl.value.suggested_filename.endswith(".csv")
    assert Path(csv_dl.value.path()).read_text(encoding="utf-8-sig").startswith("统一社会信用代码")
    # the template uploaded as it is: its example row is skipped, nothing imported
    page.set_input_files("input[type=file][name=file]", csv_dl.value.path())
    page.click("button:has-text('上传并导入')")
    page.wait_for_load_state("networkidle")
    assert "已跳过示例行 1 行" in page.inner_text("#import-report")
    screens.shot(page, "admin-import")
    page.goto("/admin/checklists")
    page.click("tr:has(td:text-is('HC2017')) a")
    page.wait_for_load_state("networkidle")
    cell = page.locator("td.criterion").first.inner_text()
    assert cell.startswith("HC2017-01 ") and "考核合格" in cell
    screens.shot(page, "admin-checklist")


def test_admin_pages_fit_a_phone(browser, demo):
    page = new_page(browser, demo.url, PHONE)
    sign_in(page, "admin", PASSWORD)
    for path in ("/admin/devices", "/admin/enterprises/import", "/admin/users"):
        page.goto(path)
        assert fits_width(page), path
    assert "inspector1" in page.inner_text("main")  # the login name stays visible where it is the account
    assert "王强（执法证号 13110221001）" in page.inner_text("main")


# ------------------------------------------------------------------ 9. API messages in Chinese first

def test_api_errors_answer_in_chinese_first(browser, demo):
    page = new_page(browser, demo.url, DESKTOP)
    page.goto("/login")
    answer = page.evaluate("fetch('/api/v1/notices/nope').then(r => r.json())")
    assert answer["code"] == "unauthorized" and answer["message"].startswith("请先登录")
    token = page.evaluate(f"""fetch('/api/v1/auth/token', {{method: 'POST', headers: {{'Content-Type':
        'application/json'}}, body: JSON.stringify({{username: 'inspector1', password: '{PASSWORD}'}})}})
        .then(r => r.json()).then(b => b.access_token)""")
    answer = page.evaluate("t => fetch('/api/v1/notices/nope', {headers: {Authorization: 'Bearer ' + t}})"
                           ".then(r => r.json())", token)
    assert answer["status"] == 404 and answer["message"].startswith("整改指令书不存在")
