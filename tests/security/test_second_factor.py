"""The second factor (TOTP, RFC 6238) through the API and the portal, codes computed by pyotp."""
from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from inspect_api.models import AuditEvent, User
from inspect_api.services.access.actor import Actor
from inspect_api.services.accounts import mfa

from .. import factories
from ..browser.portal_helpers import csrf_from, portal_login

TOKEN = "/api/v1/auth/token"


@pytest.fixture()
def enrolled(db, world):
    user = world["supervisor"]
    secret = pyotp.random_base32()
    codes = mfa.confirm_enrolment(db, Actor(user), user, secret, pyotp.TOTP(secret).now())
    user.totp_last_step = None  # the enrolment code's step is spent; tests sign in afresh
    db.commit()
    return user, secret, codes


def _token(client, otp=None, username="supervisor"):
    body = {"username": username, "password": factories.PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return client.post(TOKEN, json=body)


def test_an_enrolled_account_gets_a_token_only_with_its_code_and_a_code_works_once(client, enrolled):
    user, secret, _ = enrolled
    resp = _token(client)
    assert resp.status_code == 401 and resp.get_json()["code"] == "mfa_required"
    assert _token(client, "000000").get_json()["code"] == "invalid_otp"
    code = pyotp.TOTP(secret).now()
    assert _token(client, code).status_code == 201
    replay = _token(client, code)
    assert replay.status_code == 401 and replay.get_json()["code"] == "invalid_otp"


def test_a_recovery_code_works_once(client, enrolled):
    _, _, codes = enrolled
    assert len(codes) == 10 and all(re.fullmatch(r"\d{5}-\d{5}", c) for c in codes)
    assert _token(client, codes[0]).status_code == 201
    assert _token(client, codes[0]).status_code == 401
    assert _token(client, codes[1]).status_code == 201


def test_roles_that_require_a_second_factor_cannot_get_a_token_without_one(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin,supervisor")
    resp = _token(client, username="admin")
    assert resp.status_code == 401 and resp.get_json()["code"] == "mfa_required"
    # an inspector's tablet is not in the list: it signs in as CONTRACT §1 says
    assert _token(client, username="inspector1").status_code == 201


def test_the_security_administrator_resets_a_second_factor_audited(db, client, world, enrolled):
    user, _, _ = enrolled
    sec = factories.user(db, "sec_admin", "security_admin")
    with pytest.raises(Exception):
        mfa.reset(db, Actor(world["admin"]), user)
    mfa.reset(db, Actor(sec), user, reason="手机丢失")
    db.commit()
    assert not mfa.is_enrolled(user)
    assert _token(client).status_code == 201  # no second factor until enrolled again
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.reset")).one()
    assert (event.actor_id, event.object_id, event.reason) == (sec.id, user.id, "手机丢失")


def test_in_the_portal_five_wrong_codes_end_the_attempt(client, world, enrolled):
    _, secret, _ = enrolled
    resp = portal_login(client, "supervisor")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    assert client.get("/desk/").status_code == 302  # not signed in yet
    for n in range(4):
        page = client.get("/login/code").get_data(as_text=True)
        resp = client.post("/login/code", data={"code": "123456", "csrf_token": csrf_from(page)})
        assert resp.status_code == 401 and f"还可尝试 {4 - n} 次" in resp.get_data(as_text=True)
    page = client.get("/login/code").get_data(as_text=True)
    resp = client.post("/login/code", data={"code": "123456", "csrf_token": csrf_from(page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    # the code is of no use now: the password step starts again
    page = client.get("/login/code")
    assert page.status_code == 302


def test_the_sign_in_page_says_no_second_factor_is_required_in_development(client):
    assert "未要求动态验证码" in client.get("/login").get_data(as_text=True)
