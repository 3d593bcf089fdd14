"""The criteria pages through the Flask test client: admins import (with the row report) and publish;
supervisors preview and apply a re-grading."""
from __future__ import annotations

import io

from sqlalchemy import select

from inspect_api.models import CriteriaCatalogue, Hazard

from ..browser.portal_helpers import portal_login, post_form
from ..lifecycle import helpers as lc
from .catalogue_data import TEST_META, catalogue_xlsx, clause_rows
from .helpers import clause_of, local, publish_test_catalogue


def _import_form(client, rows=None, **extra):
    data = {k: v for k, v in TEST_META.items()}
    data.update(replaces_id="crit-HC2017-v1", **extra)
    data["file"] = (io.BytesIO(catalogue_xlsx(rows)), "标准.xlsx")
    return post_form(client, "/criteria/import", data, content_type="multipart/form-data")


def test_admin_imports_sees_the_row_report_and_publishes(client, db, world, hc2017):
    portal_login(client, "admin")
    page = client.get("/criteria/").get_data(as_text=True)
    assert "安监总管三〔2017〕121号" in page and "判定标准" in page
    assert client.get("/criteria/import/template").status_code == 200
    rows = clause_rows()
    rows[1]["number"] = "5.1.1"  # a duplicate, and so 5.1.2 is missing
    bad = _import_form(client, rows)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "重复" in html and "缺少条款 5.1.2" in html and "(duplicate" not in html
    assert db.scalar(select(CriteriaCatalogue).where(CriteriaCatalogue.code == "TEST-AQ")) is None
    good = _import_form(client)
    assert good.status_code == 200 and "核对并发布" in good.get_data(as_text=True)
    cat = db.scalars(select(CriteriaCatalogue).where(CriteriaCatalogue.code == "TEST-AQ")).one()
    resp = post_form(client, f"/criteria/{cat.id}/publish", page_url=f"/criteria/{cat.id}")
    assert resp.status_code == 302
    db.refresh(cat)
    assert cat.status == "published"
    detail = client.get(f"/criteria/{cat.id}").get_data(as_text=True)
    assert "由本标准生成检查表" in detail and "5.2.2" in detail


def test_supervisor_previews_then_applies_a_regrading(client, auth, db, world, hc2017):
    h = lc.hazard(db, world, grade="major", status="ordered", found_at=local(2026, 9, 10),
                  criterion_clause_id="crit-HC2017-05", major_criterion_code="HC2017-05", description="罐区无紧急切断")
    db.commit()
    cat = publish_test_catalogue(client, auth)
    portal_login(client, "supervisor")
    page = client.get("/criteria/regrade").get_data(as_text=True)
    assert "罐区无紧急切断" in page and "HC2017" not in page.split("罐区无紧急切断")[0][-10:]
    new = clause_of(cat, "5.2.1")
    form = {"catalogue_id": cat["id"], "hazard_id": h.id, f"clause_{h.id}": new, "action": "preview"}
    preview = post_form(client, "/criteria/regrade", form, page_url="/criteria/regrade")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "变化预览" in html and "第5.2.1条" in html
    db.expire_all()
    assert db.get(Hazard, h.id).criterion_clause_id == "crit-HC2017-05"
    refused = post_form(client, "/criteria/regrade", {**form, "action": "apply"}, page_url="/criteria/regrade")
    assert refused.status_code == 422 and "理由" in refused.get_data(as_text=True)
    done = post_form(client, "/criteria/regrade", {**form, "action": "apply", "reason": "新标准施行"},
                     page_url="/criteria/regrade")
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Hazard, h.id).criterion_clause_id == new


def test_inspectors_read_but_cannot_import_or_regrade(client, world, hc2017):
    portal_login(client, "inspector1")
    assert client.get("/criteria/").status_code == 200
    assert client.get("/criteria/import").status_code == 403
    assert client.get("/criteria/regrade").status_code == 403
