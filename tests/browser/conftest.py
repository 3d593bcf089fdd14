"""Playwright fixtures for the portal browser tests (Debian chromium, headless)."""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 860}
SCREENSHOT_DIR = os.environ.get("INSPECT_SCREENSHOT_DIR")  # e.g. docs/screenshots


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("/usr/bin/chromium is required for the browser tests (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Screens:
    """Screenshots go to tmp_path always (checked non-empty), and to INSPECT_SCREENSHOT_DIR when set."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path

    def shot(self, page, name: str, full_page=True):
        path = self.tmp / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        assert path.stat().st_size > 2000, name
        if SCREENSHOT_DIR:
            os.makedirs(SCREENSHOT_DIR, exist_ok=True)
            shutil.copy(path, os.path.join(SCREENSHOT_DIR, f"{name}.png"))
        return path


@pytest.fixture()
def screens(tmp_path):
    return Screens(tmp_path)


class ConsoleWatch:
    """Collects console errors and page errors (CSP violations show up here)."""

    def __init__(self):
        self.errors = []

    def attach(self, page):
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def real_errors(self):
        return list(self.errors)


def new_page(browser, base_url, viewport, watch: ConsoleWatch | None = None, locale="zh-CN"):
    ctx = browser.new_context(viewport=viewport, base_url=base_url, locale=locale,
                              extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if locale == "zh-CN"
                                                  else "en-US,en;q=0.9"})
    page = ctx.new_page()
    if watch is not None:
        watch.attach(page)
    return page


def sign_in(page, username, password):
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('登录')")
    page.wait_for_load_state("networkidle")


def sign_out(page):
    page.click("button:has-text('退出')")
    page.wait_for_url("**/login")


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
