"""Archiving a closed case through the API: the package, its verification, the guard, supplements."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from inspect_api.models import AuditEvent, CaseFile, EnforcementCase, Hazard, PenaltyDecision
from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.lifecycle import enforcement as enforcement_service
from inspect_api.services.lifecycle.hazards import transition

from .conftest import KEY_LINE, VKEY, legal_actor
from .helpers import read_zip, verify_bytes


@pytest.fixture()
def api(client, auth, app, monkeypatch):
    # the API signs with the test key
    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)

    class Api:
        def call(self, method, user, path, **kw):
            resp = client.open(f"/api/v1{path}", method=method, headers=auth.headers(user), **kw)
            return resp.status_code, resp

    return Api()


def _bottom_right(page) -> list[str]:
    """Text drawn in the bottom-right corner of a page (x beyond 80 % of the width, y below 50 pt)."""
    found = []
    width = float(page.mediabox.width)

    def visit(text, cm, tm, font, size):
        x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
        if text.strip() and x > 0.8 * width and y < 50:
            found.append(text.strip())

    page.extract_text(visitor_text=visit)
    return found


def _archive(api, case_id, reason=None):
    body = {"kind": "enforcement", "subject_id": case_id}
    if reason:
        body["override_reason"] = reason
    status, resp = api.call("POST", "legal1", "/casefiles", json=body)
    return status, resp.get_json()


def test_legal_officer_reviews_archives_and_the_package_verifies_offline(api, db, closed_case, legal, tmp_path):
    status, resp = api.call("GET", "legal1", f"/casefiles/preview/enforcement/{closed_case.id}")
    preview = resp.get_json()
    assert status == 200 and preview["findings"] == [] and preview["archived_id"] is None
    titles = [e["title"] for e in preview["entries"]]
    assert titles[:2] == ["行政处罚决定书", "立案审批表"], "the profile's order: decision first"
    assert "文书送达回执" in titles and "结案审批表" in titles and titles[-1] == "操作记录（审计日志）"

    status, cf = _archive(api, closed_case.id)
    assert status == 201, cf
    assert cf["archive_no"].startswith("（桃城）应急档〔") and cf["retention"] == "永久"
    assert cf["root_sm3"] != preview["root"]["sm3"], "the cover now carries the 归档号 and date"
    status, resp = api.call("GET", "legal1", f"/casefiles/{cf['id']}/package")
    assert status == 200 and resp.mimetype == "application/zip"
    package = resp.data
    assert verify_bytes(package, VKEY, tmp_path) == 0
    members = read_zip(package)
    manifest = json.loads(members["manifest.json"])
    assert manifest["root"] == {"sm3": cf["root_sm3"], "sha256": cf["root_sha256"]}
    assert manifest["cover"]["archive_no"] == cf["archive_no"]
    assert manifest["cover"]["officers"] == ["inspector1", "inspector2"]
    pages = [e["pages"] for e in manifest["entries"]]
    assert pages[0][0] == 1 and all(b[0] == a[1] + 1 for a, b in zip(pages, pages[1:])), pages
    photos = [e for e in manifest["entries"] if e["kind"] == "photo_evidence"]
    assert len(photos) == 2 and all(any(f["path"].endswith("original.jpg") for f in e["files"]) for e in photos)
    assert members["verify.py"].startswith(b"#!/usr/bin/env python3")

    # the bound PDF: bookmarks for cover, contents, each document, the closing note; page numbers bottom right
    status, resp = api.call("GET", "legal1", f"/casefiles/{cf['id']}/pdf")
    reader = PdfReader(io.BytesIO(resp.data))
    outline = [o.title for o in reader.outline]
    assert outline[0] == "封面" and outline[1] == "卷内目录" and outline[-1] == "备考表"
    assert len(outline) == 3 + len(manifest["entries"])
    first_doc = reader.pages[2]
    assert "行政处罚决定书" in first_doc.extract_text()
    for number, page in enumerate(reader.pages[2:-1], 1):
        assert str(number) in _bottom_right(page), f"page {number} has its number at the bottom right"
    assert _bottom_right(reader.pages[0]) == [] and _bottom_right(reader.pages[-1]) == [], "cover, 备考表 unnumbered"
    toc = reader.pages[1].extract_text()
    assert "卷内目录" in toc and manifest["entries"][0]["number"] in toc.replace("\n", "")

    # the archive is in the audit log and the file is listed
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "casefile.archive")).one()
    status, resp = api.call("GET", "supervisor_taocheng", "/casefiles")
    assert status == 200 and [f["id"] for f in resp.get_json()] == [cf["id"]]
    status, _ = _archive(api, closed_case.id)
    assert status == 409


def test_the_same_data_gives_the_same_manifest_bytes_and_root(db, closed_case, legal, settings):
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    first, second = archive_service.rebuild(db, settings, cf), archive_service.rebuild(db, settings, cf)
    assert first.manifest_bytes == second.manifest_bytes
    assert first.files == second.files
    assert first.roots == {"sm3": cf.root_sm3, "sha256": cf.root_sha256}


def test_nothing_in_an_archived_case_changes(db, closed_case, legal, settings, world):
    archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    db.flush()
    officer = legal_actor(world["inspector1"])
    decision = closed_case.decisions[0]
    hazard = closed_case.hazards[0]
    attempts = [
        lambda: enforcement_service.record_penalty(db, officer, closed_case, {"kind": "warning"}, "131100"),
        lambda: enforcement_service.close_case(db, officer, closed_case),
        lambda: enforcement_service.record_payment(db, officer, decision, {"paid_amount": 1}),
        lambda: transition(db, officer, hazard, "set_deadline", deadline_at=hazard.found_at),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as exc:
            with db.begin_nested():
                attempt()
        assert getattr(exc.value, "code", None) == "casefile_archived", exc.value
    # a path that forgets the call (a script) is refused at flush
    with pytest.raises(Exception) as exc:
        with db.begin_nested():
            db.get(PenaltyDecision, decision.id).basis = "改写的依据"
            db.flush()
    assert exc.value.code == "casefile_archived"
    db.expire_all()
    assert db.get(PenaltyDecision, decision.id).basis != "改写的依据"
    assert db.get(EnforcementCase, closed_case.id).status == "closed"
    assert db.get(Hazard, hazard.id).status == hazard.status


def test_guard_answers_409_through_the_api(api, db, closed_case, legal, world):
    status, cf = _archive(api, closed_case.id)
    assert status == 201
    decision = closed_case.decisions[0]
    status, resp = api.call("POST", "inspector1", "/service-records", json={
        "document_table": "penalty_decisions", "document_id": decision.id, "served_at": "2026-01-02T03:04:05+00:00",
        "method": "mail", "recipient": "某人", "officer2_id": world["inspector2"].id})
    assert status == 409 and resp.get_json()["code"] == "casefile_archived"
    status, resp = api.call("POST", "inspector1", f"/cases/{closed_case.id}/penalties", json={"kind": "warning"})
    assert status == 409 and resp.get_json()["code"] == "casefile_archived"


def test_a_correction_is_a_supplement_appended_and_proven(api, db, closed_case, legal, tmp_path):
    status, cf = _archive(api, closed_case.id)
    before = read_zip(api.call("GET", "legal1", f"/casefiles/{cf['id']}/package")[1].data)
    status, resp = api.call("POST", "legal1", f"/casefiles/{cf['id']}/supplements",
                            json={"reason": "送达地点笔误", "content": "送达地点应为企业办公楼二层会议室"})
    assert status == 201 and resp.get_json()["seq"] == 1
    status, resp = api.call("POST", "legal1", f"/casefiles/{cf['id']}/supplements", json={"reason": "", "content": "x"})
    assert status == 422
    package = api.call("GET", "legal1", f"/casefiles/{cf['id']}/package")[1].data
    assert verify_bytes(package, VKEY, tmp_path) == 0
    after = read_zip(package)
    assert after["manifest.json"] == before["manifest.json"], "the file itself never changes"
    supplement = json.loads(after["supplements/0001.json"])
    assert supplement["reason"] == "送达地点笔误" and supplement["created_by"]["name"] == "法制股 陈静"
    status, resp = api.call("GET", "legal1", f"/casefiles/{cf['id']}")
    assert resp.get_json()["supplements"][0]["content"] == "送达地点应为企业办公楼二层会议室"


def test_roles_and_scope(api, db, closed_case, legal, world):
    from tests import factories

    factories.user(db, "legal_shenzhou", "legal", region="131182", certificate_no="T131182LEGAL")
    db.commit()
    status, resp = api.call("POST", "supervisor_taocheng", "/casefiles",
                            json={"kind": "enforcement", "subject_id": closed_case.id})
    assert status == 403
    status, _ = api.call("GET", "inspector1", "/casefiles")
    assert status == 403
    status, resp = api.call("POST", "legal_shenzhou", "/casefiles",
                            json={"kind": "enforcement", "subject_id": closed_case.id})
    assert status == 404 and resp.get_json()["code"] == "not_found"
    status, resp = api.call("POST", "legal1", "/casefiles", json={"kind": "enforcement", "subject_id": "nope",
                                                                  "extra": 1})
    assert status == 422


def test_an_open_case_is_not_archived(api, db, world, legal):
    case = enforcement_service.open_case(db, legal_actor(world["inspector1"]), {
        "enterprise_id": world.ent1.id, "cause": "涉嫌未按规定培训"}, "131100")
    db.commit()
    status, body = _archive(api, case.id, reason="试图归档")
    assert status == 409 and body["code"] == "casefile_not_closed"
    assert db.scalar(select(CaseFile.id)) is None
