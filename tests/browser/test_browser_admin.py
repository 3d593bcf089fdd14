"""Real-browser tests of the admin pages: revoking a device kills its token at once."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests import factories
from tests.conftest import start_live_server

from .conftest import DESKTOP, PHONE, ConsoleWatch, new_page, sign_in, sign_out

PASSWORD = factories.PASSWORD


@pytest.fixture(scope="module")
def live():
    def seed(session, world):
        from inspect_api.storage import get_storage

        from .seed import seed_notice

        seed_notice(session, world, get_storage(), descriptions=["重大隐患：液化烃储罐未设紧急切断"],
                    grade="major")
        seed_notice(session, world, get_storage(), descriptions=["静电接地线断开"], deadline_days=1)
        factories.user(session, "sec_admin", "security_admin", display_name="安全管理员")

    server, stop = start_live_server(seed=seed)
    yield server
    stop()


def _api(live, method, path, body=None, token=None):
    req = urllib.request.Request(live.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"null")


def test_admin_revokes_a_device_and_its_token_stops_working(browser, live, screens):
    status, body = _api(live, "POST", "/api/v1/auth/token", {
        "username": "inspector1", "password": PASSWORD, "device_id": "tablet-HS-0042",
        "device_name": "执法平板 42"})
    assert status == 201
    token = body["access_token"]
    assert _api(live, "GET", "/api/v1/devices", token=token)[0] == 200

    watch = ConsoleWatch()
    page = new_page(browser, live.url, DESKTOP, watch)
    sign_in(page, "admin", PASSWORD)
    page.click("nav a:has-text('设备')")
    row = page.locator("tr[data-device='tablet-HS-0042']")
    assert "执法平板 42" in row.inner_text()
    screens.shot(page, "admin-devices")
    page.once("dialog", lambda d: d.accept())
    row.locator("button:has-text('停用设备')").click()
    page.wait_for_load_state("networkidle")
    assert "设备已停用" in page.content()
    assert "已停用" in page.locator("tr[data-device='tablet-HS-0042']").inner_text()

    status, body = _api(live, "GET", "/api/v1/devices", token=token)
    assert status == 401 and body["code"] == "unauthorized"
    # and it cannot sign in again from that tablet
    status, body = _api(live, "POST", "/api/v1/auth/token", {
        "username": "inspector1", "password": PASSWORD, "device_id": "tablet-HS-0042"})
    assert status == 401 and body["code"] == "device_revoked"
    assert watch.real_errors() == []


def test_admin_pages_render_for_screenshots_and_users_can_be_created(browser, live, screens, tmp_path):
    page = new_page(browser, live.url, DESKTOP)
    sign_in(page, "admin", PASSWORD)
    assert "/admin/users" in page.url
    screens.shot(page, "admin-users")
    sign_out(page)
    # creating an account grants it a role: the security administrator's work (三权分立)
    sign_in(page, "sec_admin", PASSWORD)
    assert "/admin/users" in page.url
    page.click("a:has-text('新建用户')")
    page.fill("input[name=username]", "ent1_safety")
    page.fill("input[name=password]", "Start-pass-1")
    page.fill("input[name=display_name]", "赵六")
    page.select_option("select[name=role]", "enterprise")
    page.select_option("select[name=enterprise_id]", live.ids["ent1"])
    page.click("button:has-text('创建用户')")
    page.wait_for_load_state("networkidle")
    assert "已创建用户 ent1_safety" in page.content()
    screens.shot(page, "admin-user-edit")
    sign_out(page)
    sign_in(page, "admin", PASSWORD)

    csv_path = tmp_path / "企业名录.csv"
    csv_path.write_text("统一社会信用代码,企业名称,所属区县,风险等级,重大危险源等级\n"
                        f"{factories.uscc(7001, '131121')},枣强精细化工有限公司,枣强县,橙,三级\n"
                        "91131100XXXXXXXXXX,代码错误的企业,枣强县,黄,无\n"
                        f"{factories.uscc(7002, '131121')},,枣强县,黄,无\n", encoding="utf-8")
    page.click("nav a:has-text('企业导入')")
    page.set_input_files("input[name=file]", str(csv_path))
    page.click("button:has-text('上传并导入')")
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "代码错误的企业" in report
    rows = page.locator("#import-report tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").first.inner_text() == "3"
    assert rows.nth(1).locator("td").first.inner_text() == "4"
    screens.shot(page, "admin-import")

    json_path = tmp_path / "checklist.json"
    json_path.write_text(json.dumps({"code": "HS-WHP-2026", "title": "危险化学品企业安全检查表（2026）", "items": [
        {"code": "1.1", "category": "储存设施", "content": "储罐区防火堤完好、无破损", "basis": "GB 50351"},
        {"code": "1.2", "category": "消防", "content": "消防通道畅通无占用", "basis": "GB 50016"},
        {"code": "2.1", "category": "重大危险源", "content": "液化烃储罐设紧急切断装置",
         "basis": "安监总管三〔2017〕121号", "major_criterion_code": "HC2017-07"}]}, ensure_ascii=False),
        encoding="utf-8")
    page.click("nav a:has-text('检查表')")
    page.set_input_files("input[name=file]", str(json_path))
    page.click("button:has-text('导入')")
    page.wait_for_selector("#checklist-report")
    assert "已新建" in page.inner_text("#checklist-report")
    page.click("a:has-text('危险化学品企业安全检查表（2026）')")
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('发布此版本')")
    page.wait_for_load_state("networkidle")
    assert "已发布 HS-WHP-2026 第 1 版" in page.content()
    screens.shot(page, "admin-checklist")


def test_supervisor_lists_a_major_hazard_and_login_and_404_pages_render(browser, live, screens):
    page = new_page(browser, live.url, PHONE)
    page.goto("/login")
    screens.shot(page, "login")
    resp = page.goto("/enterprise/notices/does-not-exist")
    assert resp.status in (302, 200)  # not signed in: the login page
    assert "/login" in page.url

    desk = new_page(browser, live.url, DESKTOP)
    sign_in(desk, "supervisor", PASSWORD)
    desk.goto("/desk/hazards?grade=major")
    desk.click("a:has-text('液化烃储罐未设紧急切断')")
    desk.wait_for_selector("form[action$='/list']")
    desk.once("dialog", lambda d: d.accept())
    desk.click("form[action$='/list'] button")
    desk.wait_for_load_state("networkidle")
    assert "已挂牌督办" in desk.content() and "市级挂牌督办" in desk.content()
    screens.shot(desk, "desk-hazard")
    desk.goto("/desk/hazards?overdue=1")
    resp = desk.goto("/desk/hazards/not-a-real-id")
    assert resp.status == 404 and "页面不存在" in desk.content()
    screens.shot(desk, "error-404")
