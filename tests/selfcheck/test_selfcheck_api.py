"""Self-inspection through the API: sources and duty holders, due checks, checks with self-found hazards,
the enterprise's own closure, commitments, re-check samples and the statistics (hand-computed)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from inspect_api.models import AuditEvent, DutyHolder, Hazard, Notice, RecheckSample, SelfCheckDue, utcnow
from inspect_api.services.access.actor import Actor
from inspect_api.services.selfcheck import checks, duties, recheck
from inspect_api.services.selfcheck.common import local_today

API = "/api/v1/selfcheck"


def test_a_source_with_its_duty_holders_is_seen_by_its_enterprise_and_bureau_only(client, auth, world, plant):
    body = client.get(f"{API}/sources", headers=auth.headers("enterprise1")).get_json()
    assert [s["name"] for s in body] == ["一号罐区"]
    holders = {h["role"]: h for h in body[0]["duty_holders"]}
    assert set(holders) == {"principal", "technical", "operational"}
    assert holders["principal"]["phone"] == "138****5678"  # masked
    sid = plant.source.id
    assert client.get(f"{API}/sources/{sid}", headers=auth.headers("inspector1")).status_code == 200
    for other in ("enterprise2", "inspector3"):
        resp = client.get(f"{API}/sources/{sid}", headers=auth.headers(other))
        assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"
    assert client.get(f"{API}/sources", headers=auth.headers("enterprise2")).get_json() == []


def test_a_new_holder_replaces_the_old_one_and_both_stay_on_record(db, client, auth, world, plant):
    resp = client.post(f"{API}/sources/{plant.source.id}/holders", headers=auth.headers("enterprise1"),
                       json={"role": "operational", "name": "赵新", "appointed_on": (local_today() + timedelta(days=1))
                             .isoformat()})
    assert resp.status_code == 201, resp.get_json()
    rows = db.scalars(select(DutyHolder).where(DutyHolder.source_id == plant.source.id,
                                               DutyHolder.role == "operational")).all()
    assert sorted((h.name, h.ended_on is None) for h in rows) == [("张班长", False), ("赵新", True)]
    events = db.scalars(select(AuditEvent.action).where(AuditEvent.object_table == "duty_holders")).all()
    assert events.count("duty_holder.appoint") == 4


def test_bad_source_and_holder_input_is_refused_and_changes_nothing(db, client, auth, world, plant):
    h = auth.headers("enterprise1")
    assert client.post(f"{API}/sources", headers=h, json={"name": "二号", "grade": 5}).status_code == 422
    assert client.post(f"{API}/sources", headers=h, json={"name": "一号罐区", "grade": 2}).status_code == 422
    resp = client.post(f"{API}/sources/{plant.source.id}/holders", headers=h,
                       json={"role": "technical", "name": "x", "user_id": world["enterprise2"].id})
    assert resp.status_code == 422 and "user_id" in resp.get_json()["details"]["fields"]
    assert client.post(f"{API}/sources", headers=auth.headers("inspector1"),
                       json={"name": "x", "grade": 1}).status_code == 403


def test_duties_make_due_checks_per_period_and_missed_ones_are_visible(db, client, auth, world, plant):
    wednesday = date(2026, 12, 2)
    assert duties.generate_dues(db, wednesday) == 3
    assert duties.generate_dues(db, wednesday) == 0  # idempotent
    dues = {d.role: d for d in db.scalars(select(SelfCheckDue))}
    assert (dues["operational"].period_start, dues["operational"].period_end) == (date(2026, 11, 30),
                                                                                   date(2026, 12, 6))
    assert (dues["operational"].period_end - dues["operational"].period_start).days == 6
    assert duties.mark_missed(db, date(2026, 12, 7)) == 1  # only the week ended
    db.commit()
    missed = client.get(f"{API}/dues?status=missed", headers=auth.headers("supervisor_taocheng")).get_json()
    assert [(d["role"], d["period_end"]) for d in missed] == [("operational", "2026-12-06")]
    mine = client.get(f"{API}/dues?mine=true", headers=auth.headers("ent1_technical")).get_json()
    assert [d["role"] for d in mine] == ["technical"]
    assert client.get(f"{API}/dues", headers=auth.headers("enterprise2")).get_json() == []


def _due(db, role):
    duties.generate_dues(db, local_today())
    db.commit()
    return db.scalars(select(SelfCheckDue).where(SelfCheckDue.role == role, SelfCheckDue.status == "due")).one()


def test_the_duty_holder_records_a_check_with_a_hazard_and_nobody_else_may(db, client, auth, world, plant):
    due = _due(db, "operational")
    body = {"due_id": due.id, "note": "例行检查",
            "hazards": [{"description": "T102 罐呼吸阀锈蚀卡涩", "location": "一号罐区 T102"}]}
    for who in ("ent1_clerk", "ent1_technical"):
        resp = client.post(f"{API}/checks", headers=auth.headers(who), json=body)
        assert resp.status_code == 403 and resp.get_json()["code"] == "not_duty_holder"
    assert client.post(f"{API}/checks", headers=auth.headers("enterprise2"), json=body).status_code == 404
    assert db.scalar(select(Hazard.id).where(Hazard.origin == "self")) is None
    resp = client.post(f"{API}/checks", headers=auth.headers("ent1_operational"), json=body)
    assert resp.status_code == 201, resp.get_json()
    hazard = db.get(Hazard, resp.get_json()["hazard_ids"][0])
    assert (hazard.origin, hazard.status, hazard.grade, hazard.enterprise_id) == ("self", "found", "general",
                                                                                 world.ent1.id)
    db.expire_all()
    assert db.get(SelfCheckDue, due.id).status == "done"
    again = client.post(f"{API}/checks", headers=auth.headers("ent1_operational"), json=body)
    assert again.status_code == 409 and again.get_json()["code"] == "due_closed"


def test_a_self_found_general_hazard_is_closed_by_the_enterprise_a_major_one_is_not(db, client, auth, world,
                                                                                    plant):
    h = auth.headers("enterprise1")
    general = client.post(f"{API}/hazards", headers=h, json={"description": "消防通道堆放杂物"}).get_json()
    major = client.post(f"{API}/hazards", headers=h, json={
        "description": "可燃气体报警未投用", "grade": "major", "major_criterion_code": "HC2017-09"}).get_json()
    fix = {"description": "已清理通道", "responsible_person": "张班长", "funds": "200.00"}
    resp = client.post(f"{API}/hazards/{general['id']}/self-close", headers=h, json=fix)
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"
    resp = client.post(f"{API}/hazards/{major['id']}/self-close", headers=h, json=fix)
    assert resp.status_code == 409 and resp.get_json()["details"]["reason"] == "guard"
    assert db.get(Hazard, major["id"]).status == "found"
    resp = client.post(f"{API}/hazards", headers=h, json={"description": "x", "grade": "major"})
    assert resp.status_code == 422
    # an inspector's finding is not the enterprise's to close
    insp = Hazard(enterprise_id=world.ent1.id, region_code="131102", description="检查发现")
    db.add(insp)
    db.commit()
    assert client.post(f"{API}/hazards/{insp.id}/self-close", headers=h, json=fix).status_code == 404


def test_one_commitment_a_day_for_today_and_the_board_shows_who_is_missing(db, client, auth, world, plant):
    h = auth.headers("enterprise1")
    body = {"sources": [{"source_id": plant.source.id, "status": "normal"}],
            "special_operations": {"hot_work": 1}, "responsible_person": "王建国"}
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    assert client.post(f"{API}/commitments", headers=h, json={**body, "day": tomorrow}).status_code == 422
    assert client.post(f"{API}/commitments", headers=h, json={**body, "sources": []}).status_code == 422
    resp = client.post(f"{API}/commitments", headers=auth.headers("enterprise2"), json=body)
    assert resp.status_code in (409, 422)
    assert client.post(f"{API}/commitments", headers=h, json=body).status_code == 201
    again = client.post(f"{API}/commitments", headers=h, json=body)
    assert again.status_code == 409 and again.get_json()["code"] == "commitment_exists"
    # a second enterprise with a source that has not committed
    other = Actor(user=world["enterprise2"])
    from inspect_api.services.selfcheck import sources

    sources.create_source(db, other, {"name": "液氯库", "grade": 2})
    db.commit()
    board = client.get(f"{API}/commitments/board", headers=auth.headers("supervisor_taocheng")).get_json()
    states = {r["enterprise"]: r["state"] for r in board["rows"]}
    assert states[world.ent2.name] == "missing" and board["missing"] == 1
    assert states[world.ent1.name] in ("on_time", "late")
    assert client.get(f"{API}/commitments/board", headers=auth.headers("enterprise1")).status_code == 403


def _self_closed(db, world, n):
    owner = Actor(user=world["enterprise1"])
    out = []
    for i in range(n):
        hz = checks.report_hazard(db, owner, {"description": f"自查隐患 {i}"})
        checks.self_close(db, owner, hz, {"description": "已整改", "responsible_person": "张班长"})
        out.append(hz)
    db.commit()
    return out


def test_a_recheck_sample_is_reproducible_never_silently_redrawn_and_a_failed_recheck_reopens(
        db, client, auth, world, plant):
    hazards = _self_closed(db, world, 4)
    today = local_today()
    req = {"period_from": (today - timedelta(days=30)).isoformat(), "period_to": today.isoformat(), "size": 2}
    sup = auth.headers("supervisor_taocheng")
    resp = client.post(f"{API}/recheck-samples", headers=sup, json=req)
    assert resp.status_code == 201, resp.get_json()
    sample = resp.get_json()
    assert sorted(sample["candidates"]) == sorted(h.id for h in hazards) and len(sample["drawn"]) == 2
    assert sample["drawn"] == recheck.rank(sample["seed"], sample["candidates"], 2)
    assert client.post(f"{API}/recheck-samples/{sample['id']}/verify", headers=sup).get_json()["ok"] is True
    again = client.post(f"{API}/recheck-samples", headers=sup, json=req)
    assert again.status_code == 409 and again.get_json()["code"] == "sample_exists"
    redraw = client.post(f"{API}/recheck-samples", headers=sup,
                         json={**req, "reason": "原抽样范围有误", "replaces_id": sample["id"]})
    assert redraw.status_code == 201 and redraw.get_json()["replaces_id"] == sample["id"]
    assert db.scalar(select(RecheckSample.id).where(RecheckSample.id == sample["id"])) == sample["id"]
    # a tampered record no longer verifies
    row = db.get(RecheckSample, sample["id"])
    row.drawn = list(reversed(row.drawn))
    db.commit()
    assert client.post(f"{API}/recheck-samples/{sample['id']}/verify", headers=sup).get_json()["ok"] is False
    # the inspector's results: one confirmed, one not fixed -> reopened and ordered with a notice
    tasks = client.get(f"{API}/recheck-samples/{redraw.get_json()['id']}", headers=sup).get_json()["tasks"]
    ins = auth.headers("inspector1")
    ok = client.post(f"{API}/recheck-tasks/{tasks[0]['id']}/result", headers=ins, json={"result": "confirmed"})
    assert ok.status_code == 200 and ok.get_json()["result"] == "confirmed"
    deadline = int((utcnow() + timedelta(days=15)).timestamp() * 1000)
    bad = client.post(f"{API}/recheck-tasks/{tasks[1]['id']}/result", headers=ins, json={
        "result": "not_fixed", "note": "通道仍有堆放", "deadline_at": deadline, "officer2_id": world["inspector2"].id})
    assert bad.status_code == 200, bad.get_json()
    hz = db.get(Hazard, tasks[1]["hazard_id"])
    db.refresh(hz)
    assert hz.status == "ordered" and hz.closed_at is None
    notice = db.get(Notice, bad.get_json()["notice_id"])
    assert notice.number and notice.enterprise_id == world.ent1.id
    twice = client.post(f"{API}/recheck-tasks/{tasks[0]['id']}/result", headers=ins, json={"result": "confirmed"})
    assert twice.status_code == 409
    assert client.post(f"{API}/recheck-tasks/{tasks[0]['id']}/result", headers=auth.headers("inspector3"),
                       json={"result": "confirmed"}).status_code == 404
    # statistics: hand-computed
    stats = client.get(f"{API}/stats?from={req['period_from']}&to={req['period_to']}", headers=sup).get_json()
    row = next(r for r in stats["enterprises"] if r["enterprise_id"] == world.ent1.id)
    assert (row["self_found"], row["inspector_found"], row["rechecks"], row["not_fixed"]) == (4, 0, 2, 1)
    assert row["disagreement_rate"] == 0.5 and row["self_share"] == 1.0
    assert row["check_completion"] is None  # no due period has ended yet


def test_statistics_put_self_found_against_inspector_found_and_count_completion(db, client, auth, world, plant):
    owner = Actor(user=world["enterprise1"])
    checks.report_hazard(db, owner, {"description": "自查 1"})
    for i in range(3):
        db.add(Hazard(enterprise_id=world.ent1.id, region_code="131102", description=f"检查发现 {i}"))
    duties.generate_dues(db, date(2026, 11, 25))
    duties.mark_missed(db, date(2026, 12, 1))
    # ended by 12-01: the week 11-23..11-29 (operational) and the fortnight 11-16..11-29 (technical); the
    # 30-day period 11-12..12-11 (principal) has not
    assert duties.period_of(date(2026, 11, 25), 14) == (date(2026, 11, 16), date(2026, 11, 29))
    assert duties.period_of(date(2026, 11, 25), 30) == (date(2026, 11, 12), date(2026, 12, 11))
    db.commit()
    today = local_today()
    stats = client.get(f"{API}/stats?from=2026-11-01&to={today.isoformat()}",
                       headers=auth.headers("supervisor")).get_json()
    row = next(r for r in stats["enterprises"] if r["enterprise_id"] == world.ent1.id)
    assert (row["self_found"], row["inspector_found"]) == (1, 3)
    assert row["self_share"] == 0.25
    assert (row["checks_done"], row["checks_missed"], row["check_completion"]) == (0, 2, 0.0)
    assert stats["regions"][0]["region_code"] == "131102"
    assert client.get(f"{API}/stats?from=2026-11-01&to=2026-12-01", headers=auth.headers("enterprise1")
                      ).status_code == 403


def test_a_self_found_hazards_photo_travels_by_tus_as_an_inspectors_does(db, client, auth, world, plant):
    import hashlib

    from tests.photos import imagegen
    from tests.photos.conftest import TusClient

    h = auth.headers("ent1_operational")
    hazard = client.post(f"{API}/hazards", headers=h, json={"description": "泵房地沟积油"}).get_json()
    resp = client.post("/api/v1/photos", headers=h, json={"id": "SelfPhoto0000001", "owner_table": "hazards",
                                                         "owner_id": hazard["id"]})
    assert resp.status_code == 201, resp.get_json()
    data = imagegen.jpeg_bytes(900, 600, seed=7)
    location, last = TusClient(client, h).upload(data, "SelfPhoto0000001", chunk=100_000)
    assert last.status_code == 204
    meta = client.get("/api/v1/photos/SelfPhoto0000001", headers=auth.headers("inspector1")).get_json()
    assert meta["status"] == "ready" and meta["sha256"] == hashlib.sha256(data).hexdigest()
    # another enterprise can neither see the hazard nor attach to it
    resp = client.post("/api/v1/photos", headers=auth.headers("enterprise2"),
                       json={"owner_table": "hazards", "owner_id": hazard["id"]})
    assert resp.status_code in (404, 422)


def test_sources_and_holders_import_from_a_spreadsheet_row_by_row(db, world, plant):
    from inspect_api.models import MajorHazardSource
    from inspect_api.services.selfcheck.imports import import_sources

    csv = ("统一社会信用代码,重大危险源名称,重大危险源等级,主要危险物质,主要负责人,主要负责人电话,操作负责人\n"
           f"{world.ent2.uscc},液氯库,二级,液氯,刘总,13700001111,周班长\n"
           f"{world.ent2.uscc},液氨罐区,五级,液氨,,,\n"
           f"{world.ent1.uscc},一号罐区,三级,甲醇,,,\n"
           "91131100MA0000000X,不存在,一级,,,,\n").encode("utf-8-sig")
    report = import_sources(db, Actor(user=world["supervisor_taocheng"]), csv, "sources.csv")
    assert (report.created, report.unchanged, report.failed) == (1, 1, 2)
    assert [e["row"] for e in report.errors] == [3, 5]
    src = db.scalars(select(MajorHazardSource).where(MajorHazardSource.enterprise_id == world.ent2.id)).one()
    assert (src.name, src.grade) == ("液氯库", 2)
    assert sorted((h.role, h.name) for h in src.duty_holders) == [("operational", "周班长"), ("principal", "刘总")]
    # an importer of another county cannot reach these enterprises: reported as unknown
    again = import_sources(db, Actor(user=world["inspector3"]), csv, "sources.csv")
    assert again.created == 0 and again.failed == 4


def test_the_cli_reverifies_a_sample_and_runs_the_daily_dues(app, db, world, plant):
    _self_closed(db, world, 3)
    today = local_today()
    sample = recheck.draw_sample(db, Actor(user=world["supervisor_taocheng"]), {
        "period_from": today - timedelta(days=7), "period_to": today, "size": 2})
    db.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["selfcheck", "verify-sample", sample.id])
    assert out.exit_code == 0 and "the same sample" in out.output
    assert all(hid in out.output for hid in sample.drawn)
    out = runner.invoke(args=["selfcheck", "dues"])
    assert out.exit_code == 0 and "due checks made: 3" in out.output


def test_the_bureau_exports_the_figures_as_csv_with_a_bom_and_enterprises_cannot(app, client, db, world, plant):
    from tests.browser.portal_helpers import portal_login

    checks.report_hazard(db, Actor(user=world["enterprise1"]), {"description": "=HYPERLINK(\"x\")"})
    db.commit()
    portal_login(client, "supervisor_taocheng")
    resp = client.get("/selfcheck/bureau/stats.csv?from=2026-01-01&to=2026-12-31")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff企业,区划代码,自查发现隐患")
    line = next(l for l in text.splitlines() if l.startswith(world.ent1.name))
    assert line.split(",")[2:5] == ["1", "0", "100.0%"]
    other = app.test_client()
    portal_login(other, "enterprise1")
    assert other.get("/selfcheck/bureau/stats.csv").status_code == 403


def test_the_demo_gives_the_duty_holder_a_due_check_and_the_inspectors_a_recheck(db):
    from inspect_api.cli.demo_data import seed_demo
    from inspect_api.models import RecheckTask, User

    seed_demo(db, password="demo-pass-1")
    db.commit()
    ent1 = db.scalars(select(User).where(User.username == "enterprise1")).one()
    mine = db.scalars(duties.dues_stmt(ent1, status="due", mine=True)).all()
    assert [d.role for d in mine] == ["operational"]
    assert db.scalars(duties.dues_stmt(ent1, status="missed")).all()
    tasks = db.scalars(select(RecheckTask).where(RecheckTask.status == "pending")).all()
    assert len(tasks) == 2 and {t.region_code for t in tasks} == {"131102"}
    # seeding again changes nothing
    seed_demo(db, password="demo-pass-1")
    assert db.scalars(select(RecheckTask)).all() == tasks
