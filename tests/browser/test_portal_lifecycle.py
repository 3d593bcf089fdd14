"""Enterprise and desk pages through the Flask test client: the whole loop, scope, photos, PDFs."""
from __future__ import annotations

import io
from datetime import timedelta

from inspect_api.models import Hazard, Notice, Photo, Rectification, utcnow

from .portal_helpers import csrf_from, portal_login, post_form
from .seed import jpeg_bytes, seed_notice


def _report(client, hazard_id, description="已修复防火堤并做防渗处理", photo=True):
    page = client.get(f"/enterprise/hazards/{hazard_id}/report")
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "description": description,
            "measures": "更换破损砌块", "funds": "12,500.50", "responsible_person": "张三",
            "completed_on": utcnow().date().isoformat()}
    if photo:
        data["photos"] = [(io.BytesIO(jpeg_bytes((40, 160, 40))), "after.jpg")]
    return client.post(f"/enterprise/hazards/{hazard_id}/report", data=data,
                       content_type="multipart/form-data")


def _acknowledge(client, notice):
    return post_form(client, f"/enterprise/notices/{notice.id}/acknowledge",
                     page_url=f"/enterprise/notices/{notice.id}")


def _logout(client):
    page = client.get("/account")
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_enterprise_home_lists_open_notices_with_deadlines_and_overdue(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage)
    late, _ = seed_notice(db, world, storage, descriptions=["泄漏报警仪失效"], deadline_days=1)
    h = late.hazards[0]
    h.deadline_at = utcnow() - timedelta(days=2)
    db.commit()
    portal_login(client, "enterprise1")
    html = client.get("/enterprise/").get_data(as_text=True)
    assert notice.number in html and late.number in html
    assert "储罐区防火堤破损" in html
    assert "已逾期" in html and "1 项逾期" in html
    assert "待签收" in html
    assert "还剩 10 天" in html  # deadline 10 x 24 h from now: 10 Beijing calendar days


def test_enterprise_walks_a_notice_to_closure_through_the_pages(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["储罐区防火堤破损"])
    db.commit()
    portal_login(client, "enterprise1")
    page = client.get(f"/enterprise/notices/{notice.id}")
    html = page.get_data(as_text=True)
    assert "签收" in html and "《危险化学品安全管理条例》第二十条" in html
    assert "/files/photos/" in html  # hazard thumbnails
    # a fix cannot be reported before 签收
    assert client.get(f"/enterprise/hazards/{hazards[0].id}/report").status_code == 302
    resp = client.post(f"/enterprise/notices/{notice.id}/acknowledge",
                       data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    db.refresh(notice)
    assert notice.status == "acknowledged"
    # a report without a photo is refused with a message, nothing stored
    resp = _report(client, hazards[0].id, photo=False)
    assert resp.status_code == 422 and "请至少上传一张整改后的照片" in resp.get_data(as_text=True)
    resp = _report(client, hazards[0].id)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    rect = db.query(Rectification).filter_by(hazard_id=hazards[0].id).one()
    assert str(rect.funds) == "12500.50" and rect.responsible_person == "张三"
    ready = db.query(Photo).filter_by(owner_table="rectifications", owner_id=rect.id, status="ready")
    assert ready.count() == 1
    _logout(client)

    # the inspector rejects it, with an opinion and a new deadline
    portal_login(client, "inspector1")
    home = client.get("/desk/").get_data(as_text=True)
    assert "储罐区防火堤破损" in home
    page = client.get(f"/desk/rectifications/{rect.id}")
    html = page.get_data(as_text=True)
    before = db.query(Photo).filter_by(owner_table="hazards", owner_id=hazards[0].id).one()
    after = db.query(Photo).filter_by(owner_table="rectifications", owner_id=rect.id).one()
    assert "整改前" in html and "整改后" in html
    assert f"/files/photos/{before.id}/preview" in html and f"/files/photos/{after.id}/preview" in html
    new_day = (utcnow() + timedelta(days=20)).date().isoformat()
    resp = post_form(client, f"/desk/rectifications/{rect.id}", {
        "result": "rejected", "opinion": "防渗层未做完", "new_deadline": new_day,
        "co_reviewer_id": world["inspector2"].id})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    _logout(client)

    portal_login(client, "enterprise1")
    html = client.get(f"/enterprise/notices/{notice.id}").get_data(as_text=True)
    assert "复查不合格" in html and "防渗层未做完" in html and "重新上报整改" in html
    assert new_day in html
    resp = _report(client, hazards[0].id, description="防渗层已补做")
    assert resp.status_code == 302
    rect2 = db.query(Rectification).filter_by(hazard_id=hazards[0].id, status="pending").one()
    _logout(client)

    portal_login(client, "inspector1")
    resp = post_form(client, f"/desk/rectifications/{rect2.id}", {
        "result": "accepted", "opinion": "", "co_reviewer_id": world["inspector2"].id})
    assert resp.status_code == 302
    _logout(client)

    portal_login(client, "enterprise1")
    html = client.get("/enterprise/history").get_data(as_text=True)
    assert "储罐区防火堤破损" in html and "已销号" in html
    db.refresh(notice)
    assert notice.status == "closed"
    home = client.get("/enterprise/").get_data(as_text=True)
    assert notice.number not in home


def test_review_without_second_officer_is_refused_with_a_message(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["安全阀未校验"])
    db.commit()
    portal_login(client, "enterprise1")
    _acknowledge(client, notice)
    assert _report(client, hazards[0].id).status_code == 302
    rect = db.query(Rectification).filter_by(hazard_id=hazards[0].id).one()
    _logout(client)
    portal_login(client, "inspector1")
    resp = post_form(client, f"/desk/rectifications/{rect.id}", {"result": "accepted"})
    assert resp.status_code == 422 and "请选择第二名执法人员" in resp.get_data(as_text=True)
    db.refresh(rect)
    assert rect.status == "pending"


def test_enterprise_cannot_open_another_enterprises_notice_hazard_or_photo(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, enterprise=world.ent2, descriptions=["他人隐患"])
    db.commit()
    photo = db.query(Photo).filter_by(owner_id=hazards[0].id).one()
    portal_login(client, "enterprise1")
    for url in (f"/enterprise/notices/{notice.id}", f"/enterprise/hazards/{hazards[0].id}",
                f"/enterprise/hazards/{hazards[0].id}/report", f"/files/photos/{photo.id}/thumb",
                f"/files/photos/{photo.id}", f"/enterprise/notices/{notice.id}/notice.pdf"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "他人隐患" not in resp.get_data(as_text=True)
    resp = post_form(client, f"/enterprise/notices/{notice.id}/acknowledge", page_url="/account")
    assert resp.status_code == 404
    db.refresh(notice)
    assert notice.status == "issued"


def test_enterprise_user_cannot_open_desk_or_admin_pages(client, world):
    portal_login(client, "enterprise1")
    assert client.get("/desk/").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert "无权访问" in client.get("/admin/devices").get_data(as_text=True)


def test_photo_routes_stream_thumb_and_preview_for_the_owner(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["照片测试"])
    db.commit()
    photo = db.query(Photo).filter_by(owner_id=hazards[0].id).one()
    portal_login(client, "enterprise1")
    from PIL import Image

    with client.get(f"/files/photos/{photo.id}/thumb") as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
        assert thumb.data[:2] == b"\xff\xd8"
        assert max(Image.open(io.BytesIO(thumb.data)).size) <= 256
    with client.get(f"/files/photos/{photo.id}/preview") as preview:
        assert preview.status_code == 200
    with client.get(f"/files/photos/{photo.id}/original") as original:
        assert original.data == storage.read_bytes(photo.storage_key)
    assert client.get(f"/files/photos/{photo.id}/bogus").status_code == 404


def test_notice_and_review_pdfs_download(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["PDF 测试隐患"])
    db.commit()
    portal_login(client, "enterprise1")
    resp = client.get(f"/enterprise/notices/{notice.id}/notice.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    assert "attachment" in resp.headers["Content-Disposition"]


def test_inspector_reissues_a_deadline_and_supervisor_lists_a_major_hazard(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["重大隐患：储罐无液位报警"], grade="major")
    db.commit()
    portal_login(client, "inspector1")
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    resp = post_form(client, f"/desk/hazards/{hazards[0].id}/deadline", {"deadline": day, "reason": "企业申请延期"},
                     page_url=f"/desk/hazards/{hazards[0].id}")
    assert resp.status_code == 302
    html = client.get(f"/desk/hazards/{hazards[0].id}").get_data(as_text=True)
    assert day in html
    _logout(client)
    portal_login(client, "supervisor")
    page = client.get(f"/desk/hazards/{hazards[0].id}")
    assert "挂牌督办" in page.get_data(as_text=True)
    resp = post_form(client, f"/desk/hazards/{hazards[0].id}/list", {"reason": "市级督办"},
                     page_url=f"/desk/hazards/{hazards[0].id}")
    assert resp.status_code == 302
    h = db.get(Hazard, hazards[0].id)
    db.refresh(h)
    assert h.listing_level == "city"
    assert "市级挂牌督办" in client.get(f"/desk/hazards/{h.id}").get_data(as_text=True)


def test_inspector_of_another_county_gets_404_for_the_review_page(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["越权测试"])
    db.commit()
    portal_login(client, "inspector3")
    assert client.get(f"/desk/hazards/{hazards[0].id}").status_code == 404
    assert db.get(Notice, notice.id) is not None


def test_inspector_records_a_hazard_with_a_photo_and_issues_a_notice_from_the_portal(client, world, db):
    portal_login(client, "inspector1")
    page = client.get(f"/desk/enterprises/{world.ent1.id}")
    assert "登记隐患" in page.get_data(as_text=True)
    resp = client.post(f"/desk/enterprises/{world.ent1.id}", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "description": "装卸区未设静电接地报警",
        "location": "装卸站台", "grade": "general", "basis": "GB 50160",
        "photos": [(io.BytesIO(jpeg_bytes()), "before.jpg")]})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    hazard = db.query(Hazard).filter_by(description="装卸区未设静电接地报警").one()
    assert db.query(Photo).filter_by(owner_table="hazards", owner_id=hazard.id, status="ready").count() == 1
    day = (utcnow() + timedelta(days=15)).date().isoformat()
    resp = post_form(client, f"/desk/hazards/{hazard.id}/notice", {
        "hazard_ids": [hazard.id], "deadline": day, "officer2_id": world["inspector2"].id},
        page_url=f"/desk/hazards/{hazard.id}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.refresh(hazard)
    assert hazard.status == "ordered" and hazard.notice.number
    assert hazard.notice.deadline_at > utcnow() + timedelta(days=14)
    _logout(client)
    portal_login(client, "enterprise1")
    assert hazard.notice.number in client.get("/enterprise/").get_data(as_text=True)


def test_a_fix_report_with_a_broken_photo_is_refused_and_nothing_is_kept(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["坏照片测试"])
    db.commit()
    portal_login(client, "enterprise1")
    _acknowledge(client, notice)
    page = client.get(f"/enterprise/hazards/{hazards[0].id}/report")
    form = {"csrf_token": csrf_from(page.get_data(as_text=True)), "description": "已整改",
            "photos": [(io.BytesIO(jpeg_bytes()[:600]), "broken.jpg")]}
    resp = client.post(f"/enterprise/hazards/{hazards[0].id}/report", content_type="multipart/form-data",
                       data=form)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "照片无法使用" in html and "已整改" in html  # the form keeps what was typed
    assert db.query(Rectification).filter_by(hazard_id=hazards[0].id).count() == 0
    h = db.get(Hazard, hazards[0].id)
    db.refresh(h)
    assert h.status == "acknowledged"


def test_major_hazard_needs_the_five_point_plan_before_a_fix_is_reported(client, world, db, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["液化烃储罐无紧急切断"], grade="major")
    db.commit()
    portal_login(client, "enterprise1")
    _acknowledge(client, notice)
    html = client.get(f"/enterprise/notices/{notice.id}").get_data(as_text=True)
    assert "先提交治理方案（五落实）" in html
    resp = post_form(client, f"/enterprise/hazards/{hazards[0].id}/plan", {"responsibility": "设备部 李工"})
    assert resp.status_code == 422 and "此项为必填" in resp.get_data(as_text=True)
    resp = post_form(client, f"/enterprise/hazards/{hazards[0].id}/plan", {
        "responsibility": "设备部 李工", "measures": "加装紧急切断阀", "funds": "150000",
        "time_limit": (utcnow() + timedelta(days=30)).date().isoformat(), "contingency": "停用储罐，专人值守"})
    assert resp.status_code == 302
    h = db.get(Hazard, hazards[0].id)
    db.refresh(h)
    assert h.plan.is_complete and str(h.plan.funds) == "150000.00"
    assert _report(client, h.id).status_code == 302
    db.refresh(h)
    assert h.status == "reported"


def test_deadlines_show_in_beijing_time(client, world, db, storage):
    from datetime import datetime, timezone

    notice, hazards = seed_notice(db, world, storage, descriptions=["时区测试隐患"])
    notice.deadline_at = datetime(2030, 1, 1, 16, 30, tzinfo=timezone.utc)  # 2030-01-02 00:30 in Shanghai
    db.commit()
    portal_login(client, "enterprise1")
    html = client.get(f"/enterprise/notices/{notice.id}").get_data(as_text=True)
    assert "2030-01-02 00:30" in html
    assert "2030-01-01 16:30" not in html


def test_supervisor_closes_a_verified_major_hazard_and_a_county_supervisor_cannot(client, world, db, storage):
    from inspect_api.models import RemediationPlan
    from inspect_api.services.lifecycle import hazards as hazards_service
    from inspect_api.services.access.actor import Actor

    notice, hazards = seed_notice(db, world, storage, descriptions=["重大隐患：可燃气体报警器失效"], grade="major")
    h = hazards[0]
    db.add(RemediationPlan(hazard_id=h.id, responsibility="设备部", measures="更换报警器", funds=20000,
                           time_limit=(utcnow() + timedelta(days=20)).date(), contingency="人工巡检"))
    db.flush()
    hazards_service.list_hazard(db, Actor(world["supervisor"]), h)
    db.commit()
    portal_login(client, "enterprise1")
    _acknowledge(client, notice)
    assert _report(client, h.id).status_code == 302
    rect = db.query(Rectification).filter_by(hazard_id=h.id).one()
    _logout(client)
    portal_login(client, "inspector1")
    html = client.get(f"/desk/rectifications/{rect.id}").get_data(as_text=True)
    assert "合格（重大隐患由监管人员销号）" in html
    assert post_form(client, f"/desk/rectifications/{rect.id}", {
        "result": "accepted", "co_reviewer_id": world["inspector2"].id}).status_code == 302
    db.refresh(h)
    assert h.status == "verified"
    _logout(client)

    portal_login(client, "supervisor_taocheng")  # county level: below the city listing
    resp = post_form(client, f"/desk/hazards/{h.id}/close", {"reason": "销号"},
                     page_url=f"/desk/hazards/{h.id}")
    assert resp.status_code == 422
    assert "须由挂牌督办级别或更高级别的负责人销号" in resp.get_data(as_text=True)
    db.refresh(h)
    assert h.status == "verified"
    _logout(client)

    portal_login(client, "supervisor")
    page = client.get(f"/desk/hazards/{h.id}").get_data(as_text=True)
    assert "重大隐患销号" in page
    resp = post_form(client, f"/desk/hazards/{h.id}/close", {"reason": "经核查治理完成"},
                     page_url=f"/desk/hazards/{h.id}")
    assert resp.status_code == 302
    db.refresh(h)
    assert h.status == "closed"
    db.refresh(notice)
    assert notice.status == "closed"


def test_a_notice_with_a_deadline_in_the_past_is_refused_with_a_message(client, world, db):
    from inspect_api.services.lifecycle import hazards as hazards_service
    from inspect_api.services.access.actor import Actor

    h = hazards_service.create_hazard(db, Actor(world["inspector1"]), {
        "enterprise_id": world.ent1.id, "description": "过期期限测试"})
    db.commit()
    portal_login(client, "inspector1")
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    resp = post_form(client, f"/desk/hazards/{h.id}/notice", {
        "hazard_ids": [h.id], "deadline": yesterday, "officer2_id": world["inspector2"].id},
        page_url=f"/desk/hazards/{h.id}")
    assert resp.status_code == 422
    assert "整改期限须晚于签发时间" in resp.get_data(as_text=True)
    db.refresh(h)
    assert h.status == "found" and h.notice_id is None
