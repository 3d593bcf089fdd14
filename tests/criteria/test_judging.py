"""Judging by the day a hazard was found: the Done scenario of issue #15 — a hazard found on 2026-09-29
(2017 clause) and one on 2026-09-30 (the new, made-up test catalogue), both graded, both printed on the
notice and review PDFs, both counted by clause in one statistics call, both in the ledger."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from inspect_api.models import AuditEvent, Hazard, Rectification, Review, utcnow
from inspect_api.services.lifecycle import documents

from ..lifecycle import helpers as lc
from ..lifecycle.test_documents import pdftotext, squash
from .catalogue_data import MADE_UP
from .helpers import clause_of, local, publish_test_catalogue


@pytest.fixture()
def test_cat(client, auth, hc2017):
    return publish_test_catalogue(client, auth)


def _grade(client, auth, hazard_id, user="inspector1", **body):
    resp = client.post(f"/api/v1/hazards/{hazard_id}/grade", headers=auth.headers(user), json={"grade": "major", **body})
    return resp.status_code, resp.get_json()


@pytest.fixture()
def two_hazards(db, world, test_cat):
    """Found on the last day of the 2017 catalogue and on the first day of its successor (Hengshui time:
    2026-09-30 00:30 is still 2026-09-29 in UTC)."""
    before = lc.hazard(db, world, description="液化烃储罐区未实现紧急切断", found_at=local(2026, 9, 29, 23, 50))
    after = lc.hazard(db, world, description="储罐未设紧急切断（新标准）", found_at=local(2026, 9, 30, 0, 30))
    db.commit()
    return before, after


def test_each_hazard_is_graded_by_the_catalogue_in_force_on_the_day_it_was_found(client, auth, db, test_cat,
                                                                                 two_hazards):
    before, after = two_hazards
    status, body = _grade(client, auth, before.id, criterion_clause_id="crit-HC2017-05")
    assert status == 200 and body["criterion_clause_id"] == "crit-HC2017-05"
    assert body["major_criterion_code"] == "HC2017-05"
    new_clause = clause_of(test_cat, "5.2.1")
    status, body = _grade(client, auth, after.id, criterion_clause_id=new_clause)
    assert status == 200 and body["criterion_clause_id"] == new_clause and body["major_criterion_code"] == "TEST-AQ-5.2.1"
    # the audit trail keeps the clause of each judgement
    data = db.scalars(select(AuditEvent.data).where(AuditEvent.object_id == after.id,
                                                    AuditEvent.action == "hazard.grade")).one()
    assert data["criterion_clause_id"] == new_clause


def test_a_retired_clause_for_a_hazard_found_after_its_end_is_refused_and_nothing_changes(client, auth, db,
                                                                                          two_hazards):
    _, after = two_hazards
    version = db.get(Hazard, after.id).version
    for body in ({"criterion_clause_id": "crit-HC2017-05"}, {"major_criterion_code": "HC2017-05"}):
        status, err = _grade(client, auth, after.id, **body)
        assert status == 422 and err["code"] == "criterion_not_applicable" and err["details"]["reason"] == "retired"
        assert "2026-09-29 后废止" in err["message"] and "2026-09-30" in err["message"]
    db.expire_all()
    h = db.get(Hazard, after.id)
    assert (h.grade, h.criterion_clause_id, h.major_criterion_code, h.version) == ("general", None, None, version)


def test_a_new_clause_cannot_judge_a_hazard_found_before_it_took_effect(client, auth, test_cat, two_hazards):
    before, _ = two_hazards
    status, err = _grade(client, auth, before.id, criterion_clause_id=clause_of(test_cat, "5.1.1"))
    assert status == 422 and err["details"]["reason"] == "not_yet_in_force"


def test_a_clause_whose_scope_excludes_the_industry_is_refused(client, auth, db, world, test_cat):
    h = lc.hazard(db, world, enterprise=world.ent_shenzhou, found_at=local(2026, 10, 8))  # F51, not C25/C26
    db.commit()
    status, err = _grade(client, auth, h.id, user="inspector3", criterion_clause_id=clause_of(test_cat, "5.1.1"))
    assert status == 422 and err["details"]["reason"] == "out_of_scope" and "F51" in err["message"]
    assert db.get(Hazard, h.id).grade == "general"


def test_a_later_standard_never_rewrites_an_old_judgement(client, auth, db, world, hc2017):
    h = lc.hazard(db, world, found_at=local(2026, 9, 1))
    db.commit()
    assert _grade(client, auth, h.id, major_criterion_code="HC2017-07")[0] == 200
    publish_test_catalogue(client, auth)
    db.expire_all()
    assert (db.get(Hazard, h.id).criterion_clause_id, db.get(Hazard, h.id).major_criterion_code) == \
        ("crit-HC2017-07", "HC2017-07")
    body = client.get(f"/api/v1/hazards/{h.id}", headers=auth.headers("inspector1")).get_json()
    assert body["criterion_clause_id"] == "crit-HC2017-07"


def test_grading_general_clears_the_clause(client, auth, db, two_hazards):
    before, _ = two_hazards
    assert _grade(client, auth, before.id, criterion_clause_id="crit-HC2017-05")[0] == 200
    resp = client.post(f"/api/v1/hazards/{before.id}/grade", headers=auth.headers("inspector1"), json={"grade": "general"})
    assert resp.status_code == 200 and resp.get_json()["criterion_clause_id"] is None
    assert resp.get_json()["major_criterion_code"] is None


def test_a_hazard_created_through_the_api_is_judged_on_its_found_day(client, auth, world, test_cat):
    h = auth.headers("inspector1")
    resp = client.post("/api/v1/hazards", headers=h, json={
        "enterprise_id": world.ent1.id, "description": "x", "grade": "major", "criterion_clause_id": "crit-HC2017-01",
        "found_at": local(2026, 10, 2).isoformat()})
    assert resp.status_code == 422 and resp.get_json()["details"]["reason"] == "retired"
    resp = client.post("/api/v1/hazards", headers=h, json={
        "enterprise_id": world.ent1.id, "description": "x", "grade": "major", "criterion_clause_id": "crit-HC2017-01",
        "found_at": local(2026, 9, 2).isoformat()})
    assert resp.status_code == 201 and resp.get_json()["major_criterion_code"] == "HC2017-01"


def _print_notice_and_review(app, db, world, hazards):
    config = documents.DocumentConfig.from_mapping(app.config)
    n = lc.notice(db, world)
    n.number = "（桃城）应急责改〔2026〕7号"
    for h in hazards:
        h.notice_id, h.status = n.id, "ordered"
    db.flush()
    notice_text = squash(pdftotext(documents.render_notice_pdf(db, n, config)))
    review_texts = []
    for h in hazards:
        rect = Rectification(hazard_id=h.id, enterprise_id=h.enterprise_id, region_code=h.region_code,
                             description="已整改", status="accepted")
        db.add(rect)
        db.flush()
        review = Review(rectification_id=rect.id, hazard_id=h.id, enterprise_id=h.enterprise_id,
                        region_code=h.region_code, reviewer_id=world["inspector1"].id, result="accepted",
                        opinion="整改到位", reviewed_at=utcnow())
        db.add(review)
        db.flush()
        review_texts.append(squash(pdftotext(documents.render_review_pdf(db, review, config))))
    return notice_text, review_texts


def test_both_judgements_are_printed_counted_by_clause_and_in_the_ledger(app, client, auth, db, world, test_cat,
                                                                         two_hazards):
    before, after = two_hazards
    new_clause = clause_of(test_cat, "5.2.1")
    assert _grade(client, auth, before.id, criterion_clause_id="crit-HC2017-05")[0] == 200
    assert _grade(client, auth, after.id, criterion_clause_id=new_clause)[0] == 200
    db.expire_all()
    hazards = [db.get(Hazard, before.id), db.get(Hazard, after.id)]

    # printed: clause number and text on the notice and on each review opinion
    notice_text, reviews = _print_notice_and_review(app, db, world, hazards)
    old_text = squash("构成一级、二级重大危险源的危险化学品罐区未实现紧急切断功能")
    new_text = squash(f"{MADE_UP}储罐未设紧急切断")
    assert squash("判定依据 安监总管三〔2017〕121号 第5项") in notice_text and old_text in notice_text
    assert squash("判定依据 TEST 0000—2026（虚构） 第5.2.1条") in notice_text and new_text in notice_text
    assert old_text in reviews[0] and "第5项" in reviews[0] and new_text not in reviews[0]
    assert new_text in reviews[1] and "第5.2.1条" in reviews[1]
    db.commit()

    # counted: one statistics call over a period spanning both standards
    resp = client.get("/api/v1/stats/criteria", headers=auth.headers("supervisor"),
                      query_string={"from": "2026-09-01", "to": "2026-10-31"})
    body = resp.get_json()
    assert resp.status_code == 200, body
    rows = [(r["doc_no"], r["clause_number"], r["major"]) for r in body["rows"]]
    assert rows == [("安监总管三〔2017〕121号", "5", 1), ("TEST 0000—2026（虚构）", "5.2.1", 1)]
    assert body["total"]["major"] == 2
    # a period on one side of the boundary counts only its own standard
    one = client.get("/api/v1/stats/criteria", headers=auth.headers("supervisor"),
                     query_string={"from": "2026-09-30", "to": "2026-09-30"}).get_json()
    assert [r["clause_code"] for r in one["rows"]] == ["TEST-AQ-5.2.1"]

    # the ledger: catalogue and clause columns
    resp = client.get("/api/v1/stats/ledger/export", headers=auth.headers("supervisor"),
                      query_string={"from": "2026-09-01", "to": "2026-10-31", "format": "csv"})
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    header, body_rows = table[0], {r[0]: r for r in table[1:] if r and r[0] in (before.id, after.id)}
    i, j = header.index("判定依据"), header.index("判定条款")
    assert body_rows[before.id][i] == "安监总管三〔2017〕121号" and body_rows[before.id][j].startswith("5 构成一级")
    assert body_rows[after.id][i] == "TEST 0000—2026（虚构）" and body_rows[after.id][j].startswith("5.2.1 【测试用")


def test_statistics_by_clause_stay_in_the_callers_scope(client, auth, db, world, hc2017):
    h = lc.hazard(db, world, enterprise=world.ent_shenzhou, found_at=local(2026, 9, 1))
    db.commit()
    assert _grade(client, auth, h.id, user="inspector3", major_criterion_code="HC2017-02")[0] == 200
    mine = client.get("/api/v1/stats/criteria", headers=auth.headers("supervisor_taocheng"),
                      query_string={"from": "2026-09-01", "to": "2026-09-30"}).get_json()
    city = client.get("/api/v1/stats/criteria", headers=auth.headers("supervisor"),
                      query_string={"from": "2026-09-01", "to": "2026-09-30"}).get_json()
    assert mine["rows"] == [] and [r["clause_code"] for r in city["rows"]] == ["HC2017-02"]
    assert client.get("/api/v1/stats/criteria", headers=auth.headers("enterprise1")).status_code == 403


def test_regrading_major_without_a_criterion_keeps_the_judgement(client, auth, db, two_hazards):
    before, _ = two_hazards
    assert _grade(client, auth, before.id, criterion_clause_id="crit-HC2017-05")[0] == 200
    status, body = _grade(client, auth, before.id, reason="复核")
    assert status == 200 and body["criterion_clause_id"] == "crit-HC2017-05" and body["major_criterion_code"] == "HC2017-05"
