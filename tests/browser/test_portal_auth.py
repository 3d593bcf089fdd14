"""Portal sign-in, sessions, CSRF, security headers and language (Flask test client)."""
from __future__ import annotations

from inspect_api.extensions import db as _db
from inspect_api.models import User

from tests import factories

from .portal_helpers import csrf_from, portal_login, post_form


def test_login_page_is_chinese_with_csrf_field_and_security_headers(client, world):
    resp = client.get("/login")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and 'name="username"' in html and 'name="password"' in html
    csrf_from(html)
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_login_page_is_english_when_the_browser_asks_for_english(client, world):
    resp = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = resp.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html
    assert "登录" not in html


def test_wrong_password_shows_a_chinese_error_and_no_session(client, world):
    resp = portal_login(client, "enterprise1", "wrong-password-1")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert client.get("/", follow_redirects=False).status_code == 302


def test_enterprise_sign_in_sets_an_httponly_samesite_cookie_and_lands_on_its_home(client, world):
    resp = portal_login(client, "enterprise1")
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in the test


def test_session_cookie_is_secure_when_served_over_https(client, world):
    page = client.get("/login", base_url="https://localhost")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login", base_url="https://localhost",
                       data={"username": "enterprise1", "password": factories.PASSWORD, "csrf_token": token},
                       headers={"Referer": "https://localhost/login"})
    assert resp.status_code == 302
    assert "Secure" in resp.headers["Set-Cookie"]


def test_form_without_csrf_token_is_refused(client, world):
    client.get("/login")
    resp = client.post("/login", data={"username": "enterprise1", "password": factories.PASSWORD})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "安全令牌" in html
    assert client.get("/").status_code == 302  # not signed in


def test_logout_ends_the_session(client, world):
    portal_login(client, "enterprise1")
    page = client.get("/account")
    assert page.status_code == 200
    resp = client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 302
    from inspect_api.models import AuditEvent

    actions = [e.action for e in _db.session.query(AuditEvent).filter_by(actor_username="enterprise1")]
    assert "auth.portal_login" in actions and "auth.portal_logout" in actions


def test_pages_need_sign_in_and_redirect_back_after_it(client, world):
    resp = client.get("/account")
    assert resp.status_code == 302 and "/login?next=/account" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login", data={"username": "enterprise1", "password": factories.PASSWORD,
                                       "csrf_token": token, "next": "/account"})
    assert resp.headers["Location"].endswith("/account")


def test_next_parameter_cannot_send_the_user_to_another_site(client, world):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post("/login", data={"username": "enterprise1", "password": factories.PASSWORD,
                                       "csrf_token": token, "next": "//evil.example/x"})
    assert "evil.example" not in resp.headers["Location"]


def test_failed_portal_logins_are_rate_limited_but_successes_do_not_count(app, client, world):
    for _ in range(3):
        assert portal_login(client, "enterprise1").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))})
    limit = app.config["LOGIN_THROTTLE_FREE_ATTEMPTS"]
    for i in range(limit):
        resp = portal_login(client, "enterprise2", "wrong-password-1")
        assert resp.status_code == 401
        if i < limit - 1:
            assert f"还可尝试 {limit - 1 - i} 次" in resp.get_data(as_text=True)
    resp = portal_login(client, "enterprise2", factories.PASSWORD)
    assert resp.status_code == 429
    assert "登录失败次数过多，请 1 分钟后再试" in resp.get_data(as_text=True)


def test_imported_user_must_change_password_before_anything_else(client, world, db):
    user = world["enterprise1"]
    user.must_change_password = True
    db.commit()
    resp = portal_login(client, "enterprise1")
    assert resp.headers["Location"].endswith("/password")
    # every other page sends them back to the password form
    assert client.get("/account").headers["Location"].endswith("/password")
    page = client.get("/password")
    assert "首次登录，请先设置新密码" in page.get_data(as_text=True)
    resp = post_form(client, "/password", {"new_password": "short", "confirm_password": "short"})
    assert resp.status_code == 422 and "至少 8 位" in resp.get_data(as_text=True)
    resp = post_form(client, "/password",
                     {"new_password": "NewPass-2026", "confirm_password": "NewPass-2026"})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 200
    fresh = db.get(User, user.id)
    db.refresh(fresh)
    assert fresh.must_change_password is False
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))})
    assert portal_login(client, "enterprise1", "NewPass-2026").status_code == 302


def test_disabled_user_loses_the_portal_session_at_once(client, world, db):
    portal_login(client, "enterprise1")
    assert client.get("/account").status_code == 200
    world["enterprise1"].is_active = False
    db.commit()
    assert client.get("/account").status_code == 302


def test_unknown_page_is_a_chinese_404_page(client, world):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "页面不存在" in html
    assert "Content-Security-Policy" in resp.headers


def test_api_errors_stay_json(client, world):
    resp = client.get("/api/v1/no-such")
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"


def test_static_pages_have_no_inline_script_or_style(client, world):
    portal_login(client, "admin")
    for url in ("/login", "/account", "/admin/users", "/admin/devices"):
        html = client.get(url).get_data(as_text=True)
        assert "style=" not in html, url
        assert "<style" not in html, url
        assert "onclick" not in html and "onsubmit" not in html, url
        for script in html.split("<script")[1:]:
            assert script.lstrip().startswith("src="), url
        # no asset from another host (no CDN)
        import re

        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not ref.startswith(("http:", "https:", "//")), (url, ref)


def test_portal_pages_vary_on_language(client, world):
    resp = client.get("/login")
    assert "Accept-Language" in resp.headers.get("Vary", "")


_ = _db  # keep the import for fixtures that use the shared session


def test_the_portal_session_cookie_does_not_authenticate_the_api(client, world):
    # the API takes bearer tokens only, so it needs no CSRF protection
    portal_login(client, "admin")
    assert client.get("/account").status_code == 200
    resp = client.get("/api/v1/devices")
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"
