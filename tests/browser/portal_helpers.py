"""Helpers for portal tests through Flask's test client."""
from __future__ import annotations

import re

from tests import factories

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


def portal_login(client, username: str, password: str = factories.PASSWORD, follow=False):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=follow)


def post_form(client, url: str, data: dict | None = None, *, page_url: str | None = None, **kw):
    """POST a portal form with a CSRF token taken from a page (default: the same URL)."""
    page = client.get(page_url or url)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kw)
