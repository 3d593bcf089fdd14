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
    assert first.enterprises.created >= 28 and first.regions.created == 13 and first.users.created == 12
    assert set(first.checklists.values()) == {"created"}
    assert first.activity.created >= 80  # hazards of the demo year
    before = _snapshot(db)
    second = seed_demo(db, password=PASSWORD)
    db.flush()
    assert second.changed is False
    assert (second.regions.created, second.regions.updated) == (0, 0)
    assert (second.enterprises.created, second.enterprises.updated) == (0, 0)
    assert second.users.created == 0
    assert (second.activity.created, second.activity.unchanged) == (0, 1)
    assert set(second.checklists.values()) == {"unchanged"}
    assert _snapshot(db) == before


def test_seeded_data_is_complete_and_valid(db):
    seed_demo(db, password=PASSWORD, activity=False)
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
    seed_demo(db, password=PASSWORD, activity=False)
    db.commit()
    resp = client.get("/api/v1/enterprises?page_size=100", headers=_token(client, "inspector3"))
    assert resp.status_code == 200
    listed = resp.get_json()
    expected = db.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.region_id == "131182"))
    assert expected > 0 and len(listed) == expected
    assert {e["region_name"] for e in listed} == {"深州市"}


def test_seeded_enterprise1_reading_enterprise2s_enterprise_gets_404(db, client):
    seed_demo(db, password=PASSWORD, activity=False)
    db.commit()
    other = db.scalars(select(User).where(User.username == "enterprise2")).one().enterprise_id
    own = db.scalars(select(User).where(User.username == "enterprise1")).one().enterprise_id
    h = _token(client, "enterprise1")
    resp = client.get(f"/api/v1/enterprises/{other}", headers=h)
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"
    assert client.get(f"/api/v1/enterprises/{own}", headers=h).status_code == 200


def test_seed_demo_keeps_an_existing_users_password(db, client):
    seed_demo(db, password=PASSWORD, activity=False)
    db.commit()
    seed_demo(db, password="another-pass-9", activity=False)
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


def test_the_demo_year_gives_every_role_work(db):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from inspect_api.models import Device, Photo, Rectification, utcnow
    from inspect_api.services.access.scope import select_scoped

    seed_demo(db, password=PASSWORD)
    db.flush()
    now = utcnow()
    users = {u.username: u for u in db.scalars(select(User))}
    hazards = db.scalars(select(Hazard)).all()
    # a year across all eleven counties
    assert {h.region_code for h in hazards} == {r.id for r in db.scalars(select(Region).where(
        Region.parent_id == "131100"))}
    assert min(h.found_at for h in hazards) < now - timedelta(days=300)
    # every deadline ends the day at 23:59 Beijing time
    shanghai = ZoneInfo("Asia/Shanghai")
    assert {h.deadline_at.astimezone(shanghai).strftime("%H:%M") for h in hazards if h.deadline_at} == {"23:59"}
    # enterprise1: a notice to sign, a listed major hazard with its 五落实 plan, a rejected fix to redo
    own1 = db.scalars(select_scoped(Hazard, users["enterprise1"])).all()
    statuses = {h.status for h in own1}
    assert {"ordered", "acknowledged", "rejected"} <= statuses
    major = [h for h in own1 if h.grade == "major"]
    assert major and major[0].listing_level == "city" and major[0].plan.is_complete
    # enterprise2: an overdue hazard and a major hazard waiting for 签收 and for listing
    own2 = db.scalars(select_scoped(Hazard, users["enterprise2"])).all()
    assert any(h.status == "acknowledged" and h.deadline_at < now for h in own2)
    assert any(h.grade == "major" and h.status == "ordered" and not h.listing_level for h in own2)
    # inspectors: fixes waiting for review, each with an "after" photo
    for name in ("inspector1", "inspector3"):
        pending = db.scalars(select_scoped(Rectification, users[name]).where(Rectification.status == "pending"))
        pending = list(pending)
        assert pending, name
        assert all(db.scalar(select(func.count()).select_from(Photo).where(
            Photo.owner_id == r.id, Photo.status == "ready")) for r in pending)
    # supervisors: a verified, listed major hazard ready for closure
    assert any(h.status == "verified" and h.listing_level == "county" for h in hazards)
    # hazards with photos; tablets listed, one revoked
    with_photos = db.scalar(select(func.count(func.distinct(Photo.owner_id))).where(
        Photo.owner_table == "hazards", Photo.status == "ready"))
    assert with_photos >= 20
    devices = db.scalars(select(Device)).all()
    assert len(devices) >= 5 and sum(d.revoked_at is not None for d in devices) == 1
