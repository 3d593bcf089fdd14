"""No input is silently cut: too-long text is refused with the field named, portal and API alike."""
from __future__ import annotations

import io

from inspect_api.models import Hazard, Notice, Rectification, Review, utcnow
from inspect_api.models.limits import RECTIFICATION, REVIEW

from .portal_helpers import csrf_from, portal_login, post_form
from .seed import jpeg_bytes, seed_notice


def _acknowledged(db, world, storage):
    notice, hazards = seed_notice(db, world, storage, descriptions=["储罐区防火堤破损"])
    notice.status = "acknowledged"
    for h in hazards:
        h.status = "acknowledged"
    db.commit()
    return notice, hazards


def test_a_fix_report_longer_than_the_limit_is_refused_naming_the_field_and_keeps_the_text(
        client, world, db, storage):
    _notice, hazards = _acknowledged(db, world, storage)
    portal_login(client, "enterprise1")
    limit = RECTIFICATION["description"][1]
    text = "整" * (limit + 1)
    page = client.get(f"/enterprise/hazards/{hazards[0].id}/report")
    html = page.get_data(as_text=True)
    assert f'data-maxlength="{limit}"' in html and 'maxlength="4000"' not in html
    resp = client.post(f"/enterprise/hazards/{hazards[0].id}/report", content_type="multipart/form-data",
                       data={"csrf_token": csrf_from(html), "description": text,
                             "photos": [(io.BytesIO(jpeg_bytes((40, 160, 40))), "after.jpg")]})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert f"整改情况最多 {limit} 字，现为 {limit + 1} 字" in body
    assert text in body                          # what was typed is shown again, whole
    assert db.query(Rectification).filter_by(hazard_id=hazards[0].id).count() == 0
    assert db.get(Hazard, hazards[0].id).status == "acknowledged"
    # exactly at the limit it is kept whole
    resp = client.post(f"/enterprise/hazards/{hazards[0].id}/report", content_type="multipart/form-data",
                       data={"csrf_token": csrf_from(html), "description": text[:-1],
                             "photos": [(io.BytesIO(jpeg_bytes((40, 160, 40))), "after.jpg")]})
    assert resp.status_code == 302
    assert len(db.query(Rectification).filter_by(hazard_id=hazards[0].id).one().description) == limit


def test_the_api_refuses_a_too_long_fix_report_with_the_field_named(client, auth, world, db, storage):
    _notice, hazards = _acknowledged(db, world, storage)
    headers = auth.headers("enterprise1")
    resp = client.post(f"/api/v1/hazards/{hazards[0].id}/rectifications", headers=headers,
                       json={"description": "整" * 10001})
    assert resp.status_code == 422
    assert "description" in resp.get_json()["details"]["fields"]
    assert db.query(Rectification).count() == 0


def test_a_too_long_review_opinion_is_refused_on_the_desk(client, world, db, storage):
    _notice, hazards = _acknowledged(db, world, storage)
    portal_login(client, "enterprise1")
    page = client.get(f"/enterprise/hazards/{hazards[0].id}/report")
    client.post(f"/enterprise/hazards/{hazards[0].id}/report", content_type="multipart/form-data",
                data={"csrf_token": csrf_from(page.get_data(as_text=True)), "description": "已修复",
                      "photos": [(io.BytesIO(jpeg_bytes((40, 160, 40))), "after.jpg")]})
    rect = db.query(Rectification).filter_by(hazard_id=hazards[0].id).one()
    page = client.get("/account")
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    portal_login(client, "inspector1")
    limit = REVIEW["opinion"][1]
    resp = post_form(client, f"/desk/rectifications/{rect.id}",
                     {"result": "rejected", "opinion": "否" * (limit + 5),
                      "co_reviewer_id": world["inspector2"].id})
    assert resp.status_code == 422
    assert f"复查意见最多 {limit} 字" in resp.get_data(as_text=True)
    assert db.query(Review).count() == 0


def test_a_too_long_safety_measure_on_a_notice_is_refused(client, world, db):
    from inspect_api.services.access.actor import Actor
    from inspect_api.services.lifecycle import hazards as hazards_service

    h = hazards_service.create_hazard(db, Actor(world["inspector1"], None, "t"),
                                      {"enterprise_id": world.ent1.id, "description": "消防通道堵塞"})
    db.commit()
    portal_login(client, "inspector1")
    resp = post_form(client, f"/desk/hazards/{h.id}/notice",
                     {"deadline": (utcnow().date().replace(year=utcnow().year + 1)).isoformat(),
                      "officer2_id": world["inspector2"].id, "safety_measures": "措" * 5001},
                     page_url=f"/desk/hazards/{h.id}")
    assert resp.status_code == 422
    assert "整改期间安全措施要求最多 5000 字" in resp.get_data(as_text=True)
    assert db.query(Notice).count() == 0
