"""One hazard through every path, through the API, as each role sees it."""
from __future__ import annotations

from datetime import datetime

import pytest

from inspect_api.models import Notice, utcnow
from inspect_api.services.lifecycle.numbering import year_of

from . import helpers
from .conftest import days_from_now, iso


def test_general_hazard_ordered_acknowledged_reported_rejected_reported_accepted_closed(api, db, world, inspection):
    hz = api.new_hazard(inspection, location="二号罐区", basis="GB 50493-2019 第5.1.1条")
    assert hz["status"] == "found" and hz["enterprise_id"] == world.ent1.id

    notice = api.issue([hz["id"]], safety_measures="整改期间停止二号罐区装卸作业")
    assert notice["number"] == f"（桃城）应急责改〔{year_of(utcnow())}〕1号"
    assert notice["status"] == "issued"
    assert {notice["officer1"]["certificate_no"], notice["officer2"]["certificate_no"]} == {
        world["inspector1"].certificate_no, world["inspector2"].certificate_no}
    assert api.hazard(hz["id"])["status"] == "ordered"
    assert api.hazard(hz["id"])["notice_id"] == notice["id"]

    # The enterprise sees its notice and the hazard with its deadline
    status, mine = api.get("enterprise1", "/notices")
    assert status == 200 and [n["id"] for n in mine] == [notice["id"]]
    assert mine[0]["hazards"][0]["deadline_at"] == notice["deadline_at"]
    status, hazards = api.get("enterprise1", "/hazards")
    assert [h["id"] for h in hazards] == [hz["id"]] and hazards[0]["overdue"] is False

    # Reporting before signing for the notice is refused
    status, body = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {"description": "已更换"})
    assert status == 409 and body["code"] == "invalid_transition" and body["details"]["status"] == "ordered"

    status, ack = api.post("enterprise1", f"/notices/{notice['id']}/acknowledge", {"reason": "已签收"})
    assert status == 200 and ack["status"] == "acknowledged" and ack["acknowledged_at"]
    assert api.hazard(hz["id"])["status"] == "acknowledged"
    status, body = api.post("enterprise1", f"/notices/{notice['id']}/acknowledge", {})
    assert status == 409 and body["code"] == "invalid_transition"

    status, rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {
        "description": "更换可燃气体报警器探头", "measures": "更换探头并重新标定", "funds": "3800.50",
        "responsible_person": "张伟", "completed_on": days_from_now(0).date().isoformat()})
    assert status == 201, rect
    assert rect["status"] == "pending" and rect["funds"] == "3800.50" and rect["photo_count"] == 0
    assert api.hazard(hz["id"])["status"] == "reported"

    # A review needs evidence: no photo and no on-site check → refused
    status, body = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "co_reviewer_id": world["inspector2"].id})
    assert status == 409 and body["details"]["reason"] == "guard"
    # A rejection needs an opinion
    status, body = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "rejected", "onsite_check": "现场查看", "co_reviewer_id": world["inspector2"].id})
    assert status == 422 and "opinion" in body["details"]["fields"]

    new_deadline = days_from_now(7)
    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "rejected", "opinion": "报警器未接入DCS，不合格", "onsite_check": "现场测试报警未上传控制室",
        "new_deadline_at": iso(new_deadline), "co_reviewer_id": world["inspector2"].id})
    assert status == 201, review
    assert review["result"] == "rejected" and review["number"] == f"（桃城）应急复查〔{year_of(utcnow())}〕1号"
    after = api.hazard(hz["id"])
    assert after["status"] == "rejected"
    assert datetime.fromisoformat(after["deadline_at"]) == datetime.fromisoformat(iso(new_deadline))
    status, body = api.get("enterprise1", f"/rectifications/{rect['id']}")
    assert body["status"] == "rejected" and body["review_id"] == review["id"]
    assert body["review"]["opinion"] == "报警器未接入DCS，不合格" and body["review"]["number"] == review["number"]

    status, rect2 = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {
        "description": "报警信号已接入DCS", "funds": 1200})
    assert status == 201 and api.hazard(hz["id"])["status"] == "reported"
    helpers.ready_photo(db, "rectifications", rect2["id"], world.ent1)
    db.commit()
    assert api.get("enterprise1", f"/rectifications/{rect2['id']}")[1]["photo_count"] == 1

    # The other inspector of the region reviews with the photo as evidence
    status, review2 = api.post("inspector2", f"/rectifications/{rect2['id']}/review", {
        "result": "accepted", "co_reviewer_id": world["inspector1"].id})
    assert status == 201, review2
    closed = api.hazard(hz["id"], "enterprise1")
    assert closed["status"] == "closed" and closed["closed_at"] and closed["closed_by_id"] == world["inspector2"].id
    assert closed["overdue"] is False
    status, n = api.get("enterprise1", f"/notices/{notice['id']}")
    assert n["status"] == "closed"

    # The full history, in order, with actors and devices/IPs
    status, history = api.get("supervisor", f"/hazards/{hz['id']}/history")
    assert status == 200
    assert [(e["action"], e["actor_username"]) for e in history] == [
        ("hazard.create", "inspector1"), ("hazard.order", "inspector1"), ("hazard.acknowledge", "enterprise1"),
        ("hazard.report", "enterprise1"), ("rectification.report", "enterprise1"),
        ("hazard.reject", "inspector1"), ("rectification.review", "inspector1"),
        ("hazard.report", "enterprise1"), ("rectification.report", "enterprise1"),
        ("hazard.accept", "inspector2"), ("rectification.review", "inspector2"),
    ]
    transitions = [(e["from_state"], e["to_state"]) for e in history if e["object_table"] == "hazards"]
    assert transitions == [(None, "found"), ("found", "ordered"), ("ordered", "acknowledged"),
                           ("acknowledged", "reported"), ("reported", "rejected"), ("rejected", "reported"),
                           ("reported", "closed")]
    assert all(e["ip"] == "127.0.0.1" and e["at"] for e in history)
    status, seen_by_enterprise = api.get("enterprise1", f"/hazards/{hz['id']}/history")
    assert [e["action"] for e in seen_by_enterprise] == [e["action"] for e in history]
    assert all(e["ip"] is None and e["device_id"] is None for e in seen_by_enterprise), "staff IPs stay internal"
    assert history[5]["reason"] == "报警器未接入DCS，不合格"
    status, nh = api.get("enterprise1", f"/notices/{notice['id']}/history")
    assert [e["action"] for e in nh] == ["notice.issue", "notice.acknowledge", "notice.close"]


def test_hazard_fixed_on_the_spot_is_closed_by_two_inspectors_with_a_photo(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="消防通道堆放杂物")
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector2"].id, "reason": "当场清理"})
    assert status == 409 and "照片" in body["message"] and api.hazard(hz["id"])["status"] == "found"
    helpers.ready_photo(db, "hazards", hz["id"], world.ent1, status="pending")
    db.commit()
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector2"].id})
    assert status == 409, "a photo still uploading is no evidence"
    helpers.ready_photo(db, "hazards", hz["id"], world.ent1)
    db.commit()
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector1"].id})
    assert status == 409 and "不同" in body["message"], "the second officer must be another person"
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector3"].id})
    assert status == 409, "the second officer must have jurisdiction here"
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector2"].id, "reason": "当场清理完毕"})
    assert status == 200, body
    assert body["status"] == "closed" and body["rectified_on_spot"] is True and body["closed_at"]
    assert api.events(hz["id"]) == ["hazard.create", "hazard.close_on_spot"]


def test_major_hazard_needs_plan_listing_and_supervisor_closure(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="一级重大危险源罐区未实现紧急切断")
    status, graded = api.post("inspector1", f"/hazards/{hz['id']}/grade",
                              {"grade": "major", "major_criterion_code": "HC2017-05", "reason": "对照判定标准第五项"})
    assert status == 200 and graded["grade"] == "major" and graded["major_criterion_code"] == "HC2017-05"
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/grade", {"grade": "major",
                                                                         "major_criterion_code": "HC2017-21"})
    assert status == 422
    # A major hazard cannot be closed on the spot
    helpers.ready_photo(db, "hazards", hz["id"], world.ent1)
    db.commit()
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/close-on-spot",
                            {"co_inspector_id": world["inspector2"].id})
    assert status == 409

    notice = api.issue([hz["id"]], deadline=days_from_now(60))
    assert api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")[0] == 200

    report = {"description": "增设紧急切断阀并接入SIS", "funds": "260000"}
    status, body = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", report)
    assert status == 409 and "治理方案" in body["message"]

    status, plan = api.put("enterprise1", f"/hazards/{hz['id']}/plan", {
        "responsibility": "生产副总经理李强牵头，设备部实施", "measures": "罐区进出料管线增设紧急切断阀",
        "funds": "260000.00"})
    assert status == 200 and plan["is_complete"] is False
    status, body = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", report)
    assert status == 409, "an incomplete plan does not allow a report"
    status, plan = api.put("enterprise1", f"/hazards/{hz['id']}/plan", {
        "time_limit": days_from_now(50).date().isoformat(), "contingency": "治理期间罐区限量储存，专人值守，配备应急物资",
        "goal": "实现罐区紧急切断"})
    assert status == 200 and plan["is_complete"] is True

    # Supervised listing: the supervisor's level, once
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/listing", {})
    assert status == 409 and body["details"]["reason"] == "role"
    status, body = api.post("supervisor_taocheng", f"/hazards/{hz['id']}/listing", {"level": "city"})
    assert status == 409 and body["details"]["reason"] == "guard", "a county supervisor lists at county level"
    status, listed = api.post("supervisor_taocheng", f"/hazards/{hz['id']}/listing", {"reason": "县级挂牌督办"})
    assert status == 200 and listed["listing_level"] == "county" and listed["listed_by_id"] == world[
        "supervisor_taocheng"].id
    status, body = api.post("supervisor", f"/hazards/{hz['id']}/listing", {})
    assert status == 409, "already listed"
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/grade", {"grade": "general"})
    assert status == 409, "a listed hazard cannot be downgraded"

    status, rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", report)
    assert status == 201, rect
    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "onsite_check": "紧急切断阀联锁测试正常", "co_reviewer_id": world["inspector2"].id})
    assert status == 201
    verified = api.hazard(hz["id"])
    assert verified["status"] == "verified" and verified["closed_at"] is None

    # Only a supervisor closes a major hazard
    for username in ("inspector1", "enterprise1", "admin"):
        status, body = api.post(username, f"/hazards/{hz['id']}/close", {})
        assert status == 409 and body["details"]["reason"] == "role", username
    status, closed = api.post("supervisor_taocheng", f"/hazards/{hz['id']}/close", {"reason": "验收合格，摘牌销号"})
    assert status == 200 and closed["status"] == "closed" and closed["closed_by_id"] == world["supervisor_taocheng"].id
    assert api.events(hz["id"]) == ["hazard.create", "hazard.grade", "hazard.order", "hazard.acknowledge",
                                    "hazard.plan_create", "hazard.plan_update", "hazard.list", "hazard.report",
                                    "hazard.accept", "hazard.close"]


def test_a_city_listed_major_hazard_is_closed_by_the_city_not_the_county(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="涉及重点监管危险化工工艺的装置未实现自动化控制")
    assert api.post("inspector1", f"/hazards/{hz['id']}/grade", {"grade": "major",
                                                                 "major_criterion_code": "HC2017-04"})[0] == 200
    status, listed = api.post("supervisor", f"/hazards/{hz['id']}/listing", {})
    assert status == 200 and listed["listing_level"] == "city"
    plan = {"responsibility": "总经理负责", "measures": "增设DCS与SIS", "funds": "800000",
            "time_limit": days_from_now(90).date().isoformat(), "contingency": "限产运行，专人监护"}
    assert api.put("enterprise1", f"/hazards/{hz['id']}/plan", plan)[0] == 200
    notice = api.issue([hz["id"]], deadline=days_from_now(90))
    api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")
    rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {"description": "DCS/SIS已投用"})[1]
    assert api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "onsite_check": "联锁测试正常", "co_reviewer_id": world["inspector2"].id})[0] == 201
    status, body = api.post("supervisor_taocheng", f"/hazards/{hz['id']}/close", {})
    assert status == 409 and body["details"]["reason"] == "guard" and api.hazard(hz["id"])["status"] == "verified"
    status, body = api.post("supervisor", f"/hazards/{hz['id']}/close", {})
    assert status == 200 and body["status"] == "closed" and body["closed_by_id"] == world["supervisor"].id


def test_a_stale_version_is_refused_with_412_and_changes_nothing(api, world, inspection):
    hz = api.new_hazard(inspection)
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/grade", {"grade": "major", "version": hz["version"]})
    assert status == 200 and body["version"] == hz["version"] + 1
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/grade", {"grade": "general", "version": hz["version"]})
    assert status == 412 and body["code"] == "precondition_failed"
    assert api.hazard(hz["id"])["grade"] == "major"


def test_etag_and_if_match_guard_a_step(api, world, inspection):
    hz = api.new_hazard(inspection)
    resp = api.client.get(f"/api/v1/hazards/{hz['id']}", headers=api.h("inspector1"))
    tag = resp.headers["ETag"]
    assert tag == '"1"'
    stale_after = api.client.post(f"/api/v1/hazards/{hz['id']}/grade", json={"grade": "major"},
                                  headers={**api.h("inspector1"), "If-Match": tag})
    assert stale_after.status_code == 200 and stale_after.headers["ETag"] == '"2"'
    refused = api.client.post(f"/api/v1/hazards/{hz['id']}/grade", json={"grade": "general"},
                              headers={**api.h("inspector1"), "If-Match": tag})
    assert refused.status_code == 412 and refused.get_json()["code"] == "precondition_failed"
    assert api.hazard(hz["id"])["grade"] == "major"


def test_refused_transition_through_the_api_leaves_no_trace(api, db, world, inspection):
    hz = api.new_hazard(inspection)
    seq = api.row(hz["id"]).sync_seq
    status, body = api.post("enterprise1", f"/hazards/{hz['id']}/close", {})
    assert status == 409 and body == {"status": 409, "code": "invalid_transition", "message": body["message"],
                                      "details": {"action": "close", "status": "found", "reason": "role"}}
    status, body = api.post("supervisor", f"/hazards/{hz['id']}/close", {})
    assert status == 409 and body["details"] == {"action": "close", "status": "found", "reason": "state"}
    assert api.events(hz["id"]) == ["hazard.create"]
    assert api.row(hz["id"]).sync_seq == seq and api.row(hz["id"]).version == 1


def test_out_of_scope_users_get_404_for_every_step(api, db, world, inspection):
    hz = api.new_hazard(inspection)
    notice = api.issue([hz["id"]])
    for username in ("inspector3", "enterprise2"):
        assert api.get(username, f"/hazards/{hz['id']}")[0] == 404
        assert api.get(username, f"/hazards/{hz['id']}/history")[0] == 404
        assert api.get(username, f"/notices/{notice['id']}")[0] == 404
        assert api.get(username, f"/notices/{notice['id']}/pdf")[0] == 404
        assert api.post(username, f"/notices/{notice['id']}/acknowledge")[0] == 404
        assert api.post(username, f"/hazards/{hz['id']}/deadline", {"deadline_at": iso(days_from_now(3))})[0] == 404
        assert api.post(username, f"/hazards/{hz['id']}/rectifications", {"description": "x"})[0] == 404
    assert db.get(Notice, notice["id"]).status == "issued"
    assert api.hazard(hz["id"])["status"] == "ordered"


def test_deadline_can_be_reissued_by_an_inspector_and_lists_follow_it(api, db, world, inspection):
    hz = api.new_hazard(inspection)
    api.issue([hz["id"]], deadline=days_from_now(10))
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/deadline",
                            {"deadline_at": iso(days_from_now(-1)), "reason": "按原期限"})
    assert status == 409 and body["details"]["reason"] == "guard", "a new deadline lies in the future"
    assert api.get("supervisor", "/hazards", {"overdue": "true"})[1] == []
    row = api.row(hz["id"])
    row.deadline_at = days_from_now(-1)  # time passes
    db.commit()
    status, late = api.get("supervisor", "/hazards", {"overdue": "true"})
    assert [h["id"] for h in late] == [hz["id"]] and late[0]["overdue"] is True
    status, late_notices = api.get("enterprise1", "/notices", {"overdue": "true"})
    assert len(late_notices) == 1
    status, body = api.post("enterprise1", f"/hazards/{hz['id']}/deadline", {"deadline_at": iso(days_from_now(30))})
    assert status == 409 and body["details"]["reason"] == "role", "an enterprise cannot extend its own deadline"
    status, body = api.post("inspector1", f"/hazards/{hz['id']}/deadline", {"deadline_at": iso(days_from_now(30))})
    assert status == 200
    assert api.get("supervisor", "/hazards", {"overdue": "true"})[1] == []


CLOSED_ENDPOINTS = [
    ("grade", lambda ids: (f"/hazards/{ids['hazard']}/grade", {"grade": "major"})),
    ("deadline", lambda ids: (f"/hazards/{ids['hazard']}/deadline", {"deadline_at": iso(days_from_now(3))})),
    ("close-on-spot", lambda ids: (f"/hazards/{ids['hazard']}/close-on-spot", {"co_inspector_id": ids["co"]})),
    ("listing", lambda ids: (f"/hazards/{ids['hazard']}/listing", {})),
    ("close", lambda ids: (f"/hazards/{ids['hazard']}/close", {})),
    ("acknowledge", lambda ids: (f"/notices/{ids['notice']}/acknowledge", {})),
    ("report", lambda ids: (f"/hazards/{ids['hazard']}/rectifications", {"description": "再次整改"})),
    ("review", lambda ids: (f"/rectifications/{ids['rect']}/review", {
        "result": "accepted", "onsite_check": "复核", "co_reviewer_id": ids["co"]})),
]


@pytest.fixture()
def closed_hazard(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="已销号的隐患")
    notice = api.issue([hz["id"]])
    api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")
    rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {"description": "已整改"})[1]
    status, _ = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "onsite_check": "合格", "co_reviewer_id": world["inspector2"].id})
    assert status == 201 and api.hazard(hz["id"])["status"] == "closed"
    return {"hazard": hz["id"], "notice": notice["id"], "rect": rect["id"], "co": world["inspector2"].id}


@pytest.mark.parametrize("username", ["admin", "supervisor", "supervisor_taocheng", "inspector1", "enterprise1"])
@pytest.mark.parametrize("name,endpoint", CLOSED_ENDPOINTS, ids=[n for n, _ in CLOSED_ENDPOINTS])
def test_every_step_on_a_closed_hazard_is_refused_for_every_role(api, closed_hazard, username, name, endpoint):
    path, payload = endpoint(closed_hazard)
    before = api.events(closed_hazard["hazard"])
    version = api.row(closed_hazard["hazard"]).version
    status, body = api.post(username, path, payload)
    assert status == 409 and body["code"] == "invalid_transition", (status, body)
    assert api.events(closed_hazard["hazard"]) == before
    row = api.row(closed_hazard["hazard"])
    assert row.status == "closed" and row.version == version


def test_recording_a_hazard_checks_scope_role_and_criterion(api, db, world, inspection):
    status, body = api.post("inspector3", "/hazards", {"inspection_id": inspection.id, "description": "越界"})
    assert status == 404
    status, body = api.post("inspector3", "/hazards", {"enterprise_id": world.ent1.id, "description": "越界"})
    assert status == 404
    status, body = api.post("enterprise1", "/hazards", {"enterprise_id": world.ent1.id, "description": "自查"})
    assert status == 403
    status, body = api.post("inspector1", "/hazards", {"enterprise_id": world.ent1.id, "description": "x",
                                                       "major_criterion_code": "HC2017-03"})
    assert status == 422, "a criterion code needs grade major"
    status, body = api.post("inspector1", "/hazards", {"inspection_id": inspection.id, "enterprise_id": world.ent2.id,
                                                       "description": "企业不一致"})
    assert status == 422
    status, body = api.post("inspector1", "/hazards", {"enterprise_id": world.ent2.id, "description": "直接登记",
                                                       "grade": "major", "major_criterion_code": "HC2017-03"})
    assert status == 201 and body["region_code"] == "131102" and body["status"] == "found"
    assert body["found_by_id"] == world["inspector1"].id and body["major_criterion_code"] == "HC2017-03"
    status, listed = api.get("inspector1", "/hazards", {"enterprise_id": world.ent2.id, "grade": "major"})
    assert [h["id"] for h in listed] == [body["id"]]


def test_actions_endpoint_tells_each_role_what_it_may_do_now(api, world, inspection):
    hz = api.new_hazard(inspection)
    api.issue([hz["id"]])
    expected = {"inspector1": ["grade", "set_deadline"], "enterprise1": ["acknowledge"], "supervisor": ["list"],
                "admin": []}
    for username, actions in expected.items():
        status, body = api.get(username, f"/hazards/{hz['id']}/actions")
        assert status == 200 and body["status"] == "ordered" and body["actions"] == actions, username
    assert api.get("enterprise2", f"/hazards/{hz['id']}/actions")[0] == 404
    status, open_ones = api.get("enterprise1", "/hazards", {"open": "true"})
    assert [h["id"] for h in open_ones] == [hz["id"]]
    assert api.get("enterprise1", "/hazards", {"open": "false"})[1] == []
