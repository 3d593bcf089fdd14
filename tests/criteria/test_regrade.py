"""Re-grading open major hazards under the new standard: preview, apply all or nothing, audited."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inspect_api.models import AuditEvent, Hazard

from ..lifecycle import helpers as lc
from .helpers import clause_of, local, publish_test_catalogue


@pytest.fixture()
def setup(client, auth, db, world, hc2017):
    """Two open major hazards judged under 2017, one closed one, then the test catalogue published."""
    a = lc.hazard(db, world, grade="major", status="ordered", found_at=local(2026, 9, 10),
                  criterion_clause_id="crit-HC2017-05", major_criterion_code="HC2017-05", description="罐区无紧急切断")
    b = lc.hazard(db, world, grade="major", status="found", found_at=local(2026, 9, 12),
                  criterion_clause_id="crit-HC2017-02", major_criterion_code="HC2017-02", description="无证上岗",
                  listing_level="county")
    done = lc.hazard(db, world, grade="major", status="closed", found_at=local(2026, 9, 1),
                     criterion_clause_id="crit-HC2017-03", major_criterion_code="HC2017-03")
    db.commit()
    cat = publish_test_catalogue(client, auth)
    return a, b, done, cat


def test_candidates_are_the_open_major_hazards_not_judged_by_the_new_standard(client, auth, setup):
    a, b, done, cat = setup
    resp = client.get("/api/v1/criteria/regrade", headers=auth.headers("supervisor"),
                      query_string={"catalogue_id": cat["id"]})
    assert resp.status_code == 200 and [h["id"] for h in resp.get_json()] == [a.id, b.id]
    assert client.get("/api/v1/criteria/regrade", headers=auth.headers("inspector1"),
                      query_string={"catalogue_id": cat["id"]}).status_code == 403


def test_the_preview_shows_before_and_after_and_changes_nothing(client, auth, db, setup):
    a, b, _, cat = setup
    changes = [{"hazard_id": a.id, "clause_id": clause_of(cat, "5.2.1")}, {"hazard_id": b.id, "clause_id": None}]
    resp = client.post("/api/v1/criteria/regrade/preview", headers=auth.headers("supervisor"),
                       json={"catalogue_id": cat["id"], "changes": changes})
    rows = resp.get_json()
    assert resp.status_code == 200
    assert rows[0]["before"].startswith("安监总管三〔2017〕121号 第5项") and "第5.2.1条" in rows[0]["after"]
    assert rows[0]["problem"] is None
    assert "挂牌督办" in rows[1]["problem"]  # a listed hazard cannot be downgraded
    db.expire_all()
    assert db.get(Hazard, a.id).criterion_clause_id == "crit-HC2017-05"


def test_apply_is_all_or_nothing_and_audited(client, auth, db, setup):
    a, b, _, cat = setup
    h = auth.headers("supervisor")
    bad = [{"hazard_id": a.id, "clause_id": clause_of(cat, "5.2.1")}, {"hazard_id": b.id, "clause_id": None}]
    resp = client.post("/api/v1/criteria/regrade", headers=h,
                       json={"catalogue_id": cat["id"], "changes": bad, "reason": "新标准施行"})
    assert resp.status_code == 422 and resp.get_json()["code"] == "regrade_invalid"
    db.expire_all()
    assert db.get(Hazard, a.id).criterion_clause_id == "crit-HC2017-05"
    good = [{"hazard_id": a.id, "clause_id": clause_of(cat, "5.2.1")},
            {"hazard_id": b.id, "clause_id": clause_of(cat, "5.1.2")}]
    assert client.post("/api/v1/criteria/regrade", headers=h,
                       json={"catalogue_id": cat["id"], "changes": good}).status_code == 422  # reason required
    resp = client.post("/api/v1/criteria/regrade", headers=h,
                       json={"catalogue_id": cat["id"], "changes": good, "reason": "AQ 新标准施行，重新判定"})
    assert resp.status_code == 200, resp.get_json()
    db.expire_all()
    ha = db.get(Hazard, a.id)
    assert (ha.criterion_clause_id, ha.major_criterion_code, ha.grade) == (clause_of(cat, "5.2.1"), "TEST-AQ-5.2.1",
                                                                          "major")
    event = db.scalars(select(AuditEvent).where(AuditEvent.object_id == a.id,
                                                AuditEvent.action == "hazard.regrade")).one()
    assert event.reason == "AQ 新标准施行，重新判定" and event.data["before_clause_id"] == "crit-HC2017-05"
    assert event.actor_username == "supervisor"


def test_a_standard_not_yet_in_force_cannot_be_used_to_regrade(client, auth, db, world, hc2017):
    a = lc.hazard(db, world, grade="major", found_at=local(2026, 9, 10), criterion_clause_id="crit-HC2017-05")
    db.commit()
    later = (date.today() + timedelta(days=30)).isoformat()
    cat = publish_test_catalogue(client, auth, effective_from=later)
    resp = client.post("/api/v1/criteria/regrade/preview", headers=auth.headers("supervisor"), json={
        "catalogue_id": cat["id"], "changes": [{"hazard_id": a.id, "clause_id": clause_of(cat, "5.1.1")}]})
    assert resp.status_code == 422


def test_another_jurisdictions_hazard_answers_404(client, auth, db, world, setup):
    _, _, _, cat = setup
    other = lc.hazard(db, world, enterprise=world.ent_shenzhou, grade="major", found_at=local(2026, 9, 10))
    db.commit()
    resp = client.post("/api/v1/criteria/regrade/preview", headers=auth.headers("supervisor_taocheng"), json={
        "catalogue_id": cat["id"], "changes": [{"hazard_id": other.id, "clause_id": clause_of(cat, "5.1.1")}]})
    assert resp.status_code == 404
