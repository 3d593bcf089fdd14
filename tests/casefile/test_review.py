"""评查: each review check is a named finding; blocking findings need a written reason to archive."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inspect_api.models import EnforcementCase, Notice, Review, ServiceRecord
from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.casefile import profiles
from inspect_api.services.casefile.review import page_gaps
from inspect_api.services.lifecycle import enforcement as enforcement_service

from .conftest import legal_actor


def _codes(db, settings, legal, case_id):
    _, _, findings = archive_service.preview(db, settings, legal_actor(legal), "enforcement", case_id)
    return {f["code"]: f for f in findings}


def test_a_complete_case_has_no_findings(db, closed_case, legal, settings):
    assert _codes(db, settings, legal, closed_case.id) == {}


def test_a_decision_never_served_is_a_missing_document(db, closed_case, legal, settings):
    for rec in db.scalars(select(ServiceRecord)):
        db.delete(rec)
    db.flush()
    found = _codes(db, settings, legal, closed_case.id)
    decision = closed_case.decisions[0]
    assert found["missing_document"]["details"] == {"document": "service_receipt", "for_number": decision.number}
    with pytest.raises(archive_service.ReviewBlocked) as exc:
        archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    assert [f["code"] for f in exc.value.details["findings"]] == ["missing_document"]
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id,
                                      override_reason="当事人拒收，已留置送达，回执另行补充")
    assert cf.override_reason.startswith("当事人拒收") and cf.findings[0]["code"] == "missing_document"


def test_a_case_handled_by_one_officer_is_flagged(db, world, legal, settings):
    officer = legal_actor(world["inspector1"])
    case = enforcement_service.open_case(db, officer, {"enterprise_id": world.ent1.id, "cause": "涉嫌未如实记录"},
                                         "131100")
    enforcement_service.record_penalty(db, officer, case, {"kind": "warning"}, "131100")
    enforcement_service.close_case(db, officer, case)
    found = _codes(db, settings, legal, case.id)
    assert found["too_few_officers"]["details"]["distinct_certificates"] == 1
    assert found["missing_document"]["details"]["document"] in ("service_receipt",)


def test_a_decision_past_the_configured_days_is_late(db, closed_case, legal, settings):
    case = db.get(EnforcementCase, closed_case.id)
    case.opened_at = case.opened_at - timedelta(days=120)
    db.flush()
    found = _codes(db, settings, legal, closed_case.id)
    assert found["decision_late"]["details"]["limit"] == 90 and found["decision_late"]["details"]["days"] >= 120
    data = profiles.default_profile()
    data["deadlines"]["decision_after_filing_days"] = 150
    profiles.set_profile(db, closed_case.bureau_code, data, "test")
    assert "decision_late" not in _codes(db, settings, legal, closed_case.id)


def test_a_review_dated_before_its_notice_is_flagged(db, closed_case, legal, settings):
    review = db.scalars(select(Review)).one()
    notice = db.scalars(select(Notice)).one()
    review.reviewed_at = notice.issued_at - timedelta(days=1)
    db.flush()
    found = _codes(db, settings, legal, closed_case.id)
    assert found["review_before_notice"]["details"] == {"number": review.number, "notice_number": notice.number}


def test_page_gaps_are_found():
    entries = [{"seq": 1, "pages": [1, 2]}, {"seq": 2, "pages": [3, 3]}, {"seq": 3, "pages": [5, 6]}]
    assert [f["details"] for f in page_gaps(entries)] == [{"seq": 3, "first": 5, "expected": 4}]
    assert page_gaps(entries[:2]) == []


def test_profiles_are_data_and_bad_ones_are_refused(db):
    from inspect_api.errors import ValidationError

    data = profiles.default_profile()
    assert data["deadlines"]["decision_after_filing_days"] == 90 and "recalled" in data["deadlines"][
        "_decision_after_filing_days"]
    data["order"]["enforcement"] = list(reversed(data["order"]["enforcement"]))
    profiles.set_profile(db, "131102", data, "test")
    assert profiles.bureau_profile(db, "131102")["order"]["enforcement"][0] == "audit_trail"
    bad = profiles.default_profile()
    bad["order"]["enforcement"].append("unknown_document")
    with pytest.raises(ValidationError):
        profiles.set_profile(db, "131102", bad, "test")


def test_profile_cli(app, db, tmp_path):
    import json

    runner = app.test_cli_runner()
    shown = runner.invoke(args=["casefile", "profile-show", "131102"])
    assert shown.exit_code == 0 and json.loads(shown.output)["retention"]["enforcement"] == "永久"
    data = profiles.default_profile()
    data["retention"]["enforcement"] = "30年"
    (tmp_path / "p.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = runner.invoke(args=["casefile", "profile-set", "131102", str(tmp_path / "p.json")])
    assert out.exit_code == 0, out.output
    assert profiles.bureau_profile(db, "131102")["retention"]["enforcement"] == "30年"
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    out = runner.invoke(args=["casefile", "profile-set", "131102", str(tmp_path / "bad.json")])
    assert out.exit_code == 1 and "order" in out.output
