"""The enterprise registry API: scope, filters, validation, ETag, region moves."""
from sqlalchemy import func, select

from inspect_api.models import AuditEvent, Enterprise, SyncTombstone
from inspect_api.services.registry.uscc import check_char, make_uscc

from .. import factories


def _names(resp):
    assert resp.status_code == 200, resp.get_json()
    return sorted(e["name"] for e in resp.get_json())


def test_inspector_lists_only_enterprises_of_his_county(client, world, auth):
    resp = client.get("/api/v1/enterprises", headers=auth.headers("inspector3"))
    assert _names(resp) == ["深州危化储运有限公司"]
    resp = client.get("/api/v1/enterprises", headers=auth.headers("inspector1"))
    assert _names(resp) == ["衡水示例化工有限公司", "衡水第二化学品有限公司"]


def test_city_supervisor_sees_every_county_and_filters_by_region_subtree(client, world, auth):
    h = auth.headers("supervisor")
    assert len(_names(client.get("/api/v1/enterprises", headers=h))) == 3
    assert _names(client.get("/api/v1/enterprises?region=131182", headers=h)) == ["深州危化储运有限公司"]
    assert len(_names(client.get("/api/v1/enterprises?region=131100", headers=h))) == 3


def test_enterprise_user_sees_only_own_enterprise_and_another_is_404(client, world, auth):
    h = auth.headers("enterprise1")
    assert _names(client.get("/api/v1/enterprises", headers=h)) == ["衡水示例化工有限公司"]
    assert client.get(f"/api/v1/enterprises/{world.ent1.id}", headers=h).status_code == 200
    resp = client.get(f"/api/v1/enterprises/{world.ent2.id}", headers=h)
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"


def test_inspector_reading_another_county_enterprise_gets_404(client, world, auth):
    resp = client.get(f"/api/v1/enterprises/{world.ent_shenzhou.id}", headers=auth.headers("inspector1"))
    assert resp.status_code == 404


def test_filters_by_industry_risk_colour_hazard_level_and_text(client, world, auth):
    h = auth.headers("admin")
    assert _names(client.get("/api/v1/enterprises?industry=F51", headers=h)) == ["深州危化储运有限公司"]
    assert _names(client.get("/api/v1/enterprises?risk_color=orange,blue", headers=h)) == [
        "深州危化储运有限公司", "衡水示例化工有限公司"]
    assert _names(client.get("/api/v1/enterprises?major_hazard_level=3", headers=h)) == ["衡水示例化工有限公司"]
    assert _names(client.get("/api/v1/enterprises?is_major_hazard=false", headers=h)) == [
        "深州危化储运有限公司", "衡水第二化学品有限公司"]
    assert _names(client.get("/api/v1/enterprises?q=第二化学", headers=h)) == ["衡水第二化学品有限公司"]
    assert _names(client.get(f"/api/v1/enterprises?q={world.ent_shenzhou.uscc[-6:]}", headers=h)) == [
        "深州危化储运有限公司"]
    resp = client.get("/api/v1/enterprises?risk_color=purple", headers=h)
    assert resp.status_code == 422 and "risk_color" in resp.get_json()["details"]["fields"]


def test_list_is_paginated_with_a_header(client, world, auth):
    resp = client.get("/api/v1/enterprises?page=1&page_size=2", headers=auth.headers("admin"))
    assert resp.status_code == 200
    assert len(resp.get_json()) == 2
    assert '"total": 3' in resp.headers["X-Pagination"]


def _new(region="131102", seed=555, **kw):
    body = {"name": "衡水新建化工有限公司", "uscc": make_uscc(region, seed), "region_code": region,
            "industry": "C26", "major_hazard_level": 2, "risk_color": "yellow",
            "hazardous_processes": ["氯化工艺", "加氢"], "scale": "small", "address": "衡水市桃城区工业园区1号"}
    body.update(kw)
    return body


def test_admin_creates_an_enterprise_with_normalised_processes_and_an_audit_event(client, world, auth, db):
    resp = client.post("/api/v1/enterprises", json=_new(), headers=auth.headers("admin"))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["region_code"] == "131102" and body["region_name"] == "桃城区"
    assert body["hazardous_processes"] == ["氯化工艺", "加氢工艺"]
    assert body["industry_name"] == "化学原料和化学制品制造业"
    events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == body["id"])).all()
    assert [e.action for e in events] == ["enterprise.created"]


def test_wrong_check_character_is_422_naming_uscc(client, world, auth):
    good = make_uscc("131102", 777)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    resp = client.post("/api/v1/enterprises", json=_new(uscc=wrong), headers=auth.headers("admin"))
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["code"] == "validation_error"
    assert list(body["details"]["fields"]) == ["uscc"]
    assert check_char(good[:17]) in body["details"]["fields"]["uscc"][0]


def test_unknown_region_and_unknown_process_are_422_naming_the_fields(client, world, auth):
    resp = client.post("/api/v1/enterprises", json=_new(region_code="131199", hazardous_processes=["炼丹工艺"]),
                       headers=auth.headers("admin"))
    assert resp.status_code == 422
    assert set(resp.get_json()["details"]["fields"]) == {"region_code", "hazardous_processes"}


def test_duplicate_credit_code_is_409(client, world, auth):
    resp = client.post("/api/v1/enterprises", json=_new(uscc=world.ent1.uscc), headers=auth.headers("admin"))
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "uscc_taken"


def test_unknown_field_is_rejected(client, world, auth):
    resp = client.post("/api/v1/enterprises", json=_new(owner="x"), headers=auth.headers("admin"))
    assert resp.status_code == 422 and "owner" in resp.get_json()["details"]["fields"]


def test_inspectors_and_enterprise_users_may_not_create(client, world, auth):
    for who in ("inspector1", "enterprise1"):
        resp = client.post("/api/v1/enterprises", json=_new(), headers=auth.headers(who))
        assert resp.status_code == 403


def test_county_supervisor_creates_only_inside_jurisdiction(client, world, auth):
    h = auth.headers("supervisor_taocheng")
    assert client.post("/api/v1/enterprises", json=_new(), headers=h).status_code == 201
    resp = client.post("/api/v1/enterprises", json=_new(region="131182", seed=556), headers=h)
    assert resp.status_code == 403
    assert resp.get_json()["code"] == "outside_jurisdiction"


def _get_with_etag(client, h, ent_id):
    resp = client.get(f"/api/v1/enterprises/{ent_id}", headers=h)
    assert resp.status_code == 200
    return resp.headers["ETag"]


def test_update_needs_if_match_and_a_stale_etag_gets_412(client, world, auth):
    h = auth.headers("admin")
    url = f"/api/v1/enterprises/{world.ent1.id}"
    etag = _get_with_etag(client, h, world.ent1.id)
    resp = client.patch(url, json={"risk_color": "red"}, headers=h)
    assert resp.status_code == 428
    resp = client.patch(url, json={"risk_color": "red"}, headers={**h, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["risk_color"] == "red"
    resp = client.patch(url, json={"risk_color": "blue"}, headers={**h, "If-Match": etag})
    assert resp.status_code == 412
    assert set(resp.get_json()) == {"status", "code", "message", "details"}
    assert resp.get_json()["code"] == "precondition_failed"
    assert client.get(url, headers=h).get_json()["risk_color"] == "red"


def test_region_move_leaves_a_tombstone_for_the_old_region_and_an_audit_event(client, world, auth, db):
    h = auth.headers("supervisor")
    etag = _get_with_etag(client, h, world.ent2.id)
    resp = client.patch(f"/api/v1/enterprises/{world.ent2.id}", json={"region_code": "131182"},
                        headers={**h, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["region_name"] == "深州市"
    stones = db.scalars(select(SyncTombstone).where(SyncTombstone.record_id == world.ent2.id)).all()
    assert [(s.table_name, s.region_code) for s in stones] == [("enterprises", "131102")]
    assert stones[0].seq > 0
    ent = db.get(Enterprise, world.ent2.id)
    assert stones[0].seq != ent.sync_seq
    event = db.scalars(select(AuditEvent).where(AuditEvent.object_id == world.ent2.id,
                                                AuditEvent.action == "enterprise.updated")).one()
    assert event.data["region_code"] == ["131102", "131182"]
    # the 桃城区 inspector no longer sees it
    resp = client.get(f"/api/v1/enterprises/{world.ent2.id}", headers=auth.headers("inspector1"))
    assert resp.status_code == 404


def test_county_supervisor_cannot_move_an_enterprise_out_of_jurisdiction(client, world, auth, db):
    h = auth.headers("supervisor_taocheng")
    etag = _get_with_etag(client, h, world.ent1.id)
    resp = client.patch(f"/api/v1/enterprises/{world.ent1.id}", json={"region_code": "131182"},
                        headers={**h, "If-Match": etag})
    assert resp.status_code == 403
    assert db.scalar(select(func.count()).select_from(SyncTombstone)) == 0


def test_update_without_changes_writes_no_audit_event(client, world, auth, db):
    h = auth.headers("admin")
    etag = _get_with_etag(client, h, world.ent1.id)
    before = db.scalar(select(func.count()).select_from(AuditEvent)
                       .where(AuditEvent.object_id == world.ent1.id))
    seq = db.get(Enterprise, world.ent1.id).sync_seq
    resp = client.patch(f"/api/v1/enterprises/{world.ent1.id}", json={"name": world.ent1.name},
                        headers={**h, "If-Match": etag})
    assert resp.status_code == 200
    assert db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.object_id == world.ent1.id)) == before
    db.expire_all()
    assert db.get(Enterprise, world.ent1.id).sync_seq == seq


def test_supervisor_of_another_county_gets_404_on_update(client, world, auth, db):
    other = factories.user(db, "supervisor_shenzhou", "supervisor", region="131182")
    db.commit()
    h = auth.headers(other.username)
    resp = client.patch(f"/api/v1/enterprises/{world.ent1.id}", json={"risk_color": "red"},
                        headers={**h, "If-Match": '"x"'})
    assert resp.status_code == 404


def test_changing_the_credit_code_to_another_enterprises_code_is_409(client, world, auth):
    h = auth.headers("admin")
    etag = _get_with_etag(client, h, world.ent1.id)
    url = f"/api/v1/enterprises/{world.ent1.id}"
    resp = client.patch(url, json={"uscc": world.ent2.uscc}, headers={**h, "If-Match": etag})
    assert resp.status_code == 409 and resp.get_json()["code"] == "uscc_taken"
    new_code = make_uscc("131102", 4242)
    resp = client.patch(url, json={"uscc": new_code.lower()}, headers={**h, "If-Match": etag})
    assert resp.status_code == 200 and resp.get_json()["uscc"] == new_code
