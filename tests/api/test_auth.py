from inspect_api.models import ApiToken, AuditEvent, Device
from inspect_api.services.accounts.auth import hash_token

from ..factories import PASSWORD


def test_sign_in_returns_bearer_token_and_user(client, world):
    resp = client.post("/api/v1/auth/token", json={"username": "inspector1", "password": PASSWORD,
                                                    "device_id": "tablet-001", "device_name": "Pad A"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_at"], int) and body["expires_at"] > 1_700_000_000_000
    assert body["user"] == {**body["user"], "username": "inspector1", "role": "inspector",
                            "region_code": "131102", "enterprise_id": None}
    assert body["user"]["id"] == world["inspector1"].id


def test_token_is_stored_only_as_its_hash(client, world, db):
    raw = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).get_json()[
        "access_token"]
    stored = db.query(ApiToken).filter_by(user_id=world["admin"].id).one()
    assert stored.token_hash == hash_token(raw)
    assert raw not in stored.token_hash


def test_wrong_password_and_unknown_user_answer_the_same_401(client, world):
    a = client.post("/api/v1/auth/token", json={"username": "admin", "password": "nope-nope-1"})
    b = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope-1"})
    assert a.status_code == b.status_code == 401
    assert a.get_json()["code"] == b.get_json()["code"] == "invalid_credentials"
    assert set(a.get_json()) == {"status", "code", "message", "details"}


def test_password_hash_is_argon2id(world):
    assert world["admin"].password_hash.startswith("$argon2id$")


def test_requests_without_or_with_bad_token_are_401(client, world):
    assert client.get("/api/v1/users/me").get_json()["code"] == "unauthorized"
    resp = client.get("/api/v1/users/me", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"


def test_delete_token_revokes_it(client, auth, world):
    headers = auth.headers("inspector1")
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_expired_token_is_401(client, auth, world, db):
    from datetime import timedelta

    from inspect_api.models import utcnow

    headers = auth.headers("inspector1")
    db.query(ApiToken).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.flush()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_admin_revoking_a_device_kills_all_its_tokens_at_once(client, auth, world, db):
    t1 = auth.headers("inspector1", device_id="lost-tablet")
    t2 = auth.headers("inspector1", device_id="lost-tablet")
    other = auth.headers("inspector1", device_id="other-tablet")
    device = db.query(Device).filter_by(client_device_id="lost-tablet").one()
    admin = auth.headers("admin")
    resp = client.post(f"/api/v1/devices/{device.id}/revoke", json={"reason": "丢失"}, headers=admin)
    assert resp.status_code == 200 and resp.get_json()["revoked_at"]
    assert client.get("/api/v1/users/me", headers=t1).status_code == 401
    assert client.get("/api/v1/users/me", headers=t2).status_code == 401
    assert client.get("/api/v1/users/me", headers=other).status_code == 200
    # The revoked tablet cannot sign in again
    again = client.post("/api/v1/auth/token", json={"username": "inspector1", "password": PASSWORD,
                                                     "device_id": "lost-tablet"})
    assert again.status_code == 401 and again.get_json()["code"] == "device_revoked"
    ev = db.query(AuditEvent).filter_by(action="device.revoked", object_id=device.id).one()
    assert ev.actor_id == world["admin"].id and ev.reason == "丢失"


def test_only_admin_may_revoke_devices(client, auth, world, db):
    auth.headers("inspector1", device_id="tab-x")
    device = db.query(Device).filter_by(client_device_id="tab-x").one()
    resp = client.post(f"/api/v1/devices/{device.id}/revoke", json={}, headers=auth.headers("supervisor"))
    assert resp.status_code == 403


def test_disabled_user_loses_access(client, auth, world):
    headers = auth.headers("inspector2")
    admin = auth.headers("admin")
    resp = client.patch(f"/api/v1/users/{world['inspector2'].id}", json={"is_active": False}, headers=admin)
    assert resp.status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "inspector2", "password": PASSWORD}
                       ).status_code == 401


def test_inspector_needs_a_certificate_number(client, auth, world, db):
    from tests import factories

    factories.user(db, "sec_admin", "security_admin")
    db.commit()
    admin = auth.headers("sec_admin")
    resp = client.post("/api/v1/users", headers=admin, json={
        "username": "newinsp", "password": "Secret-123", "role": "inspector", "region_code": "131102"})
    assert resp.status_code == 422
    assert "certificate_no" in resp.get_json()["details"]["fields"]
    ok = client.post("/api/v1/users", headers=admin, json={
        "username": "newinsp", "password": "Secret-123", "role": "inspector", "region_code": "131102",
        "certificate_no": "13110299"})
    assert ok.status_code == 201 and ok.get_json()["certificate_no"] == "13110299"
