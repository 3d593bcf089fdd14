"""Admin pages through the Flask test client: users, devices, enterprise import, checklists."""
from __future__ import annotations

import io
import json
import re

import pytest

from inspect_api.models import ChecklistTemplate, Enterprise, User

from tests import factories

from .portal_helpers import csrf_from, portal_login, post_form


@pytest.fixture()
def security_admin(db, world):
    user = factories.user(db, "sec_admin", "security_admin", display_name="安全管理员")
    db.commit()
    return user


def test_the_security_admin_creates_an_inspector_who_must_change_password(client, world, db, security_admin):
    portal_login(client, "sec_admin")
    resp = post_form(client, "/admin/users/new", {
        "username": "inspector9", "password": "Start-pass-1", "display_name": "王五", "role": "inspector",
        "region_code": "131102", "certificate_no": "T131109999"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    user = db.query(User).filter_by(username="inspector9").one()
    assert user.region_id == "131102" and user.must_change_password
    html = client.get("/admin/users?q=inspector9").get_data(as_text=True)
    assert "王五" in html and "待改密" in html


def test_admin_user_form_shows_service_errors_in_chinese(client, world, db, security_admin):
    portal_login(client, "sec_admin")
    resp = post_form(client, "/admin/users/new", {
        "username": "inspector10", "password": "Start-pass-1", "role": "inspector", "region_code": "131102"})
    assert resp.status_code == 422
    assert "执法人员必须有执法证号" in resp.get_data(as_text=True)
    assert db.query(User).filter_by(username="inspector10").count() == 0


def test_the_security_admin_changes_role_and_jurisdiction(client, world, db, security_admin):
    portal_login(client, "sec_admin")
    target = world["inspector2"]
    resp = post_form(client, f"/admin/users/{target.id}", {
        "display_name": "李四", "role": "supervisor", "region_code": "131182",
        "certificate_no": target.certificate_no})
    assert resp.status_code == 302
    db.refresh(target)
    assert target.role == "supervisor" and target.region_id == "131182"


def test_admin_disables_a_user_and_their_api_token_stops(client, world, db, auth):
    headers = auth.headers("enterprise2")
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    portal_login(client, "admin")
    target = world["enterprise2"]
    resp = post_form(client, f"/admin/users/{target.id}/active", {"active": "0"},
                     page_url=f"/admin/users/{target.id}")
    assert resp.status_code == 302
    db.refresh(target)
    assert target.is_active is False
    assert client.get("/api/v1/devices", headers=headers).status_code == 401


def test_admin_resets_a_password_and_the_user_must_change_it(client, world, db):
    portal_login(client, "admin")
    target = world["enterprise1"]
    resp = post_form(client, f"/admin/users/{target.id}/reset-password", page_url=f"/admin/users/{target.id}")
    assert resp.status_code == 200
    temporary = re.search(r'id="temporary-password">([^<]+)<', resp.get_data(as_text=True)).group(1)
    page = client.get("/account")
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert portal_login(client, "enterprise1", factories.PASSWORD).status_code == 401
    resp = portal_login(client, "enterprise1", temporary)
    assert resp.headers["Location"].endswith("/password")


def test_admin_revokes_a_device_and_its_token_stops_working(client, world, db, auth):
    headers = auth.headers("inspector1", device_id="tablet-0001")
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    portal_login(client, "admin")
    html = client.get("/admin/devices").get_data(as_text=True)
    assert "tablet-0001" in html
    device_id = world["inspector1"].devices[0].id
    resp = post_form(client, f"/admin/devices/{device_id}/revoke", page_url="/admin/devices")
    assert resp.status_code == 302
    assert "已停用" in client.get("/admin/devices").get_data(as_text=True)
    assert client.get("/api/v1/devices", headers=headers).status_code == 401
    # restored: the tablet may sign in again, the old token stays dead
    resp = post_form(client, f"/admin/devices/{device_id}/restore", page_url="/admin/devices")
    assert resp.status_code == 302
    assert client.get("/api/v1/devices", headers=headers).status_code == 401
    fresh = auth.headers("inspector1", device_id="tablet-0001")
    assert client.get("/api/v1/devices", headers=fresh).status_code == 200


def test_enterprise_import_reports_each_bad_row(client, world, db):
    good = factories.uscc(9001, "131103")
    csv = ("统一社会信用代码,企业名称,所属区县,风险等级\n"
           f"{good},冀州新材料有限公司,冀州区,黄\n"
           "123,坏代码企业,冀州区,黄\n").encode("utf-8")
    portal_login(client, "admin")
    page = client.get("/admin/enterprises/import")
    resp = client.post("/admin/enterprises/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "file": (io.BytesIO(csv), "ents.csv")})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "导入结果" in html and "坏代码企业" in html
    assert re.search(r"<td>3</td><td>123</td>", html)
    assert db.query(Enterprise).filter_by(uscc=good).one().name == "冀州新材料有限公司"


def test_checklist_import_and_publish(client, world, db):
    doc = {"code": "HC-PORTAL", "title": "门户测试检查表", "items": [
        {"code": "1.1", "category": "储存", "content": "储罐区防火堤完好", "basis": "GB 50351"},
        {"code": "1.2", "category": "消防", "content": "消防通道畅通", "basis": "GB 50016"}]}
    portal_login(client, "admin")
    page = client.get("/admin/checklists")
    resp = client.post("/admin/checklists", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "file": (io.BytesIO(json.dumps(doc, ensure_ascii=False).encode()), "c.json")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "已新建" in resp.get_data(as_text=True)
    tpl = db.query(ChecklistTemplate).filter_by(code="HC-PORTAL").one()
    assert tpl.status == "draft"
    html = client.get(f"/admin/checklists/{tpl.id}").get_data(as_text=True)
    assert "储罐区防火堤完好" in html and "发布此版本" in html
    resp = post_form(client, f"/admin/checklists/{tpl.id}/publish", page_url=f"/admin/checklists/{tpl.id}")
    assert resp.status_code == 302
    db.refresh(tpl)
    assert tpl.status == "published"
    resp = post_form(client, f"/admin/checklists/{tpl.id}/new-version",
                     page_url=f"/admin/checklists/{tpl.id}")
    assert resp.status_code == 302
    assert db.query(ChecklistTemplate).filter_by(code="HC-PORTAL", version=2).one().status == "draft"


def test_non_admin_gets_403_on_admin_pages(client, world):
    portal_login(client, "supervisor")
    assert client.get("/admin/users").status_code == 403


def test_the_system_admin_can_no_longer_grant_a_role(client, world, db):
    portal_login(client, "admin")
    resp = post_form(client, "/admin/users/new", {
        "username": "inspector11", "password": "Start-pass-1", "role": "inspector", "region_code": "131102",
        "certificate_no": "T131109998"})
    assert resp.status_code == 422 and "授予角色须由安全管理员操作" in resp.get_data(as_text=True)
    assert db.query(User).filter_by(username="inspector11").count() == 0
