"""seed-demo: the Hengshui demo data, idempotent; and what the seeded users see through the API."""
from sqlalchemy import func, select

from inspect_api.extensions import db as _db
from inspect_api.models import (
    AuditEvent, ChecklistItem, ChecklistTemplate, DocumentCounter, Enterprise, Finding, Hazard, Inspection,
    Notice, Region, SyncTombstone, User, current_seq,
)
from inspect_api.cli.demo_data import seed_demo
from inspect_api.services.registry.uscc import validate_uscc

PASSWORD = "demo-pass-42"

COUNTED = (Region, Enterprise, User, ChecklistTemplate, ChecklistItem, AuditEvent, SyncTombstone, Inspection,
           Finding, Hazard, Notice, DocumentCounter)


def _snapshot(db):
    counts = {m.__tablename__: db.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    counts["seq"] = current_seq(db)
    counts["max_updated"] = db.scalar(select(func.max(Enterprise.updated_at)))
    return counts


def _token(client, username, password=PASSWORD):
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert resp.status_code == 201, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}


def test_seed_demo_twice_creates_and_updates_nothing_the_second_time(db):
    first = seed_demo(db, password=PASSWORD)
    db.flush()
    assert first.enterprises.created >= 28 and first.regions.created == 13 and first.users.created == 8
    assert set(first.checklists.values()) == {"created"}
    assert first.activity.created == 2
    before = _snapshot(db)
    second = seed_demo(db, password=PASSWORD)
    db.flush()
    assert second.changed is False
    assert (second.regions.created, second.regions.updated) == (0, 0)
    assert (second.enterprises.created, second.enterprises.updated) == (0, 0)
    assert second.users.created == 0
    assert (second.activity.created, second.activity.unchanged) == (0, 2)
    assert set(second.checklists.values()) == {"unchanged"}
    assert _snapshot(db) == before


def test_seeded_data_is_complete_and_valid(db):
    seed_demo(db, password=PASSWORD)
    db.flush()
    counties = db.scalars(select(Region).where(Region.parent_id == "131100").order_by(Region.id)).all()
    assert len(counties) == 11
    assert {c.kind for c in counties} == {"市辖区", "县", "县级市"}
    ents = db.scalars(select(Enterprise)).all()
    assert 28 <= len(ents) <= 35
    assert all(validate_uscc(e.uscc) is None for e in ents)
    assert len({e.region_id for e in ents}) == 11
    assert {e.major_hazard_level for e in ents} == {0, 1, 2, 3, 4}
    assert {e.risk_color for e in ents} == {"red", "orange", "yellow", "blue"}
    hc = db.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "HC2017")).one()
    assert hc.status == "published" and len(hc.items) == 20
    assert all(i.major_criterion_code == i.code for i in hc.items)
    assert [i.code for i in hc.items][:2] == ["HC2017-01", "HC2017-02"]
    general = db.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "GUIDE2019")).one()
    assert general.status == "published"
    assert "recalled" in general.source
    top = {i.category.split("—")[0] for i in general.items}
    assert top == {"安全基础管理", "设计与总图", "试生产", "装置运行", "设备", "仪表", "电气", "特殊作业",
                   "危险化学品储存"}
    assert all(i.basis for i in general.items)
    users = {u.username: u for u in db.scalars(select(User))}
    assert users["inspector3"].region_id == "131182" and users["inspector3"].certificate_no
    assert users["supervisor"].region_id == "131100"
    e1, e2 = users["enterprise1"].enterprise, users["enterprise2"].enterprise
    assert e1.id != e2.id and e1.region_id == e2.region_id == "131102"


def test_seeded_inspector3_lists_only_shenzhou_enterprises(db, client):
    seed_demo(db, password=PASSWORD)
    db.commit()
    resp = client.get("/api/v1/enterprises?page_size=100", headers=_token(client, "inspector3"))
    assert resp.status_code == 200
    listed = resp.get_json()
    expected = db.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.region_id == "131182"))
    assert expected > 0 and len(listed) == expected
    assert {e["region_name"] for e in listed} == {"深州市"}


def test_seeded_enterprise1_reading_enterprise2s_enterprise_gets_404(db, client):
    seed_demo(db, password=PASSWORD)
    db.commit()
    other = db.scalars(select(User).where(User.username == "enterprise2")).one().enterprise_id
    own = db.scalars(select(User).where(User.username == "enterprise1")).one().enterprise_id
    h = _token(client, "enterprise1")
    resp = client.get(f"/api/v1/enterprises/{other}", headers=h)
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"
    assert client.get(f"/api/v1/enterprises/{own}", headers=h).status_code == 200


def test_seed_demo_keeps_an_existing_users_password(db, client):
    seed_demo(db, password=PASSWORD)
    db.commit()
    seed_demo(db, password="another-pass-9")
    db.commit()
    _token(client, "admin", PASSWORD)


def test_cli_on_a_fresh_database_upgrade_then_seed_demo_twice(fresh_database_url, tmp_path):
    from inspect_api import create_app

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path),
                      "DEMO_PASSWORD": PASSWORD})
    runner = app.test_cli_runner()
    try:
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert "inspector3" in result.output and PASSWORD in result.output
        with app.app_context():
            events = _db.session.scalar(select(func.count()).select_from(AuditEvent))
            ents = _db.session.scalar(select(func.count()).select_from(Enterprise))
        assert ents >= 28
        again = runner.invoke(args=["seed-demo"])
        assert again.exit_code == 0, again.output
        assert "nothing changed" in again.output
        with app.app_context():
            assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == events
        client = app.test_client()
        h = _token(client, "inspector3")
        listed = client.get("/api/v1/enterprises?page_size=100", headers=h).get_json()
        assert listed and {e["region_code"] for e in listed} == {"131182"}
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_seeded_enterprise1_has_an_open_notice_and_enterprise2_an_overdue_one(db, client):
    seed_demo(db, password=PASSWORD)
    db.commit()
    users = {u.username: u for u in db.scalars(select(User))}
    notices = {n.enterprise_id: n for n in db.scalars(select(Notice))}
    n1, n2 = notices[users["enterprise1"].enterprise_id], notices[users["enterprise2"].enterprise_id]
    assert n1.number.startswith("（桃城）应急责改〔") and n1.status == "issued"
    assert {n1.officer1_id, n1.officer2_id} == {users["inspector1"].id, users["inspector2"].id}
    assert [h.status for h in n1.hazards] == ["ordered", "ordered"]
    assert all(h.finding_id and h.inspection_id == "DemoInspection01" for h in n1.hazards)
    from inspect_api.models import utcnow
    assert n2.deadline_at < utcnow() < n1.deadline_at
    inspection = db.get(Inspection, "DemoInspection01")
    assert {f.result for f in inspection.findings} == {"pass", "fail"}
    # the enterprise user sees its own hazards only, through the scoped queries
    from inspect_api.services.access.scope import select_scoped
    seen = db.scalars(select_scoped(Hazard, users["enterprise1"]).where(Hazard.origin == "inspection")).all()
    assert {h.id for h in seen} == {"DemoHazard000001", "DemoHazard000002"}
