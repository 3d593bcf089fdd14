"""The legal officer's portal pages through the test client; the real-browser test is test_browser.py."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.browser.portal_helpers import portal_login, post_form

from .conftest import KEY_LINE, VKEY
from .helpers import verify_bytes


@pytest.fixture()
def signed(app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)


def test_legal_officer_reviews_archives_and_downloads(client, db, closed_case, legal, signed, tmp_path):
    db.commit()
    resp = portal_login(client, "legal1")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/casefiles")
    page = client.get("/casefiles").get_data(as_text=True)
    assert closed_case.number in page and "评查" in page
    review_url = f"/casefiles/review/enforcement/{closed_case.id}"
    page = client.get(review_url).get_data(as_text=True)
    assert "卷内目录" in page and "行政处罚决定书" in page and 'id="no-findings"' in page
    resp = post_form(client, review_url + "/archive", page_url=review_url)
    assert resp.status_code == 302
    file_page = client.get(resp.headers["Location"])
    html = file_page.get_data(as_text=True)
    assert "已归档" in html and "应急档〔" in html and VKEY in html
    package_url = resp.headers["Location"] + "/package.zip"
    package = client.get(package_url)
    assert package.status_code == 200 and verify_bytes(package.data, VKEY, tmp_path) == 0
    pdf = client.get(resp.headers["Location"] + "/casefile.pdf")
    assert pdf.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(pdf.data)).outline) > 5
    # archived: the case left the to-do list, and the review page now leads to the file
    assert closed_case.number not in client.get("/casefiles").get_data(as_text=True).split("已归档卷宗")[0]
    assert client.get(review_url).status_code == 302


def test_findings_are_shown_and_a_reason_is_required(client, db, closed_case, legal, signed):
    from sqlalchemy import select

    from inspect_api.models import ServiceRecord

    for rec in db.scalars(select(ServiceRecord)):
        db.delete(rec)
    db.commit()
    portal_login(client, "legal1")
    review_url = f"/casefiles/review/enforcement/{closed_case.id}"
    page = client.get(review_url).get_data(as_text=True)
    assert 'data-code="missing_document"' in page and "没有送达回执" in page and 'name="override_reason"' in page
    resp = post_form(client, review_url + "/archive", page_url=review_url, follow_redirects=True)
    assert "须说明理由" in resp.get_data(as_text=True)
    resp = post_form(client, review_url + "/archive", {"override_reason": "留置送达，回执补充"}, page_url=review_url)
    assert resp.status_code == 302 and "/casefiles/" in resp.headers["Location"]


def test_other_roles(app, client, db, closed_case, legal, world):
    db.commit()
    portal_login(client, "inspector1")
    assert client.get("/casefiles").status_code == 403
    client = app.test_client()
    portal_login(client, "supervisor_taocheng")
    page = client.get(f"/casefiles/review/enforcement/{closed_case.id}").get_data(as_text=True)
    assert "评查意见" in page and "确认归档" not in page


def test_supervisors_see_the_log_alarms(app, client, db, world):
    from inspect_api.models import LogAlarm

    db.add(LogAlarm(kind="audit_changed", log_index=7, audit_event_id=42, detail={"action": "case.close"}))
    db.commit()
    portal_login(client, "supervisor")
    page = client.get("/casefiles").get_data(as_text=True)
    assert "审计日志告警（1）" in page and "#42" in page
    assert "audit_changed" in client.get("/casefiles/log").get_data(as_text=True)
