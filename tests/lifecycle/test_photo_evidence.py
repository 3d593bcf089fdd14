"""Photos of the fixed state, uploaded by the enterprise through the photos API, are review evidence."""
from __future__ import annotations

import io

from PIL import Image


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 140, 60)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_enterprise_photo_of_the_fix_lets_the_inspector_accept_without_onsite_check(api, world, inspection):
    hz = api.new_hazard(inspection, description="安全出口指示灯损坏")
    notice = api.issue([hz["id"]])
    assert api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")[0] == 200
    status, rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {"description": "已更换指示灯"})
    assert status == 201

    status, body = api.post("inspector1", f"/rectifications/{rect['id']}/review",
                            {"result": "accepted", "co_reviewer_id": world["inspector2"].id})
    assert status == 409 and body["details"]["guard"] == "evidence"

    resp = api.client.post("/api/v1/photos/files", headers=api.h("enterprise1"), data={
        "owner_table": "rectifications", "owner_id": rect["id"],
        "file": (io.BytesIO(_jpeg()), "fixed.jpg", "image/jpeg")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["status"] == "ready"
    assert api.get("inspector1", f"/rectifications/{rect['id']}")[1]["photo_count"] == 1
    status, listed = api.get("inspector1", "/rectifications", {"status": "pending"})
    assert [(r["id"], r["photo_count"]) for r in listed] == [(rect["id"], 1)]
    status, listed = api.get("enterprise1", f"/hazards/{hz['id']}/rectifications")
    assert [(r["id"], r["photo_count"]) for r in listed] == [(rect["id"], 1)]

    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review",
                              {"result": "accepted", "co_reviewer_id": world["inspector2"].id})
    assert status == 201, review
    assert api.hazard(hz["id"])["status"] == "closed"
