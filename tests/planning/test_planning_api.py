"""Plans, draws, tasks and 检查码 through the API: the rules and the bad input of issue #14."""
from __future__ import annotations

from datetime import date

import pytest

from inspect_api.models import AuditEvent, InspectionPlan, InspectionTask, PlanDraw
from inspect_api.services.planning import draw as draw_algo

from .. import factories
from .helpers import YEAR, approved_plan, plan_body, task_body, window


@pytest.fixture()
def sup(auth):
    return auth.headers("supervisor_taocheng")


@pytest.fixture()
def insp(auth):
    return auth.headers("inspector1")


def _plan(client, sup, **kw):
    return approved_plan(client, sup, region_code="131102", **kw)


def test_a_plan_counts_capacity_key_list_and_ordinary_inspections(client, world, sup):
    resp = client.post("/api/v1/plans", json=plan_body(marked_enterprise_ids=[world.ent2.id]), headers=sup)
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    assert plan["status"] == "draft" and plan["region_code"] == "131102"
    assert plan["capacity_days"] == 4 * 248 - 900
    # ent1 has a major hazard source (2 days), ent2 is marked (1 day): both key
    assert sorted(plan["key_enterprise_ids"]) == sorted([world.ent1.id, world.ent2.id])
    assert plan["key_days"] == 3
    assert plan["ordinary_count"] == 0  # no ordinary enterprise left in 桃城区 of the factories


def test_an_approved_plan_is_immutable_and_amendments_are_new_audited_versions(client, db, world, sup):
    draft = client.post("/api/v1/plans", json=plan_body(year=2027), headers=sup).get_json()
    assert client.patch(f"/api/v1/plans/{draft['id']}", json={"staff_count": 9}, headers=sup).status_code == 428
    etag = client.get(f"/api/v1/plans/{draft['id']}", headers=sup).headers["ETag"]
    resp = client.patch(f"/api/v1/plans/{draft['id']}", json={"staff_count": 9}, headers={**sup, "If-Match": etag})
    assert resp.status_code == 200 and resp.get_json()["capacity_days"] == 9 * 248 - 900
    resp = client.patch(f"/api/v1/plans/{draft['id']}", json={"staff_count": 7}, headers={**sup, "If-Match": etag})
    assert resp.status_code == 412
    plan = _plan(client, sup)
    etag = client.get(f"/api/v1/plans/{plan['id']}", headers=sup).headers["ETag"]
    resp = client.patch(f"/api/v1/plans/{plan['id']}", json={"staff_count": 9}, headers={**sup, "If-Match": etag})
    assert resp.status_code == 409 and resp.get_json()["code"] == "plan_immutable"
    assert db.get(InspectionPlan, plan["id"]).staff_count == 4
    resp = client.post(f"/api/v1/plans/{plan['id']}/amend", json={"staff_count": 5}, headers=sup)
    assert resp.status_code == 422  # the reason is required
    resp = client.post(f"/api/v1/plans/{plan['id']}/amend", json={"staff_count": 5, "reason": "新增两名执法人员"},
                       headers=sup)
    assert resp.status_code == 201
    new = resp.get_json()
    assert new["version"] == 2 and new["status"] == "draft" and new["supersedes_id"] == plan["id"]
    assert new["capacity_days"] == 5 * 248 - 900
    event = db.query(AuditEvent).filter_by(object_id=new["id"], action="plan.amended").one()
    assert event.reason == "新增两名执法人员"


def test_inspectors_cannot_approve_and_another_jurisdiction_plan_is_404(client, auth, world, sup):
    plan = client.post("/api/v1/plans", json=plan_body(), headers=sup).get_json()
    resp = client.post(f"/api/v1/plans/{plan['id']}/approve", headers=auth.headers("inspector1"))
    assert resp.status_code == 403
    resp = client.get(f"/api/v1/plans/{plan['id']}", headers=auth.headers("inspector3"))
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"


def _register(db, world, n=12):
    ents = [factories.enterprise(db, f"桃城抽查企业{i}", "131102", seed=500 + i, industry="C26",
                                 risk_color="blue" if i % 2 else "yellow") for i in range(n)]
    extra = [factories.user(db, f"insp_tc_{i}", "inspector", region="131102") for i in range(4)]
    db.commit()
    return ents, extra


def test_a_draw_is_recorded_verifiable_and_refuses_other_inputs(client, db, world, sup):
    ents, _ = _register(db, world)
    plan = _plan(client, sup)
    resp = client.post(f"/api/v1/plans/{plan['id']}/draws", json={
        "period_label": "2026年第一批", "period_start": "2026-01-01", "period_end": "2026-06-30",
        "sample_size": 5, "risk_colors": ["blue"]}, headers=sup)
    assert resp.status_code == 201, resp.get_json()
    d = resp.get_json()
    blue = sorted(e.id for e in ents if e.risk_color == "blue")
    assert d["enterprise_ids"] == blue and len(d["result"]) == 5 and d["algorithm"] == "hmac-sha256-v1"
    for eid, lead, co in d["result"]:
        assert eid in blue and lead and co and lead != co
    # the algorithm alone, from the published record, gives the same result
    assert draw_algo.run(draw_algo.recorded_inputs(db.get(PlanDraw, d["id"]))) == d["result"]
    ok = client.post(f"/api/v1/draws/{d['id']}/verify", json={}, headers=sup).get_json()
    assert ok["verified"] is True and ok["result_digest"] == d["result_digest"]
    resp = client.post(f"/api/v1/draws/{d['id']}/verify", json={"seed": "00" * 32}, headers=sup)
    assert resp.status_code == 409 and resp.get_json()["code"] == "draw_inputs_mismatch"
    # tampering with the stored result is detected
    row = db.get(PlanDraw, d["id"])
    row.result = list(reversed(row.result))
    db.commit()
    assert client.post(f"/api/v1/draws/{d['id']}/verify", json={}, headers=sup).get_json()["verified"] is False


def test_a_redraw_needs_a_reason_and_is_a_new_draw(client, db, world, sup):
    _register(db, world)
    plan = _plan(client, sup)
    d = client.post(f"/api/v1/plans/{plan['id']}/draws", json={
        "period_label": "一批", "period_start": "2026-01-01", "period_end": "2026-06-30", "sample_size": 3},
        headers=sup).get_json()
    assert client.post(f"/api/v1/draws/{d['id']}/redraw", json={}, headers=sup).status_code == 422
    resp = client.post(f"/api/v1/draws/{d['id']}/redraw", json={"reason": "抽中企业已停产"}, headers=sup)
    assert resp.status_code == 201
    new = resp.get_json()
    assert new["supersedes_id"] == d["id"] and new["seed"] != d["seed"] and new["reason"] == "抽中企业已停产"
    assert db.get(PlanDraw, d["id"]).status == "superseded"


def test_recusal_keeps_last_periods_inspectors_away(db, world):
    from inspect_api.services.planning.draw import canonical_inputs, run

    ents = [f"E{i}" for i in range(30)]
    inspectors = [(f"U{i}", f"C{i:03d}") for i in range(4)]
    barred = {e: ["U0", "U1"] for e in ents}
    result = run(canonical_inputs("ab" * 32, ents, inspectors, barred, 30))
    assert all({lead, co} == {"U2", "U3"} for _, lead, co in result)
    # with three barred only one inspector is left: no pair, the enterprise needs a manual task
    result = run(canonical_inputs("ab" * 32, ents, inspectors, {e: ["U0", "U1", "U2"] for e in ents}, 5))
    assert all(lead is None and co is None for _, lead, co in result)


def test_task_rules_two_distinct_certified_inspectors_of_the_jurisdiction(client, db, world, sup):
    plan = _plan(client, sup)
    before = db.query(InspectionTask).count()
    cases = [
        ({"co_inspector_id": None}, 422), ({"co_inspector_id": world["inspector1"].id}, 422),
        ({"co_inspector_id": world["inspector3"].id}, 422),
    ]
    for change, status in cases:
        body = task_body(world, plan_id=plan["id"], **{k: v for k, v in change.items() if v is not None})
        if change.get("co_inspector_id", "x") is None:
            body.pop("co_inspector_id")
        resp = client.post("/api/v1/tasks", json=body, headers=sup)
        assert resp.status_code == status, (change, resp.get_json())
        assert set(resp.get_json()) == {"status", "code", "message", "details"}
    assert client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"], co_inspector_id=world["inspector3"].id),
                       headers=sup).get_json()["code"] == "inspector_out_of_jurisdiction"
    # two accounts carrying the same 执法证号 (one typed with a trailing space) cannot form a pair
    twin = factories.user(db, "twin", "inspector", region="131102",
                          certificate_no=world["inspector1"].certificate_no + " ")
    db.commit()
    resp = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"], co_inspector_id=twin.id), headers=sup)
    assert resp.status_code == 422 and resp.get_json()["code"] == "two_inspectors_required"
    assert db.query(InspectionTask).count() == before


def test_a_key_task_has_a_unique_code_and_the_cap_is_enforced(client, db, world, sup):
    plan = _plan(client, sup, annual_cap=2)
    codes = set()
    for _ in range(2):
        resp = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup)
        assert resp.status_code == 201, resp.get_json()
        task = resp.get_json()
        assert task["status"] == "assigned" and task["in_plan"] is True and len(task["code"]) == 10
        codes.add(task["code"])
    assert len(codes) == 2
    resp = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup)
    assert resp.status_code == 409 and resp.get_json()["code"] == "annual_cap_exceeded"
    assert resp.get_json()["details"] == {"cap": 2, "count": 2, "year": YEAR}
    resp = client.post("/api/v1/tasks", json=task_body(world, kind="complaint", reason="群众举报夜间违规装卸"), headers=sup)
    assert resp.status_code == 409 and resp.get_json()["code"] == "over_cap_reason_required"
    resp = client.post("/api/v1/tasks", json=task_body(world, kind="complaint", reason="群众举报夜间违规装卸",
                                                       over_cap_reason="举报涉及重大隐患"), headers=sup)
    assert resp.status_code == 201 and resp.get_json()["over_cap_reason"] == "举报涉及重大隐患"


def test_a_task_outside_the_plan_waits_for_a_supervisors_approval(client, auth, world, sup, insp):
    _plan(client, sup)
    resp = client.post("/api/v1/tasks", json=task_body(world, enterprise_id=world.ent2.id, kind="special"), headers=insp)
    assert resp.status_code == 422 and resp.get_json()["code"] == "approval_reason_required"
    resp = client.post("/api/v1/tasks", json=task_body(world, enterprise_id=world.ent2.id, kind="special",
                                                       reason="汛期专项检查"), headers=insp)
    assert resp.status_code == 201
    task = resp.get_json()
    assert task["status"] == "pending_approval" and task["in_plan"] is False
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", json={}, headers=insp).status_code == 403
    resp = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"reason": "同意"}, headers=sup)
    assert resp.status_code == 200 and resp.get_json()["status"] == "assigned"
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=auth.headers("inspector3")).status_code == 404


def test_the_enterprise_verifies_its_code_and_learns_nothing_of_another(client, auth, world, sup):
    plan = _plan(client, sup)
    task = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup).get_json()
    other = client.post("/api/v1/tasks", json=task_body(world, enterprise_id=world.ent2.id, kind="special",
                                                        reason="专项"), headers=sup).get_json()
    ent1 = auth.headers("enterprise1")
    typed = task["code"][:5].lower() + "-" + task["code"][5:]
    resp = client.post("/api/v1/check-codes/verify", json={"code": typed}, headers=ent1)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["enterprise_name"] == world.ent1.name
    assert {p["certificate_no"] for p in body["inspectors"]} == {world["inspector1"].certificate_no,
                                                                world["inspector2"].certificate_no}
    for code in (other["code"], "ABCDE-FGHJK", ""):
        resp = client.post("/api/v1/check-codes/verify", json={"code": code}, headers=ent1)
        assert resp.status_code in (404, 422)
        if resp.status_code == 404:
            assert resp.get_json()["code"] == "check_code_not_found"
            assert world.ent2.name not in resp.get_data(as_text=True)


def test_the_publication_exports_csv_with_bom_and_xlsx(client, db, world, sup):
    _register(db, world)
    plan = _plan(client, sup)
    d = client.post(f"/api/v1/plans/{plan['id']}/draws", json={
        "period_label": "一批", "period_start": "2026-01-01", "period_end": "2026-06-30", "sample_size": 4},
        headers=sup).get_json()
    start, end = window()
    made = client.post(f"/api/v1/draws/{d['id']}/tasks", json={"window_start_at": start, "window_end_at": end},
                       headers=sup)
    assert made.status_code == 201 and len(made.get_json()) == 4
    assert all(t["kind"] == "random" and t["in_plan"] for t in made.get_json())
    csv = client.get(f"/api/v1/draws/{d['id']}/publication?format=csv", headers=sup)
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    text = csv.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "序号,被抽查企业,统一社会信用代码,检查时间,检查事项,检查结果"
    assert text.count("检查中") == 4
    xlsx = client.get(f"/api/v1/draws/{d['id']}/publication?format=xlsx", headers=sup)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "被抽查企业" in values


def test_draw_needs_an_approved_plan_and_a_period_in_the_year(client, world, sup):
    plan = client.post("/api/v1/plans", json=plan_body(), headers=sup).get_json()
    body = {"period_label": "x", "period_start": "2026-01-01", "period_end": "2026-03-31", "sample_size": 1}
    assert client.post(f"/api/v1/plans/{plan['id']}/draws", json=body, headers=sup).status_code == 409
    client.post(f"/api/v1/plans/{plan['id']}/approve", headers=sup)
    bad = dict(body, period_end="2027-01-05")
    resp = client.post(f"/api/v1/plans/{plan['id']}/draws", json=bad, headers=sup)
    assert resp.status_code == 422
    assert date(2026, 1, 1)


def test_the_draws_hmac_is_rfc_2104_hmac_sha256():
    import hmac
    import os

    from inspect_api.services.planning.draw import hmac_sha256

    for size in (0, 1, 32, 64, 65, 100):
        key = os.urandom(size)
        mac = hmac_sha256(key)
        for message in (b"", b"E|abc", "I|企业|3".encode("utf-8"), os.urandom(200)):
            assert mac(message) == hmac.new(key, message, "sha256").digest()


def test_the_published_example_of_the_docs_gives_the_documented_result():
    """docs/planning.md works an example by hand; the code must agree with it."""
    from inspect_api.services.planning.draw import canonical_inputs, run

    inputs = canonical_inputs("00" * 31 + "01", ["E1", "E2", "E3", "E4"], [["U1", "C1"], ["U2", "C2"], ["U3", "C3"]],
                              {"E2": ["U1"]}, 2)
    assert run(inputs) == DOC_EXAMPLE_RESULT


DOC_EXAMPLE_RESULT = [["E2", "U3", "U2"], ["E4", "U2", "U1"]]  # docs/planning.md, "A worked example"


def test_a_cancelled_tasks_code_is_void_for_the_enterprise(client, auth, world, sup):
    plan = _plan(client, sup)
    task = client.post("/api/v1/tasks", json=task_body(world, plan_id=plan["id"]), headers=sup).get_json()
    assert client.post(f"/api/v1/tasks/{task['id']}/cancel", json={}, headers=sup).status_code == 422
    resp = client.post(f"/api/v1/tasks/{task['id']}/cancel", json={"reason": "企业已停产"}, headers=sup)
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    resp = client.post("/api/v1/check-codes/verify", json={"code": task["code"]}, headers=auth.headers("enterprise1"))
    assert resp.status_code == 409 and resp.get_json()["code"] == "check_code_void"
