"""Real-browser tests (Playwright + Chromium) of the enterprise and inspector pages."""
from __future__ import annotations

import pytest

from inspect_api.models import Hazard, Notice
from inspect_api.storage import get_storage

from tests import factories
from tests.conftest import start_live_server

from .conftest import DESKTOP, PHONE, ConsoleWatch, fits_width, new_page, sign_in, sign_out
from .seed import jpeg_bytes, seed_notice

PASSWORD = factories.PASSWORD


def _seed(session, world):
    storage = get_storage()
    notice, hazards = seed_notice(session, world, storage, descriptions=["储罐区防火堤破损"])
    other, other_hazards = seed_notice(session, world, storage, enterprise=world.ent2,
                                       descriptions=["第二化学品公司的隐患"])
    session.info["ids"] = {"notice": notice.id, "hazard": hazards[0].id, "other_notice": other.id,
                           "other_hazard": other_hazards[0].id}


@pytest.fixture(scope="module")
def live():
    captured = {}

    def seed(session, world):
        _seed(session, world)
        captured.update(session.info["ids"])

    server, stop = start_live_server(seed=seed)
    server.ids.update(captured)
    yield server
    stop()


@pytest.fixture()
def photo_file(tmp_path):
    path = tmp_path / "after.jpg"
    path.write_bytes(jpeg_bytes((30, 150, 60), (1200, 900)))
    return str(path)


def _report_fix(page, screens, photo_file, description, shot=None):
    page.click("a.button.primary:has-text('上报整改')")
    page.wait_for_selector("textarea[name=description]")
    file_input = page.locator("input[type=file][name=photos]")
    assert file_input.get_attribute("accept") == "image/*"
    assert file_input.get_attribute("capture") == "environment"
    page.fill("textarea[name=description]", description)
    page.fill("textarea[name=measures]", "更换破损砌块，补做防渗层")
    page.fill("input[name=funds]", "8600.00")
    page.fill("input[name=responsible_person]", "张三")
    file_input.set_input_files(photo_file)
    assert page.inner_text("#photo-count") == "1"
    if shot:
        assert fits_width(page)
        screens.shot(page, shot)
    page.click("button:has-text('提交整改报告')")
    page.wait_for_load_state("networkidle")
    assert "整改情况已上报" in page.content()


def _review(page, live, result, opinion, screens=None, shot=None):
    page.goto("/desk/")
    page.click("a.button:has-text('复查')")
    page.wait_for_selector("form textarea[name=opinion]")
    # before (inspection photo) and after (the enterprise's photo) side by side
    assert page.locator(".compare figure.before img").count() == 1
    assert page.locator(".compare figure.after img").count() == 1
    for img in page.locator(".compare img").all():
        assert img.evaluate("el => el.complete && el.naturalWidth > 0")
    if shot:
        screens.shot(page, shot)
    page.check(f"input[name=result][value={result}]")
    page.fill("textarea[name=opinion]", opinion)
    page.select_option("select[name=co_reviewer_id]", live.ids["inspector2"])
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    page.click("button:has-text('提交复查结论')")
    page.wait_for_load_state("networkidle")
    assert "复查结论已保存" in page.content()
    assert asked and "不可更改" in asked[0] and ("不合格" in asked[0]) == (result == "rejected")


def test_enterprise_and_inspector_take_a_notice_from_receipt_to_closure(browser, live, screens, photo_file):
    watch = ConsoleWatch()
    ent = new_page(browser, live.url, PHONE, watch)
    sign_in(ent, "enterprise1", PASSWORD)
    assert ent.url.endswith("/enterprise/")
    assert "储罐区防火堤破损" in ent.content() and "待签收" in ent.content()
    assert "第二化学品公司的隐患" not in ent.content()
    assert fits_width(ent)
    screens.shot(ent, "enterprise-home")

    ent.click(".notice-item a")
    ent.wait_for_selector("button#acknowledge")
    thumb = ent.locator(".thumbs img").first
    assert thumb.evaluate("el => el.complete && el.naturalWidth > 0")
    assert "《危险化学品安全管理条例》第二十条" in ent.content()
    assert fits_width(ent)
    screens.shot(ent, "enterprise-notice")
    # the thumbnail opens the preview
    thumb.click()
    ent.wait_for_selector(".preview img")
    assert ent.locator(".preview img").evaluate("el => el.naturalWidth > 256")
    ent.go_back()

    # 签收 asks first: dismissed, nothing happens; accepted, the notice is signed
    ent.once("dialog", lambda d: d.dismiss())
    ent.click("button#acknowledge")
    assert ent.locator("button#acknowledge").count() == 1
    asked = []
    ent.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    ent.click("button#acknowledge")
    ent.wait_for_load_state("networkidle")
    assert asked and "确定签收" in asked[0]
    assert "已签收整改指令书" in ent.content()
    assert ent.locator("button#acknowledge").count() == 0
    _report_fix(ent, screens, photo_file, "已修复防火堤", shot="enterprise-report")
    assert "待复查" in ent.content()
    sign_out(ent)

    insp = new_page(browser, live.url, DESKTOP, watch)
    sign_in(insp, "inspector1", PASSWORD)
    assert "储罐区防火堤破损" in insp.content()
    screens.shot(insp, "desk-home")
    _review(insp, live, "rejected", "防渗层未按要求施工，请重新整改", screens, shot="desk-review")
    sign_out(insp)

    sign_in(ent, "enterprise1", PASSWORD)
    ent.goto(f"/enterprise/notices/{live.ids['notice']}")
    body = ent.content()
    assert "复查不合格" in body and "防渗层未按要求施工，请重新整改" in body
    assert fits_width(ent)
    screens.shot(ent, "enterprise-rejected")
    _report_fix(ent, screens, photo_file, "防渗层已重新施工")
    sign_out(ent)

    sign_in(insp, "inspector1", PASSWORD)
    _review(insp, live, "accepted", "经复查，整改符合要求")
    sign_out(insp)

    sign_in(ent, "enterprise1", PASSWORD)
    assert "目前没有未完成的整改指令书" in ent.content()
    ent.click("a:has-text('已销号隐患')")
    ent.wait_for_load_state("networkidle")
    assert "储罐区防火堤破损" in ent.content() and "已销号" in ent.content()
    assert fits_width(ent)
    screens.shot(ent, "enterprise-history")
    ent.click("a:has-text('储罐区防火堤破损')")
    ent.wait_for_load_state("networkidle")
    assert "经复查，整改符合要求" in ent.content()
    assert fits_width(ent)
    with ent.expect_download() as dl:
        ent.click("a:has-text('下载整改复查意见书（PDF）')")
    assert dl.value.suggested_filename.endswith(".pdf")
    with live.app.app_context():
        from inspect_api.extensions import db

        assert db.session.get(Hazard, live.ids["hazard"]).status == "closed"
        assert db.session.get(Notice, live.ids["notice"]).status == "closed"
        db.session.remove()
    assert watch.real_errors() == []


def test_enterprise_cannot_reach_another_enterprises_notice_by_editing_the_url(browser, live):
    page = new_page(browser, live.url, PHONE)
    sign_in(page, "enterprise1", PASSWORD)
    resp = page.goto(f"/enterprise/notices/{live.ids['other_notice']}")
    assert resp.status == 404
    assert "页面不存在" in page.content()
    assert "第二化学品公司的隐患" not in page.content()
    resp = page.goto(f"/enterprise/hazards/{live.ids['other_hazard']}/report")
    assert resp.status == 404


def test_a_form_posted_without_its_csrf_token_is_refused(browser, live):
    page = new_page(browser, live.url, PHONE)
    sign_in(page, "enterprise2", PASSWORD)
    page.goto(f"/enterprise/notices/{live.ids['other_notice']}")
    page.wait_for_selector("button#acknowledge")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.once("dialog", lambda d: d.accept())
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click("button#acknowledge")
    assert info.value.status == 400
    page.wait_for_load_state("networkidle")
    assert "安全令牌" in page.content()
    with live.app.app_context():
        from inspect_api.extensions import db

        assert db.session.get(Notice, live.ids["other_notice"]).status == "issued"
        db.session.remove()


def test_portal_pages_switch_to_english_for_an_english_browser(browser, live):
    page = new_page(browser, live.url, PHONE, locale="en-US")
    page.goto("/login")
    assert page.locator("button[type=submit]").inner_text() == "Sign in"
    assert page.get_attribute("html", "lang") == "en"
