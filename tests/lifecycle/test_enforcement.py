"""Enforcement cases (立案) and penalty decisions (行政处罚) through the API."""
from __future__ import annotations

from datetime import timedelta

from inspect_api.models import EnforcementCase, PenaltyDecision, utcnow
from inspect_api.services.lifecycle.numbering import SHANGHAI, year_of

from . import helpers


def _today():
    return utcnow().astimezone(SHANGHAI).date()


def test_case_from_inspection_and_hazards_with_fine_warning_payment_and_closure(api, db, world, inspection):
    h1 = api.new_hazard(inspection, description="未按规定设置安全警示标志")
    h2 = api.new_hazard(inspection, description="特种作业人员未持证上岗")
    year = year_of(utcnow())
    status, case = api.post("inspector1", "/cases", {
        "inspection_id": inspection.id, "hazard_ids": [h1["id"], h2["id"]],
        "cause": "涉嫌特种作业人员未持证上岗", "source": "现场检查"})
    assert status == 201, case
    assert case["number"] == f"（桃城）应急立〔{year}〕1号" and case["status"] == "open"
    assert case["enterprise_id"] == world.ent1.id and sorted(case["hazard_ids"]) == sorted([h1["id"], h2["id"]])

    status, fine = api.post("inspector1", f"/cases/{case['id']}/penalties", {
        "kind": "fine", "amount": "30000.00", "decided_on": _today().isoformat(),
        "basis": "《中华人民共和国安全生产法》第九十七条"})
    assert status == 201, fine
    assert fine["number"] == f"（桃城）应急罚〔{year}〕1号" and fine["amount"] == "30000.00"
    assert fine["payment_status"] == "unpaid"
    status, warning = api.post("supervisor_taocheng", f"/cases/{case['id']}/penalties", {"kind": "warning"})
    assert status == 201 and warning["payment_status"] == "not_applicable" and warning["amount"] is None
    assert warning["number"] == f"（桃城）应急罚〔{year}〕2号"

    status, body = api.post("inspector1", f"/cases/{case['id']}/close", {})
    assert status == 409 and body["details"]["unpaid"] == [fine["number"]]

    status, body = api.post("inspector1", f"/penalties/{fine['id']}/payment", {"paid_amount": "40000"})
    assert status == 422, "cannot pay more than the fine"
    status, paid = api.post("inspector1", f"/penalties/{fine['id']}/payment",
                            {"paid_amount": "30000", "paid_on": _today().isoformat()})
    assert status == 200 and paid["payment_status"] == "paid" and paid["paid_amount"] == "30000.00"
    status, body = api.post("inspector1", f"/penalties/{fine['id']}/payment", {"paid_amount": "1"})
    assert status == 409, "already paid"

    status, closed = api.post("inspector1", f"/cases/{case['id']}/close", {"reason": "执行完毕"})
    assert status == 200 and closed["status"] == "closed" and closed["closed_at"]
    status, body = api.post("inspector1", f"/cases/{case['id']}/penalties", {"kind": "warning"})
    assert status == 409

    status, history = api.get("supervisor", f"/cases/{case['id']}/history")
    assert [e["action"] for e in history] == ["case.open", "penalty.decide", "case.decide", "penalty.decide",
                                              "penalty.pay", "case.close"]
    assert [e["actor_username"] for e in history] == ["inspector1", "inspector1", "inspector1",
                                                      "supervisor_taocheng", "inspector1", "inspector1"]

    # The enterprise sees its own case and decisions, read-only
    status, mine = api.get("enterprise1", "/cases")
    assert [c["id"] for c in mine] == [case["id"]] and len(mine[0]["decisions"]) == 2
    assert api.get("enterprise2", f"/cases/{case['id']}")[0] == 404
    assert api.get("inspector3", f"/cases/{case['id']}")[0] == 404
    status, fines = api.get("supervisor", "/penalties", {"kind": "fine"})
    assert [p["id"] for p in fines] == [fine["id"]]


def test_penalty_amount_rules_and_roles(api, db, world):
    status, case = api.post("supervisor", "/cases", {"enterprise_id": world.ent2.id, "cause": "未落实隐患排查治理制度"})
    assert status == 201 and case["number"].startswith("（桃城）应急立〔")
    for payload in ({"kind": "fine"}, {"kind": "fine", "amount": "0"}, {"kind": "warning", "amount": "100"},
                    {"kind": "closure", "decided_on": (_today() + timedelta(days=2)).isoformat()},
                    {"kind": "detention"}):
        status, body = api.post("inspector1", f"/cases/{case['id']}/penalties", payload)
        assert status == 422, payload
    status, body = api.post("enterprise2", f"/cases/{case['id']}/penalties", {"kind": "warning"})
    assert status == 403
    status, body = api.post("enterprise2", "/cases", {"enterprise_id": world.ent2.id, "cause": "x"})
    assert status == 403
    status, body = api.post("inspector3", "/cases", {"enterprise_id": world.ent2.id, "cause": "越权立案"})
    assert status == 404
    status, body = api.post("inspector1", f"/cases/{case['id']}/close", {})
    assert status == 409 and body["details"]["reason"] == "state", "an open case without decision does not close"
    for kind in ("suspend_production", "licence_suspension", "closure"):
        status, body = api.post("inspector1", f"/cases/{case['id']}/penalties", {"kind": kind})
        assert status == 201 and body["kind"] == kind
    assert db.query(PenaltyDecision).filter_by(case_id=case["id"]).count() == 3
    assert db.get(EnforcementCase, case["id"]).status == "decided"


def test_case_hazards_must_belong_to_one_enterprise(api, db, world, inspection):
    h1 = api.new_hazard(inspection)
    other = helpers.hazard(db, world, enterprise=world.ent2)
    db.commit()
    status, body = api.post("inspector1", "/cases", {"hazard_ids": [h1["id"], other.id], "cause": "混合"})
    assert status == 422 and "hazard_ids" in body["details"]["fields"]
    status, body = api.post("inspector1", "/cases", {"cause": "无对象"})
    assert status == 422
    assert db.query(EnforcementCase).count() == 0
