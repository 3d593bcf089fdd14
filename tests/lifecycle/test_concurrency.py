"""Concurrent transitions on one hazard cannot both win (real connections, real commits).

Runs on SQLite (writers serialised by BEGIN IMMEDIATE) and on PostgreSQL (the cursor lock and
SELECT … FOR UPDATE in services/hazards.transition) — see INSPECT_TEST_DATABASE_URL.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from inspect_api.extensions import db as _db
from inspect_api.models import AuditEvent, Hazard, Inspection, Notice, Rectification, Review, User, utcnow
from inspect_api.services.lifecycle import notices as notice_service
from inspect_api.services.access.actor import Actor
from inspect_api.services.lifecycle.hazards import InvalidTransition, transition

from ..factories import PASSWORD


def _seed_ordered_hazard(live, description="静电接地失效"):
    with live.app.app_context():
        s = _db.session
        ent_id = live.ids["ent1"]
        insp = Inspection(enterprise_id=ent_id, region_code="131102", lead_inspector_id=live.ids["inspector1"],
                          co_inspector_id=live.ids["inspector2"], status="submitted")
        s.add(insp)
        s.flush()
        hz = Hazard(enterprise_id=ent_id, region_code="131102", inspection_id=insp.id, description=description)
        s.add(hz)
        s.flush()
        inspector = s.get(User, live.ids["inspector1"])
        notice = notice_service.issue_notice(s, Actor(inspector), {
            "hazard_ids": [hz.id], "deadline_at": utcnow() + timedelta(days=5),
            "officer2_id": live.ids["inspector2"]}, "131100")
        s.commit()
        return hz.id, notice.id


def test_two_connections_acknowledging_one_hazard_only_one_wins(live_server):
    live = live_server
    hazard_id, _ = _seed_ordered_hazard(live)
    barrier = threading.Barrier(2, timeout=20)
    results = {}

    def worker(name, delay_before, hold):
        with live.app.app_context():
            Session = sessionmaker(bind=_db.engine, expire_on_commit=False)
            with Session() as s:
                user = s.get(User, live.ids["enterprise1"])
                hz = s.get(Hazard, hazard_id)
                assert hz.status == "ordered"
                s.commit()  # both now hold a copy that says "ordered"
                barrier.wait()
                time.sleep(delay_before)
                try:
                    transition(s, Actor(user, ip=name), hz, "acknowledge")
                    time.sleep(hold)  # keep the lock while the other one tries
                    s.commit()
                    results[name] = "ok"
                except InvalidTransition as exc:
                    s.rollback()
                    results[name] = exc.details["reason"]

    a = threading.Thread(target=worker, args=("A", 0.0, 0.5))
    b = threading.Thread(target=worker, args=("B", 0.15, 0.0))
    a.start(), b.start()
    a.join(30), b.join(30)
    assert results == {"A": "ok", "B": "state"}
    with live.app.app_context():
        s = _db.session
        hz = s.get(Hazard, hazard_id)
        assert hz.status == "acknowledged" and hz.version == 3  # created 1, ordered 2, acknowledged 3
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_id == hazard_id,
                                                    AuditEvent.action == "hazard.acknowledge")).all()
        assert [e.ip for e in events] == ["A"]
        s.rollback()


def _token(live, username):
    r = requests.post(f"{live.url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _race(calls):
    barrier = threading.Barrier(len(calls), timeout=20)
    out = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        out[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_http_acknowledgements_one_200_one_409(live_server):
    live = live_server
    hazard_id, notice_id = _seed_ordered_hazard(live, "可燃气体报警器未校验")
    headers = [_token(live, "enterprise1") for _ in range(4)]
    url = f"{live.url}/api/v1/notices/{notice_id}/acknowledge"
    responses = _race([lambda h=h: requests.post(url, json={}, headers=h, timeout=30) for h in headers])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409], [r.text for r in responses]
    assert all(r.json()["code"] == "invalid_transition" for r in responses if r.status_code == 409)
    with live.app.app_context():
        s = _db.session
        assert s.get(Notice, notice_id).status == "acknowledged"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_id == hazard_id, AuditEvent.action == "hazard.acknowledge")) == 1
        s.rollback()


def test_concurrent_accept_and_reject_of_one_rectification_leave_one_review(live_server):
    live = live_server
    hazard_id, notice_id = _seed_ordered_hazard(live, "防爆电气设备失爆")
    ent = _token(live, "enterprise1")
    assert requests.post(f"{live.url}/api/v1/notices/{notice_id}/acknowledge", json={}, headers=ent,
                         timeout=10).status_code == 200
    r = requests.post(f"{live.url}/api/v1/hazards/{hazard_id}/rectifications", json={"description": "已更换防爆灯具"},
                      headers=ent, timeout=10)
    assert r.status_code == 201, r.text
    rect_id = r.json()["id"]
    i1, i2 = _token(live, "inspector1"), _token(live, "inspector2")
    url = f"{live.url}/api/v1/rectifications/{rect_id}/review"
    accept = {"result": "accepted", "onsite_check": "现场核查合格", "co_reviewer_id": live.ids["inspector2"]}
    reject = {"result": "rejected", "opinion": "仍有失爆", "onsite_check": "现场核查", "co_reviewer_id": live.ids["inspector1"]}
    responses = _race([lambda: requests.post(url, json=accept, headers=i1, timeout=30),
                       lambda: requests.post(url, json=reject, headers=i2, timeout=30)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()
    with live.app.app_context():
        s = _db.session
        reviews = s.scalars(select(Review).where(Review.rectification_id == rect_id)).all()
        assert [rv.id for rv in reviews] == [winner["id"]]
        expected = "closed" if winner["result"] == "accepted" else "rejected"
        assert s.get(Hazard, hazard_id).status == expected
        assert s.get(Rectification, rect_id).status == winner["result"]
        s.rollback()


def test_two_inspectors_ordering_one_hazard_at_once_make_one_notice_and_no_number_gap(live_server):
    live = live_server
    with live.app.app_context():
        s = _db.session
        insp = Inspection(enterprise_id=live.ids["ent2"], region_code="131102", lead_inspector_id=live.ids["inspector1"],
                          co_inspector_id=live.ids["inspector2"], status="submitted")
        s.add(insp)
        s.flush()
        hazards = [Hazard(enterprise_id=live.ids["ent2"], region_code="131102", inspection_id=insp.id,
                          description=f"并发下达{i}") for i in range(2)]
        s.add_all(hazards)
        s.commit()
        first, second = hazards[0].id, hazards[1].id
    i1, i2 = _token(live, "inspector1"), _token(live, "inspector2")
    deadline = (utcnow() + timedelta(days=9)).isoformat()
    url = f"{live.url}/api/v1/notices"
    responses = _race([
        lambda: requests.post(url, json={"hazard_ids": [first], "deadline_at": deadline,
                                         "officer2_id": live.ids["inspector2"]}, headers=i1, timeout=30),
        lambda: requests.post(url, json={"hazard_ids": [first], "deadline_at": deadline,
                                         "officer2_id": live.ids["inspector1"]}, headers=i2, timeout=30),
    ])
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()
    nxt = requests.post(url, json={"hazard_ids": [second], "deadline_at": deadline,
                                   "officer2_id": live.ids["inspector2"]}, headers=i1, timeout=30)
    assert nxt.status_code == 201, nxt.text
    with live.app.app_context():
        s = _db.session
        notices = s.scalars(select(Notice).join(Hazard, Hazard.notice_id == Notice.id)
                            .where(Hazard.id.in_([first, second])).order_by(Notice.seq_no)).all()
        assert [n.id for n in notices] == [winner["id"], nxt.json()["id"]]
        assert notices[1].seq_no == notices[0].seq_no + 1, "the refused notice gave its number back"
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.enterprise_id == live.ids["ent2"])) == 2
        s.rollback()
