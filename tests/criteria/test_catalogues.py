"""Catalogues: the built-in 2017 one, imports with a row-by-row report, publishing, immutability."""
from __future__ import annotations

import io
import json
import os

from sqlalchemy import func, select

from inspect_api.models import AuditEvent, CriteriaCatalogue, CriteriaClause

from .catalogue_data import MADE_UP, catalogue_json, catalogue_xlsx, clause_rows
from .helpers import publish_test_catalogue

REFERENCE = "/work/shared/domain/reference.json"


def _import(client, auth, data: bytes, filename: str, **query):
    return client.post("/api/v1/criteria/import", headers=auth.headers("admin"), query_string=query,
                       content_type="multipart/form-data", data={"file": (io.BytesIO(data), filename)})


def _count(db):
    return db.scalar(select(func.count()).select_from(CriteriaCatalogue)), \
        db.scalar(select(func.count()).select_from(CriteriaClause))


def test_the_2017_catalogue_carries_the_20_verified_texts_verbatim(client, auth, hc2017):
    resp = client.get(f"/api/v1/criteria/catalogues/{hc2017}", headers=auth.headers("inspector1"))
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "published" and body["doc_no"] == "安监总管三〔2017〕121号"
    assert body["effective_from"] is None and body["effective_to"] is None and body["industries"] == []
    got = [(c["number"], c["code"], c["text"]) for c in body["clauses"]]
    assert len(got) == 20 and got[4][:2] == ("5", "HC2017-05")
    assert got[1] == ("2", "HC2017-02", "特种作业人员未持证上岗。")
    assert got[16] == ("17", "HC2017-17", "未制定操作规程和工艺控制指标。")
    if os.path.exists(REFERENCE):  # the development machine: every text against the verified reference
        with open(REFERENCE, encoding="utf-8") as fh:
            reference = json.load(fh)["major_hazard_criteria_2017"]["items"]
        assert got == [(str(i["no"]), i["code"], i["text_zh"]) for i in reference]


def test_an_xlsx_import_reports_each_row_and_makes_a_draft_admins_publish(client, auth, db, hc2017):
    query = {"code": "TEST-AQ", "title": "测试用虚构判定标准", "doc_no": "TEST 0000—2026（虚构）",
             "kind": "industry_standard", "industries": "C25,C26", "effective_from": "2026-09-30",
             "replaces_id": hc2017}
    dry = _import(client, auth, catalogue_xlsx(), "t.xlsx", dry_run="true", **query)
    assert dry.status_code == 200 and dry.get_json()["clauses"] == 5 and dry.get_json()["catalogue_id"] is None
    assert _count(db) == (1, 20)
    resp = _import(client, auth, catalogue_xlsx(), "t.xlsx", **query)
    report = resp.get_json()
    assert resp.status_code == 200 and report["format"] == "xlsx" and report["total_rows"] == 5
    assert report["errors"] == [] and report["failed"] == 0
    draft = client.get(f"/api/v1/criteria/catalogues/{report['catalogue_id']}", headers=auth.headers("admin")).get_json()
    assert draft["status"] == "draft" and [c["number"] for c in draft["clauses"]] == ["5.1.1", "5.1.2", "5.1.3",
                                                                                     "5.2.1", "5.2.2"]
    assert draft["clauses"][3]["group_title"] == "测试分组二" and draft["clauses"][0]["text"].startswith(MADE_UP)
    # drafts are the admins' only: inspectors neither list nor read them
    assert client.get(f"/api/v1/criteria/catalogues/{draft['id']}", headers=auth.headers("inspector1")).status_code == 404
    published = client.post(f"/api/v1/criteria/catalogues/{draft['id']}/publish", headers=auth.headers("admin"))
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    old = client.get(f"/api/v1/criteria/catalogues/{hc2017}", headers=auth.headers("admin")).get_json()
    assert old["effective_to"] == "2026-09-29"  # ended the day before its successor took effect
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_table == "criteria_catalogues")))
    assert {"criteria.catalogue_create", "criteria.catalogue_publish", "criteria.catalogue_end"} <= actions


def test_the_template_is_an_xlsx_with_the_clause_columns(client, auth, world):
    from openpyxl import load_workbook

    resp = client.get("/api/v1/criteria/import/template", headers=auth.headers("admin"))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert [c.value for c in wb.worksheets[0][1]] == ["条款号", "分组", "条款内容", "释义"]
    assert wb.sheetnames == ["判定条款", "填写说明"]
    assert client.get("/api/v1/criteria/import/template", headers=auth.headers("inspector1")).status_code == 403


def test_duplicate_or_missing_clause_numbers_refuse_the_whole_import(client, auth, db, hc2017):
    rows = clause_rows()
    rows[1]["number"] = "5.1.1"  # duplicate of row 2 (the first data row) → and 5.1.2 is then missing
    rows[3]["number"] = None  # row 5: no number
    before = _count(db)
    resp = _import(client, auth, catalogue_xlsx(rows), "bad.xlsx", code="TEST-AQ", title="t", doc_no="TEST",
                   kind="industry_standard", effective_from="2026-09-30")
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "criteria_import_invalid"
    errors = body["details"]["report"]["errors"]
    assert {(e["row"], e["number"]) for e in errors} == {(3, "5.1.1"), (5, None), (None, "5.1.2"), (None, "5.2.1")}
    assert any("重复" in e["reason"] for e in errors) and any("缺少条款号" in e["reason"] for e in errors)
    assert _count(db) == before


def test_a_json_import_without_required_metadata_is_refused(client, auth, db, hc2017):
    data = json.loads(catalogue_json())
    del data["catalogue"]["effective_from"]
    resp = _import(client, auth, json.dumps(data).encode(), "c.json")
    assert resp.status_code == 422
    assert "effective_from" in json.dumps(resp.get_json()["details"]["report"]["errors"][0]["fields"])
    assert _count(db) == (1, 20)


def test_a_published_catalogue_cannot_be_edited(client, auth, db, hc2017):
    cat = publish_test_catalogue(client, auth)
    admin = auth.headers("admin")
    etag = client.get(f"/api/v1/criteria/catalogues/{cat['id']}", headers=admin).headers["ETag"]
    resp = client.patch(f"/api/v1/criteria/catalogues/{cat['id']}", json={"title": "改名"},
                        headers={**admin, "If-Match": etag})
    assert resp.status_code == 409 and resp.get_json()["code"] == "catalogue_immutable"
    assert client.post(f"/api/v1/criteria/catalogues/{cat['id']}/publish", headers=admin).status_code == 409
    assert client.delete(f"/api/v1/criteria/catalogues/{cat['id']}", headers=admin).status_code == 409
    assert db.get(CriteriaCatalogue, cat["id"]).title == cat["title"]


def test_only_admins_manage_catalogues(client, auth, hc2017):
    resp = _import(client, auth, catalogue_json(), "c.json")
    assert resp.status_code == 200
    for user in ("supervisor", "inspector1"):
        h = auth.headers(user)
        assert client.post(f"/api/v1/criteria/catalogues/{resp.get_json()['catalogue_id']}/publish",
                           headers=h).status_code == 403
    assert client.get("/api/v1/criteria/catalogues", headers=auth.headers("enterprise1")).status_code == 403


def test_a_checklist_is_generated_from_a_catalogue_in_one_step(client, auth, db, hc2017):
    resp = client.post(f"/api/v1/criteria/catalogues/{hc2017}/checklist", json={"publish": True},
                       headers=auth.headers("admin"))
    tpl = resp.get_json()
    assert resp.status_code == 201 and tpl["status"] == "published" and tpl["code"] == "HC2017-V1"
    assert len(tpl["items"]) == 20
    first = tpl["items"][0]
    assert first["criterion_clause_id"] == "crit-HC2017-01" and first["major_criterion_code"] == "HC2017-01"
    assert first["basis"] == "安监总管三〔2017〕121号 第1项" and first["content"].startswith("危险化学品生产、经营单位")


def test_a_checklist_item_links_to_a_clause_and_takes_its_code(client, auth, hc2017):
    admin = auth.headers("admin")
    tpl = client.post("/api/v1/checklists", headers=admin, json={"code": "LINKED", "title": "关联条款", "items": [
        {"code": "1", "category": "储存", "content": "是否分区分类储存", "criterion_clause_id": "crit-HC2017-20"}]})
    assert tpl.status_code == 201, tpl.get_json()
    assert tpl.get_json()["items"][0]["major_criterion_code"] == "HC2017-20"
    bad = client.post("/api/v1/checklists", headers=admin, json={"code": "LINKED2", "title": "x", "items": [
        {"code": "1", "category": "储存", "content": "x", "criterion_clause_id": "nope"}]})
    assert bad.status_code == 422


def test_clauses_in_force_follow_the_day_and_the_industry(client, auth, world, hc2017):
    publish_test_catalogue(client, auth)
    h = auth.headers("inspector1")

    def numbers(ent, day):
        resp = client.get("/api/v1/criteria/in-force", headers=h, query_string={"enterprise_id": ent, "day": day})
        assert resp.status_code == 200
        return [c["code"] for c in resp.get_json()]

    assert numbers(world.ent1.id, "2026-09-29")[:2] == ["HC2017-01", "HC2017-02"]
    assert numbers(world.ent1.id, "2026-09-30") == [f"TEST-AQ-{n}" for n in ("5.1.1", "5.1.2", "5.1.3", "5.2.1",
                                                                            "5.2.2")]
    h3 = auth.headers("inspector3")
    resp = client.get("/api/v1/criteria/in-force", headers=h3,
                      query_string={"enterprise_id": world.ent_shenzhou.id, "day": "2026-10-01"})
    assert resp.get_json() == []  # F51: outside the test catalogue's scope, and 2017 has ended


def test_the_cli_imports_and_publishes_and_refuses_a_bad_file(app, db, world, hc2017, tmp_path):
    good = tmp_path / "test.json"
    good.write_bytes(catalogue_json("crit-HC2017-v1"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["criteria", "import", str(good), "--publish"])
    assert result.exit_code == 0, result.output
    assert "5 clauses" in result.output and "published" in result.output
    listed = runner.invoke(args=["criteria", "list"]).output
    assert "TEST-AQ v1  published  2026-09-30" in listed and "HC2017 v1  published  - → 2026-09-29" in listed
    bad = tmp_path / "bad.xlsx"
    rows = clause_rows()
    rows[0]["text"] = ""
    bad.write_bytes(catalogue_xlsx(rows))
    result = runner.invoke(args=["criteria", "import", str(bad), "--code", "X", "--title", "x", "--doc-no", "x",
                                 "--kind", "national_rule", "--effective-from", "2027-01-01"])
    assert result.exit_code == 1 and "第 2 行" in result.output and "条款内容不能为空" in result.output
