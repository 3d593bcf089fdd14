"""Headless Chromium: a legal officer reviews a closed case, sees the findings, archives it and downloads
the package, which then verifies offline."""
from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    DESKTOP, PHONE, ConsoleWatch, browser, fits_width, new_page, screens, sign_in,
)
from tests.conftest import start_live_server

from .conftest import KEY_LINE, VKEY
from .helpers import verify_bytes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    captured = {}

    def seed(session, world):
        from inspect_api.cli.demo_casefile import build_closed_case
        from inspect_api.storage import get_storage

        factories.user(session, "legal1", "legal", region="131102", certificate_no="T131102LEGAL",
                       display_name="法制股 陈静")
        case = build_closed_case(session, world["inspector1"], world["inspector2"], world.ent1,
                                 world["enterprise1"], storage=get_storage(), photos=1)
        captured["case_number"] = case.number

    server, stop = start_live_server({"CASEFILE_SIGNING_KEY": KEY_LINE}, seed=seed)
    server.ids.update(captured)
    yield server
    stop()


def test_legal_officer_archives_and_downloads_in_the_browser(browser, live, screens, tmp_path):  # noqa: F811
    watch = ConsoleWatch()
    page = new_page(browser, live.url, DESKTOP, watch)
    sign_in(page, "legal1", factories.PASSWORD)
    assert page.url.endswith("/casefiles")
    row = page.locator("tr", has_text=live.ids["case_number"])
    row.locator("a:has-text('评查')").click()
    page.wait_for_selector("#toc")
    assert page.locator("#no-findings").is_visible()
    assert page.locator("#toc tbody tr").count() >= 8
    assert "行政处罚决定书" in page.inner_text("#toc")
    screens.shot(page, "casefile-review")
    page.click("#archive-button")
    page.wait_for_selector("#archive-no")
    assert "应急档〔" in page.inner_text("#archive-no")
    screens.shot(page, "casefile-archived")
    with page.expect_download() as info:
        page.click("#download-package")
    path = info.value.path()
    with open(path, "rb") as fh:
        assert verify_bytes(fh.read(), VKEY, tmp_path) == 0
    assert watch.real_errors() == []

    phone = new_page(browser, live.url, PHONE)
    sign_in(phone, "legal1", factories.PASSWORD)
    phone.goto(page.url)
    assert fits_width(phone), "the file page fits a phone"
