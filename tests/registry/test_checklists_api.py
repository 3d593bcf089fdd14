"""Versioned checklist templates: drafts, immutable published versions, new versions, retirement, import."""
import io
import json

from openpyxl import Workbook
from sqlalchemy import func, select

from inspect_api.models import AuditEvent, ChecklistTemplate, current_seq

ITEMS = [
    {"code": "A1", "category": "特殊作业", "content": "动火作业是否办理作业许可证", "basis": "GB 30871-2022 第5.2条"},
    {"code": "A2", "category": "特殊作业", "content": "受限空间作业前是否进行气体检测", "basis": "GB 30871-2022 第6.2条",
     "major_criterion_code": "HC2017-18"},
]


def _create(client, h, code="TST", items=ITEMS):
    resp = client.post("/api/v1/checklists", json={"code": code, "title": "测试检查表", "items": items}, headers=h)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _publish(client, h, tpl_id):
    resp = client.post(f"/api/v1/checklists/{tpl_id}/publish", headers=h)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_admin_creates_a_draft_version_1_with_ordered_items(client, world, auth):
    h = auth.headers("admin")
    tpl = _create(client, h)
    assert (tpl["version"], tpl["status"], tpl["item_count"]) == (1, "draft", 2)
    assert [(i["code"], i["position"]) for i in tpl["items"]] == [("A1", 1), ("A2", 2)]
    assert tpl["items"][1]["major_criterion_code"] == "HC2017-18"


def test_only_admins_manage_templates(client, world, auth):
    for who in ("supervisor", "inspector1", "enterprise1"):
        resp = client.post("/api/v1/checklists", json={"code": "X", "title": "x"}, headers=auth.headers(who))
        assert resp.status_code == 403


def test_published_version_is_immutable(client, world, auth):
    h = auth.headers("admin")
    tpl = _create(client, h)
    _publish(client, h, tpl["id"])
    url = f"/api/v1/checklists/{tpl['id']}"
    etag = client.get(url, headers=h).headers["ETag"]
    resp = client.patch(url, json={"title": "改名"}, headers={**h, "If-Match": etag})
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "template_immutable"
    item_id = tpl["items"][0]["id"]
    assert client.patch(f"{url}/items/{item_id}", json={"content": "x"}, headers=h).status_code == 409
    assert client.delete(f"{url}/items/{item_id}", headers=h).status_code == 409
    assert client.post(f"{url}/items", json={"category": "c", "content": "x"}, headers=h).status_code == 409
    assert client.post(f"{url}/publish", headers=h).status_code == 409
    assert client.get(url, headers=h).get_json()["title"] == "测试检查表"


def test_new_version_copies_the_latest_and_publishing_retires_the_previous(client, world, auth, db):
    h = auth.headers("admin")
    v1 = _create(client, h)
    _publish(client, h, v1["id"])
    resp = client.post(f"/api/v1/checklists/{v1['id']}/versions", headers=h)
    assert resp.status_code == 201, resp.get_json()
    v2 = resp.get_json()
    assert (v2["version"], v2["status"], v2["code"]) == (2, "draft", "TST")
    assert [i["content"] for i in v2["items"]] == [i["content"] for i in v1["items"]]
    assert {i["id"] for i in v2["items"]}.isdisjoint({i["id"] for i in v1["items"]})
    # a second draft of the same code is refused
    again = client.post(f"/api/v1/checklists/{v1['id']}/versions", headers=h)
    assert again.status_code == 409 and again.get_json()["code"] == "draft_exists"
    # edit the draft, then publish it
    url = f"/api/v1/checklists/{v2['id']}"
    etag = client.get(url, headers=h).headers["ETag"]
    resp = client.patch(url, json={"items": ITEMS[:1] + [{"code": "A3", "category": "设备",
                                                         "content": "安全阀是否在校验有效期内"}]},
                        headers={**h, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()
    assert [i["code"] for i in resp.get_json()["items"]] == ["A1", "A3"]
    _publish(client, h, v2["id"])
    statuses = dict(db.execute(select(ChecklistTemplate.version, ChecklistTemplate.status)
                               .where(ChecklistTemplate.code == "TST")).all())
    assert statuses == {1: "retired", 2: "published"}
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_table == "checklist_templates")
                         .order_by(AuditEvent.id)).all()
    assert actions == ["checklist.created", "checklist.published", "checklist.version_created",
                       "checklist.updated", "checklist.retired", "checklist.published"]


def test_stale_if_match_on_a_draft_is_412(client, world, auth):
    h = auth.headers("admin")
    tpl = _create(client, h)
    url = f"/api/v1/checklists/{tpl['id']}"
    etag = client.get(url, headers=h).headers["ETag"]
    assert client.patch(url, json={"title": "一"}, headers={**h, "If-Match": etag}).status_code == 200
    resp = client.patch(url, json={"title": "二"}, headers={**h, "If-Match": etag})
    assert resp.status_code == 412 and resp.get_json()["code"] == "precondition_failed"


def test_draft_items_can_be_added_changed_and_removed(client, world, auth):
    h = auth.headers("admin")
    tpl = _create(client, h)
    base = f"/api/v1/checklists/{tpl['id']}/items"
    resp = client.post(base, json={"category": "电气", "content": "爆炸危险区域电气设备是否防爆"}, headers=h)
    assert resp.status_code == 201, resp.get_json()
    new = resp.get_json()
    assert new["position"] == 3
    dup = client.post(base, json={"code": "A1", "category": "c", "content": "x"}, headers=h)
    assert dup.status_code == 409
    resp = client.patch(f"{base}/{new['id']}", json={"basis": "GB 50058-2014"}, headers=h)
    assert resp.status_code == 200 and resp.get_json()["basis"] == "GB 50058-2014"
    assert client.delete(f"{base}/{tpl['items'][0]['id']}", headers=h).status_code == 204
    listed = client.get(base, headers=h).get_json()
    assert [i["content"] for i in listed] == ["受限空间作业前是否进行气体检测", "爆炸危险区域电气设备是否防爆"]


def test_enterprise_users_see_only_published_versions_and_staff_see_drafts(client, world, auth):
    h = auth.headers("admin")
    published = _create(client, h, code="PUB")
    _publish(client, h, published["id"])
    draft = _create(client, h, code="DRF")
    ent = auth.headers("enterprise1")
    codes = [t["code"] for t in client.get("/api/v1/checklists", headers=ent).get_json()]
    assert codes == ["PUB"]
    assert client.get(f"/api/v1/checklists/{draft['id']}", headers=ent).status_code == 404
    assert client.get(f"/api/v1/checklists/{draft['id']}/items", headers=ent).status_code == 404
    assert len(client.get(f"/api/v1/checklists/{published['id']}/items", headers=ent).get_json()) == 2
    staff = auth.headers("inspector1")
    listed = client.get("/api/v1/checklists", headers=staff).get_json()
    assert sorted(t["code"] for t in listed) == ["DRF", "PUB"]
    only_published = client.get("/api/v1/checklists?status=published", headers=staff).get_json()
    assert [t["code"] for t in only_published] == ["PUB"]


def test_publishing_an_empty_draft_is_refused(client, world, auth):
    h = auth.headers("admin")
    tpl = _create(client, h, items=[])
    resp = client.post(f"/api/v1/checklists/{tpl['id']}/publish", headers=h)
    assert resp.status_code == 422


def _json_file(doc):
    return (io.BytesIO(json.dumps(doc, ensure_ascii=False).encode()), "c.json")


def _import(client, h, file, query=""):
    return client.post(f"/api/v1/checklists/import{query}", data={"file": file}, headers=h,
                       content_type="multipart/form-data")


def test_json_import_is_idempotent_and_a_changed_file_makes_a_new_version(client, world, auth, db):
    h = auth.headers("admin")
    doc = {"code": "IMP", "title": "导入检查表", "items": ITEMS}
    first = _import(client, h, _json_file(doc), "?publish=true")
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["action"], first.get_json()["version"], first.get_json()["status"]) == (
        "created", 1, "published")
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    seq = current_seq(db)
    second = _import(client, h, _json_file(doc), "?publish=true")
    assert second.get_json()["action"] == "unchanged" and second.get_json()["version"] == 1
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert current_seq(db) == seq
    doc["items"] = ITEMS + [{"category": "储存", "content": "禁配物质是否混存"}]
    third = _import(client, h, _json_file(doc), "?publish=true")
    body = third.get_json()
    assert (body["action"], body["version"], body["status"], body["items"]) == (
        "new_version", 2, "published", 3)
    statuses = dict(db.execute(select(ChecklistTemplate.version, ChecklistTemplate.status)
                               .where(ChecklistTemplate.code == "IMP")).all())
    assert statuses == {1: "retired", 2: "published"}


def test_xlsx_import_with_a_bad_row_imports_nothing_and_names_the_row(client, world, auth, db):
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "类别", "检查内容", "检查依据", "重大隐患判定标准"])
    ws.append(["1", "装置运行", "操作规程是否齐全并定期修订", "《危险化学品安全管理条例》", None])
    ws.append(["2", "装置运行", None, "AQ 3035", None])
    ws.append(["3", "储存", "是否分区分类储存", "GB 15603", "HC2017-20"])
    buf = io.BytesIO()
    wb.save(buf)
    h = auth.headers("admin")
    resp = _import(client, h, (io.BytesIO(buf.getvalue()), "c.xlsx"), "?code=XL&title=表格导入")
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["code"] == "checklist_import_failed"
    assert [(e["row"], e["reason"]) for e in body["details"]["errors"]] == [(3, "检查内容不能为空")]
    assert db.scalar(select(func.count()).select_from(ChecklistTemplate)
                     .where(ChecklistTemplate.code == "XL")) == 0
    ws.cell(row=3, column=3, value="工艺控制指标是否明确")
    buf = io.BytesIO()
    wb.save(buf)
    resp = _import(client, h, (io.BytesIO(buf.getvalue()), "c.xlsx"), "?code=XL&title=表格导入")
    assert resp.status_code == 200, resp.get_json()
    tpl = client.get(f"/api/v1/checklists/{resp.get_json()['template_id']}", headers=h).get_json()
    assert tpl["status"] == "draft"
    assert [(i["code"], i["major_criterion_code"]) for i in tpl["items"]] == [
        ("1", None), ("2", None), ("3", "HC2017-20")]


def test_xlsx_import_without_a_code_is_refused(client, world, auth):
    wb = Workbook()
    wb.active.append(["类别", "检查内容"])
    wb.active.append(["设备", "设备是否完好"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = _import(client, auth.headers("admin"), (io.BytesIO(buf.getvalue()), "c.xlsx"))
    assert resp.status_code == 422
    assert "编码" in resp.get_json()["details"]["errors"][0]["reason"]


def test_importing_into_a_draft_replaces_it_in_place_and_identical_is_unchanged(client, world, auth, db):
    h = auth.headers("admin")
    doc = {"code": "DRAFTIMP", "title": "草稿导入", "items": ITEMS}
    first = _import(client, h, _json_file(doc)).get_json()
    assert (first["action"], first["status"]) == ("created", "draft")
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    same = _import(client, h, _json_file(doc)).get_json()
    assert (same["action"], same["template_id"]) == ("unchanged", first["template_id"])
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events
    doc["items"] = [dict(ITEMS[0], content="动火作业是否按级别办理作业票"), ITEMS[1]]
    changed = _import(client, h, _json_file(doc)).get_json()
    assert (changed["action"], changed["template_id"], changed["version"]) == (
        "updated", first["template_id"], 1)
    items = client.get(f"/api/v1/checklists/{first['template_id']}/items", headers=h).get_json()
    assert items[0]["content"] == "动火作业是否按级别办理作业票"
