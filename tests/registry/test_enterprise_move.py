"""Issue #19 item 8: an enterprise moved to another county takes its open work along; the old county's
tablets get it under ``deleted``, the new county's under ``created``; closed work stays."""
from __future__ import annotations

from inspect_api.models import Hazard, Inspection, Notice, Photo

from ..sync.helpers import ids, pull_ok


def test_moving_an_enterprise_moves_its_open_work_and_tells_both_counties_tablets(client, world, auth, db):
    ent = world.ent1
    draft = Inspection(enterprise_id=ent.id, region_code="131102", status="draft")
    done = Inspection(enterprise_id=ent.id, region_code="131102", status="submitted")
    db.add_all([draft, done])
    db.flush()
    open_hz = Hazard(enterprise_id=ent.id, region_code="131102", inspection_id=done.id, description="未整改")
    closed_hz = Hazard(enterprise_id=ent.id, region_code="131102", description="已销号", status="closed")
    notice = Notice(enterprise_id=ent.id, region_code="131102")
    db.add_all([open_hz, closed_hz, notice])
    db.flush()
    photo = Photo(owner_table="hazards", owner_id=open_hz.id, enterprise_id=ent.id, region_code="131102")
    db.add(photo)
    db.commit()
    old_tablet, new_tablet = auth.headers("inspector1"), auth.headers("inspector3")  # 桃城区 / 深州市
    old_first, new_first = pull_ok(client, old_tablet), pull_ok(client, new_tablet)

    admin = auth.headers("admin")
    etag = client.get(f"/api/v1/enterprises/{ent.id}", headers=admin).headers["ETag"]
    resp = client.patch(f"/api/v1/enterprises/{ent.id}", json={"region_code": "131182"},
                        headers={**admin, "If-Match": etag})
    assert resp.status_code == 200, resp.get_json()

    db.expire_all()
    assert {db.get(Hazard, open_hz.id).region_code, db.get(Inspection, done.id).region_code,
            db.get(Inspection, draft.id).region_code, db.get(Notice, notice.id).region_code,
            db.get(Photo, photo.id).region_code} == {"131182"}
    assert db.get(Hazard, closed_hz.id).region_code == "131102"  # closed work stays with the county that did it

    old = pull_ok(client, old_tablet, old_first["timestamp"])
    assert {open_hz.id} <= ids(old, "hazards", "deleted") and closed_hz.id not in ids(old, "hazards", "deleted")
    assert {draft.id, done.id} <= ids(old, "inspections", "deleted")
    assert notice.id in ids(old, "notices", "deleted") and photo.id in ids(old, "photos", "deleted")
    assert ent.id in ids(old, "enterprises", "deleted")
    new = pull_ok(client, new_tablet, new_first["timestamp"])
    arrived = ids(new, "hazards", "created") | ids(new, "hazards", "updated")
    assert open_hz.id in arrived and closed_hz.id not in arrived
    assert photo.id in ids(new, "photos", "created") | ids(new, "photos", "updated")
