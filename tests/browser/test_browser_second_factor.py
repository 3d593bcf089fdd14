"""Enrolment and sign-in with a second factor in a real browser (Chromium), the code computed by pyotp."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests import factories
from tests.conftest import start_live_server

from .conftest import PHONE, ConsoleWatch, new_page, sign_out

PASSWORD = factories.PASSWORD


@pytest.fixture(scope="module")
def live():
    server, stop = start_live_server(overrides={"MFA_REQUIRED_ROLES": "supervisor"})
    yield server
    stop()


def _password_step(page, username):
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_load_state("networkidle")


def _next_step_code(secret: str) -> str:
    """A code of the next 30-second step (the enrolment spent the current one)."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    wait = 30 - (now % 30) + 0.5
    time.sleep(wait)
    return totp.now()


def test_a_supervisor_enrols_by_qr_code_then_signs_in_with_a_code(browser, live, screens):
    watch = ConsoleWatch()
    page = new_page(browser, live.url, PHONE, watch)
    _password_step(page, "supervisor")
    # required and not enrolled: the enrolment comes before anything else
    assert "/account/second-factor" in page.url
    assert page.locator("#qr svg").count() == 1
    secret = page.inner_text("#secret").strip()
    screens.shot(page, "second-factor-enrol")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('完成绑定')")
    page.wait_for_load_state("networkidle")
    codes = page.locator("#recovery-codes li")
    assert codes.count() == 10
    page.click("a:has-text('我已保存，继续')")
    page.wait_for_load_state("networkidle")
    assert "/login/code" in page.url
    page.fill("input[name=code]", _next_step_code(secret))
    page.click("button:has-text('验证并登录')")
    page.wait_for_load_state("networkidle")
    assert "/desk" in page.url
    sign_out(page)
    # the next sign-in asks for the code; a recovery code works instead
    _password_step(page, "supervisor")
    assert "/login/code" in page.url
    page.fill("input[name=code]", "00000-00000")
    page.click("button:has-text('验证并登录')")
    assert "还可尝试 4 次" in page.content()
    # the only console error is the 401 of that wrong code
    assert [e for e in watch.real_errors() if "401" not in e] == []
