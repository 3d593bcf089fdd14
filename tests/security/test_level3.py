"""Level-3 protection on the application (等保三级, GB/T 22239-2019): the password policy, three separated
administrators, the audit administrator's log, session limits, unused accounts, and on PostgreSQL an
application role that cannot change or unguard the audit log."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from inspect_api.models import ApiToken, AuditEvent, User, utcnow
from inspect_api.services.access.actor import Actor
from inspect_api.services.accounts import users as user_service

from .. import factories
from ..browser.portal_helpers import portal_login
from ..conftest import is_postgres


@pytest.fixture()
def admins(db, world):
    sec = factories.user(db, "sec_admin", "security_admin", display_name="安全管理员")
    aud = factories.user(db, "aud_admin", "audit_admin", display_name="审计管理员")
    db.commit()
    return {"security": sec, "audit": aud}


@pytest.mark.parametrize("password,rule", [
    ("Ab1!", "长度不足"),
    ("abcdefgh12", "至少 3 类"),
    ("Inspector1-x", "用户名"),
    ("1rotcepsni!A", "用户名"),  # the username reversed
])
def test_a_weak_password_is_refused_naming_the_rule(client, auth, world, password, rule):
    resp = client.post("/api/v1/users/me/password", headers=auth.headers("inspector1"),
                       json={"current_password": factories.PASSWORD, "new_password": password})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["code"] == "weak_password" and rule in body["message"]
    assert rule in body["details"]["fields"]["password"][0]


def test_none_of_the_last_five_passwords_may_come_back(db, client, auth, world):
    headers = auth.headers("inspector2")
    current = factories.PASSWORD
    used = [current]
    for n in range(5):
        new = f"Field-Day-{n}x"
        resp = client.post("/api/v1/users/me/password", headers=headers,
                           json={"current_password": current, "new_password": new})
        assert resp.status_code == 204, resp.get_json()
        used.append(new)
        current = new
    for old in used[-5:]:
        resp = client.post("/api/v1/users/me/password", headers=headers,
                           json={"current_password": current, "new_password": old})
        assert resp.status_code == 422 and "最近 5 次" in resp.get_json()["message"]
    # the oldest one has left the history
    resp = client.post("/api/v1/users/me/password", headers=headers,
                       json={"current_password": current, "new_password": used[0]})
    assert resp.status_code == 204


NEW_USER = {"username": "inspector9", "password": "Init-pass-9", "role": "inspector", "region_code": "131102",
            "certificate_no": "13110221999", "display_name": "赵九"}


def test_only_the_security_administrator_grants_roles(db, client, auth, world, admins):
    resp = client.post("/api/v1/users", headers=auth.headers("admin"), json=NEW_USER)
    assert resp.status_code == 403
    assert db.scalar(select(User.id).where(User.username == "inspector9")) is None
    resp = client.post("/api/v1/users", headers=auth.headers("sec_admin"), json=NEW_USER)
    assert resp.status_code == 201 and resp.get_json()["must_change_password"] is True
    uid = resp.get_json()["id"]
    resp = client.patch(f"/api/v1/users/{uid}", headers=auth.headers("admin"), json={"role": "supervisor"})
    assert resp.status_code == 403 and resp.get_json()["code"] == "grant_forbidden"
    resp = client.patch(f"/api/v1/users/{uid}", headers=auth.headers("sec_admin"), json={"role": "supervisor"})
    assert resp.status_code == 200 and resp.get_json()["role"] == "supervisor"
    grants = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_granted",
                                                 AuditEvent.object_id == uid)).all()
    assert [(e.from_state, e.to_state, e.actor_id) for e in grants] == [("inspector", "supervisor",
                                                                          admins["security"].id)]
    # the system administrator still keeps accounts: jurisdiction, disable, reset
    assert client.patch(f"/api/v1/users/{uid}", headers=auth.headers("admin"),
                        json={"display_name": "赵九（监管）"}).status_code == 200


def test_no_account_holds_two_administrator_roles_and_nobody_grants_themself(db, client, auth, world, admins):
    sec = admins["security"]
    resp = client.patch(f"/api/v1/users/{sec.id}", headers=auth.headers("sec_admin"), json={"role": "audit_admin"})
    assert resp.status_code == 409 and resp.get_json()["code"] == "separation_of_duties"
    resp = client.patch(f"/api/v1/users/{world['admin'].id}", headers=auth.headers("sec_admin"),
                        json={"role": "audit_admin"})
    assert resp.status_code == 409 and resp.get_json()["code"] == "separation_of_duties"
    db.expire_all()
    assert (db.get(User, sec.id).role, db.get(User, world["admin"].id).role) == ("security_admin", "admin")


def test_the_audit_administrator_reads_and_exports_the_log_and_does_nothing_else(db, client, auth, world,
                                                                                  admins):
    aud = auth.headers("aud_admin")
    body = client.get("/api/v1/audit?action_prefix=auth.", headers=aud).get_json()
    assert body and all(e["action"].startswith("auth.") for e in body)
    resp = client.get("/api/v1/audit/export?action_prefix=auth.", headers=aud)
    assert resp.status_code == 200 and resp.get_data(as_text=True).startswith("\ufeff时间(UTC),用户")
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "audit.export",
                                                 AuditEvent.actor_id == admins["audit"].id))
    for method, url, body in (("patch", f"/api/v1/users/{world['inspector1'].id}", {"display_name": "x"}),
                              ("post", "/api/v1/users", NEW_USER), ("get", "/api/v1/enterprises", None)):
        resp = getattr(client, method)(url, headers=aud, json=body)
        assert resp.status_code in (403, 404) or resp.get_json() == [], (url, resp.status_code)
    # the system administrator does not read the audit log
    assert client.get("/api/v1/audit", headers=auth.headers("admin")).status_code == 403


def test_a_purge_inside_the_retention_period_is_refused(app, db, world):
    runner = app.test_cli_runner()
    before = (utcnow() - timedelta(days=100)).date().isoformat()
    out = runner.invoke(args=["audit", "purge", "--before", before])
    assert out.exit_code == 3 and "至少保存 180 天" in out.output
    count = db.scalar(select(text("count(*)")).select_from(AuditEvent))
    out = runner.invoke(args=["audit", "purge", "--before", (utcnow() - timedelta(days=200)).date().isoformat()])
    assert out.exit_code == 0, out.output
    # nothing that old: only the purge's own event is new
    assert db.scalar(select(text("count(*)")).select_from(AuditEvent)) == count + 1


def test_unused_accounts_are_disabled_and_their_tokens_die_at_once(db, client, auth, world):
    headers = auth.headers("inspector3")
    user = world["inspector3"]
    user.last_login_at = utcnow() - timedelta(days=120)
    db.commit()
    disabled = user_service.disable_unused(db, Actor.system("test"), 90)
    db.commit()
    assert user in disabled and not user.is_active
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert db.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)) is not None


def test_a_portal_session_ends_after_the_idle_time_and_the_absolute_lifetime(client, world, monkeypatch):
    portal_login(client, "supervisor")
    assert client.get("/desk/").status_code == 200
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start + 29 * 60)
    assert client.get("/desk/").status_code == 200  # 29 minutes idle: still signed in
    monkeypatch.setattr(time, "time", lambda: start + 29 * 60 + 31 * 60)
    resp = client.get("/desk/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # active all day long still ends at the absolute lifetime (12 h)
    monkeypatch.setattr(time, "time", lambda: start)
    portal_login(client, "supervisor")
    for minute in range(0, 12 * 60, 20):
        monkeypatch.setattr(time, "time", lambda m=minute: start + m * 60)
        assert client.get("/desk/").status_code == 200
    monkeypatch.setattr(time, "time", lambda: start + 12 * 3600 + 60)
    assert client.get("/desk/").status_code == 302


def test_an_expired_staff_password_must_be_changed_in_the_portal_while_the_tablet_keeps_syncing(db, client,
                                                                                                world):
    user = world["inspector1"]
    user.password_changed_at = utcnow() - timedelta(days=91)
    db.commit()
    resp = client.post("/api/v1/auth/token", json={"username": "inspector1", "password": factories.PASSWORD,
                                                   "device_id": "pad-x"})
    assert resp.status_code == 201
    resp = portal_login(client, "inspector1")
    assert resp.status_code == 302 and "password" in resp.headers["Location"]


@pytest.mark.skipif(not is_postgres(), reason="the application role is PostgreSQL's (CI runs it there)")
def test_the_application_role_can_neither_change_the_audit_log_nor_unguard_it(fresh_database_url, tmp_path):
    from alembic import command

    from inspect_api import create_app
    from inspect_api.extensions import db as _db

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path)})
    with app.app_context():
        command.upgrade(app.extensions["migrate"].migrate.get_config(), "head")
        engine = _db.engine
        with engine.connect() as conn:
            conn.execute(text("SET ROLE inspect_app"))
            conn.commit()
            with conn.begin():
                conn.execute(text("INSERT INTO audit_events (at, action, data) VALUES (now(), 'test.insert', '{}')"))
                assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 1
                conn.execute(text("SELECT seq FROM sync_state"))
            for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events",
                              "TRUNCATE audit_events",
                              "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                              "DROP TRIGGER audit_events_append_only ON audit_events",
                              "DROP TABLE audit_events"):
                with pytest.raises(Exception) as info:
                    with conn.begin():
                        conn.execute(text(statement))
                assert "permission denied" in str(info.value) or "must be owner" in str(info.value), statement
        engine.dispose()
