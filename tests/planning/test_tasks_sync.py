"""Tasks on the tablets (schema version 2) through the sync endpoint, the task states, overdue, the
documents and the portal pages."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from inspect_api.models import AuditEvent, InspectionTask
from inspect_api.services.access.actor import Actor
from inspect_api.services.planning import tasks as task_service
from tests.browser.portal_helpers import portal_login, post_form

from ..sync.helpers import changes, ids, inspection_raw, pull_ok, push
from .helpers import approved_plan, task_body


@pytest.fixture()
def sup(auth):
    return auth.headers("supervisor_taocheng")


@pytest.fixture()
def task(client, world, sup):
    plan = approved_plan(client, sup, region_code="131102")
    resp = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup)
    assert resp.status_code == 201
    return resp.get_json()


def test_a_version_2_tablet_pulls_its_own_tasks_read_only(client, auth, world, task):
    tab1 = auth.headers("inspector1", device_id="t1")
    body = pull_ok(client, tab1, schema_version=2)
    rows = body["changes"]["inspection_tasks"]["created"]
    assert [r["id"] for r in rows] == [task["id"]]
    raw = rows[0]
    assert raw["code"] == task["code"] and raw["status"] == "assigned" and raw["kind"] == "key"
    assert isinstance(raw["window_start_at"], int) and json.loads(raw["template_ids"]) == []
    # inspector3 (深州) has no task; a version-1 pull has no tasks table at all
    assert pull_ok(client, auth.headers("inspector3"), schema_version=2)["changes"]["inspection_tasks"]["created"] == []
    assert "inspection_tasks" not in pull_ok(client, tab1)["changes"]
    ts = body["timestamp"]
    attempt = changes()
    attempt["inspection_tasks"] = {"created": [], "updated": [dict(raw, status="done")], "deleted": []}
    resp = push(client, tab1, attempt, ts, schema_version=2)
    assert resp.status_code == 403


def test_inspections_with_the_task_move_it_to_in_progress_then_done(client, db, auth, world, task):
    tab = auth.headers("inspector1", device_id="t1")
    ts = pull_ok(client, tab, schema_version=2)["timestamp"]
    raw = inspection_raw(world.ent1.id, task_id=task["id"], lead_inspector_id=world["inspector1"].id,
                         co_inspector_id=world["inspector2"].id)
    resp = push(client, tab, changes(inspections={"created": [raw], "updated": [], "deleted": []}), ts, schema_version=2)
    assert resp.status_code == 200 and resp.get_json()["rejected"] == {}
    assert db.get(InspectionTask, task["id"]).status == "in_progress"
    body = pull_ok(client, tab, ts, schema_version=2)
    assert ids(body, "inspection_tasks", "updated") == {task["id"]}
    ts = body["timestamp"]
    done = dict(raw, status="submitted", finished_at=raw["started_at"] + 3_600_000, _status="updated")
    resp = push(client, tab, changes(inspections={"created": [], "updated": [done], "deleted": []}), ts, schema_version=2)
    assert resp.get_json()["rejected"] == {}
    row = db.get(InspectionTask, task["id"])
    assert row.status == "done" and row.inspection_id == raw["id"]
    actions = [e.action for e in db.query(AuditEvent).filter_by(object_id=task["id"]).order_by(AuditEvent.id)]
    assert actions == ["task.created", "task.in_progress", "task.done"]


def test_a_push_naming_another_enterprises_or_unknown_task_is_rejected(client, db, auth, world, task):
    tab = auth.headers("inspector1", device_id="t1")
    ts = pull_ok(client, tab, schema_version=2)["timestamp"]
    wrong = inspection_raw(world.ent2.id, task_id=task["id"])
    unknown = inspection_raw(world.ent1.id, task_id="NoSuchTask123456")
    free = inspection_raw(world.ent1.id)
    resp = push(client, tab, changes(inspections={"created": [wrong, unknown, free], "updated": [], "deleted": []}),
                ts, schema_version=2)
    rejected = resp.get_json()["rejected"]["inspections"]
    assert rejected == {wrong["id"]: "task_id: the task is for another enterprise",
                        unknown["id"]: "task_id: unknown task"}
    assert db.get(InspectionTask, task["id"]).status == "assigned"
    # a version-1 push carrying task_id ignores the column: the inspection is accepted without a task
    v1 = inspection_raw(world.ent1.id, task_id=task["id"])
    resp = push(client, tab, changes(inspections={"created": [v1], "updated": [], "deleted": []}), ts)
    assert resp.get_json()["rejected"] == {}
    from inspect_api.models import Inspection

    assert db.get(Inspection, v1["id"]).task_id is None


def test_tasks_past_their_window_become_overdue(db, world, client, sup):
    plan = approved_plan(client, sup, region_code="131102")
    start = datetime.now(timezone.utc) - timedelta(days=40)
    body = task_body(world, plan_id=plan["id"], window_start_at=start.isoformat(),
                     window_end_at=(start + timedelta(days=10)).isoformat())
    late = client.post("/api/v1/tasks", json=body, headers=sup).get_json()
    current = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup).get_json()
    assert task_service.mark_overdue(db, Actor.system("test")) == 1
    db.commit()
    assert db.get(InspectionTask, late["id"]).status == "overdue"
    assert db.get(InspectionTask, current["id"]).status == "assigned"
    assert task_service.mark_overdue(db, Actor.system("test")) == 0


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_documents_carry_the_task_and_the_record(client, db, auth, world, task, sup):
    notice = client.get(f"/api/v1/tasks/{task['id']}/notice.pdf", headers=sup)
    assert notice.status_code == 200 and notice.headers["Content-Type"] == "application/pdf"
    text = _pdf_text(notice.data)
    assert "检查任务通知书" in text and "（桃城）应急检通〔" in text and world.ent1.name in text
    assert world["inspector1"].certificate_no in text and task_service.format_code(task["code"]) in text
    again = client.get(f"/api/v1/tasks/{task['id']}/notice.pdf", headers=sup)
    assert _pdf_text(again.data).count("检通") == text.count("检通")  # numbered once
    resp = client.post(f"/api/v1/tasks/{task['id']}/record", json={"refused_to_sign": True}, headers=sup)
    assert resp.status_code == 409  # not done yet
    tab = auth.headers("inspector1", device_id="t1")
    ts = pull_ok(client, tab, schema_version=2)["timestamp"]
    raw = inspection_raw(world.ent1.id, task_id=task["id"], status="submitted", note="储罐区检查",
                         lead_inspector_id=world["inspector1"].id, co_inspector_id=world["inspector2"].id,
                         finished_at=1764554400000)
    push(client, tab, changes(inspections={"created": [raw], "updated": [], "deleted": []}), ts, schema_version=2)
    resp = client.post(f"/api/v1/tasks/{task['id']}/record", json={}, headers=sup)
    assert resp.status_code == 422  # a representative or the refusal is required
    resp = client.post(f"/api/v1/tasks/{task['id']}/record", json={"refused_to_sign": True,
                                                                   "recorder_id": world["inspector2"].id}, headers=sup)
    assert resp.status_code == 200, resp.get_json()
    pdf = client.get(f"/api/v1/tasks/{task['id']}/record.pdf", headers=sup)
    text = _pdf_text(pdf.data)
    for expected in ("现场检查记录", "（桃城）应急检记〔2025〕1号", world.ent1.name, "2025年12月1日8时00分",
                     world["inspector1"].certificate_no, world["inspector2"].certificate_no, "记录人：inspector2",
                     "拒绝签名", "储罐区检查"):
        assert expected in text, expected


def test_portal_pages_for_staff_and_the_enterprise_code_check(app, client, db, world, task):
    portal_login(client, "supervisor_taocheng")
    html = client.get("/planning/").get_data(as_text=True)
    assert task["title"] in html and task_service.format_code(task["code"]) in html
    assert client.get(f"/planning/tasks/{task['id']}").status_code == 200
    with app.test_client() as other:
        portal_login(other, "enterprise2")
        resp = post_form(other, "/planning/check-code", {"code": task["code"]})
        assert resp.status_code == 404
        html = resp.get_data(as_text=True)
        assert "检查码不存在或不属于本单位" in html and world["inspector1"].certificate_no not in html
    with app.test_client() as own:
        portal_login(own, "enterprise1")
        resp = post_form(own, "/planning/check-code", {"code": task["code"].lower()})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "检查码有效" in html
        assert world["inspector1"].certificate_no in html and world["inspector2"].certificate_no in html
        assert own.get(f"/planning/tasks/{task['id']}").status_code in (302, 403, 404)


def test_the_dashboard_shows_the_planning_card_and_exports_the_random_column(client, auth, world, task):
    tab = auth.headers("inspector1", device_id="t1")
    ts = pull_ok(client, tab, schema_version=2)["timestamp"]
    year = datetime.now(timezone.utc).year
    started = int(datetime(year, 3, 1, 2, tzinfo=timezone.utc).timestamp() * 1000)
    with_task = inspection_raw(world.ent1.id, task_id=task["id"], status="submitted", started_at=started,
                               lead_inspector_id=world["inspector1"].id, co_inspector_id=world["inspector2"].id)
    free = inspection_raw(world.ent2.id, status="submitted", started_at=started,
                          lead_inspector_id=world["inspector1"].id, co_inspector_id=world["inspector2"].id)
    push(client, tab, changes(inspections={"created": [with_task, free], "updated": [], "deleted": []}), ts,
         schema_version=2)
    portal_login(client, "supervisor_taocheng")
    html = client.get(f"/dashboard?from={year}-01-01&to={year}-12-31").get_data(as_text=True)
    assert 'id="planning-card"' in html and "无任务检查" in html
    data = client.get(f"/dashboard/data.json?from={year}-01-01&to={year}-12-31").get_json()["planning"]
    assert data["shares"]["key"] == 1 and data["shares"]["taskless"] == 1 and data["completion"]["total"]["done"] == 1
    assert {(r["enterprise_name"], r["count"], r["cap"]) for r in data["cap_usage"]} == {
        (world.ent1.name, 1, 3), (world.ent2.name, 1, 3)}
    assert 'id="cap-usage"' in html
    csv = client.get(f"/planning/inspections/{year}.csv")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    rows = [line.split(",") for line in csv.data.decode("utf-8-sig").splitlines()]
    assert rows[0][4:6] == ["检查类型", "是否随机抽取"]
    assert sorted((r[4], r[5]) for r in rows[1:]) == [("无任务检查", "否"), ("重点检查", "否")]


def test_a_version_1_tablet_sees_no_change_when_tasks_are_made_and_move(client, db, auth, world, sup):
    tab = auth.headers("inspector1", device_id="old")
    before = pull_ok(client, tab)
    plan = approved_plan(client, sup, region_code="131102")
    task = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup).get_json()
    client.post(f"/api/v1/tasks/{task['id']}/cancel", json={"reason": "测试"}, headers=sup)
    after = pull_ok(client, tab)
    assert after["changes"] == before["changes"] and after["timestamp"] > before["timestamp"]
    incremental = pull_ok(client, tab, before["timestamp"])
    assert all(not any(part.values()) for part in incremental["changes"].values())
    assert "inspection_tasks" not in json.dumps(after) and "task_id" not in json.dumps(after)
