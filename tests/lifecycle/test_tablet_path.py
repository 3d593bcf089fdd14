"""From a tablet: a notice pushed by sync is numbered and orders its hazards; the rest of the
lifecycle runs through the API and the tablet pulls the closed state."""
from __future__ import annotations

import shutil
import subprocess

from inspect_api.models import Device, Hazard

from ..sync.helpers import changes, hazard_raw, inspection_raw, notice_raw, pull_ok, push
from . import helpers


def _text(pdf: bytes) -> str:
    assert shutil.which("pdftotext")
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


def test_tablet_notice_to_closure_and_back_to_the_tablet(api, client, auth, db, world):
    tab = auth.headers("inspector1", device_id="tablet-lifecycle")
    last = pull_ok(client, tab)["timestamp"]
    insp = inspection_raw(world.ent1.id, lead_inspector_id=world["inspector1"].id,
                          co_inspector_id=world["inspector2"].id, status="submitted")
    note = notice_raw(insp["id"], world.ent1.id, deadline_at=4102444800000)  # 2100-01-01
    haz = hazard_raw(insp["id"], world.ent1.id, notice_id=note["id"], description="泵房可燃气体检测仪未校验")
    resp = push(client, tab, changes(inspections={"created": [insp]}, notices={"created": [note]},
                                     hazards={"created": [haz]}), last)
    assert resp.status_code == 200, resp.get_json()
    assert api.hazard(haz["id"])["status"] == "ordered"
    status, history = api.get("inspector1", f"/hazards/{haz['id']}/history")
    order = [e for e in history if e["action"] == "hazard.order"]
    device = db.query(Device).filter_by(client_device_id="tablet-lifecycle").one()
    assert len(order) == 1 and order[0]["device_id"] == device.id and order[0]["actor_username"] == "inspector1"
    status, notice = api.get("enterprise1", f"/notices/{note['id']}")
    assert status == 200 and notice["number"].startswith("（桃城）应急责改〔")

    # The notice PDF of a tablet notice names the inspection's two officers
    pdf = client.get(f"/api/v1/notices/{note['id']}/pdf", headers=api.h("enterprise1"))
    text = _text(pdf.data)
    assert world["inspector1"].certificate_no in text and world["inspector2"].certificate_no in text
    assert "泵房可燃气体检测仪未校验" in text and "2100年1月1日" in text

    assert api.post("enterprise1", f"/notices/{note['id']}/acknowledge")[0] == 200
    # A hazard the tablet adds to the signed notice later is ordered and can be signed for
    last2 = pull_ok(client, tab, last)["timestamp"]
    late = hazard_raw(insp["id"], world.ent1.id, notice_id=note["id"], description="补充：泵房通风不良")
    assert push(client, tab, changes(hazards={"created": [late]}), last2).status_code == 200
    assert api.hazard(late["id"])["status"] == "ordered"
    status, body = api.post("enterprise1", f"/notices/{note['id']}/acknowledge")
    assert status == 200 and body["status"] == "acknowledged"
    assert api.hazard(late["id"])["status"] == "acknowledged"
    assert api.post("enterprise1", f"/notices/{note['id']}/acknowledge")[0] == 409
    status, rect = api.post("enterprise1", f"/hazards/{late['id']}/rectifications", {"description": "加装风机"})
    assert status == 201
    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "onsite_check": "风机运行正常", "co_reviewer_id": world["inspector2"].id})
    assert status == 201
    status, rect = api.post("enterprise1", f"/hazards/{haz['id']}/rectifications", {"description": "已送检校验"})
    assert status == 201
    status, review = api.post("inspector2", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "onsite_check": "校验报告齐全", "co_reviewer_id": world["inspector1"].id})
    assert status == 201

    pulled = pull_ok(client, tab, last)
    rows = {r["id"]: r for r in pulled["changes"]["hazards"]["created"] + pulled["changes"]["hazards"]["updated"]}
    assert rows[haz["id"]]["status"] == "closed"
    notices = {r["id"]: r for r in pulled["changes"]["notices"]["created"] + pulled["changes"]["notices"]["updated"]}
    assert notices[note["id"]]["status"] == "closed"


def test_hazard_rectified_on_the_spot_on_a_tablet_closes_once_its_photo_is_ready(api, app, client, auth, db, world):
    tab = auth.headers("inspector1", device_id="tablet-onspot")
    last = pull_ok(client, tab)["timestamp"]
    insp = inspection_raw(world.ent1.id, lead_inspector_id=world["inspector1"].id,
                          co_inspector_id=world["inspector2"].id, status="submitted")
    haz = hazard_raw(insp["id"], world.ent1.id, description="灭火器压力不足，当场更换", rectified_on_spot=True)
    resp = push(client, tab, changes(inspections={"created": [insp]}, hazards={"created": [haz]}), last)
    assert resp.status_code == 200, resp.get_json()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hazards", "close-on-spot"])
    assert result.exit_code == 0 and "1 waiting, 0 closed" in result.output, result.output
    assert api.hazard(haz["id"])["status"] == "found", "no photo yet: not closed"

    helpers.ready_photo(db, "hazards", haz["id"], world.ent1)
    db.commit()
    result = runner.invoke(args=["hazards", "close-on-spot"])
    assert result.exit_code == 0 and "1 waiting, 1 closed" in result.output, result.output
    body = api.hazard(haz["id"])
    assert body["status"] == "closed" and body["closed_by_id"] == world["inspector1"].id
    status, history = api.get("inspector2", f"/hazards/{haz['id']}/history")
    close = [e for e in history if e["action"] == "hazard.close_on_spot"]
    assert len(close) == 1 and close[0]["actor_username"] == "inspector1"
    assert close[0]["data"]["co_inspector_id"] == world["inspector2"].id
    db.expire_all()
    assert db.get(Hazard, haz["id"]).rectified_on_spot is True
    pulled = pull_ok(client, tab, last)["changes"]["hazards"]
    assert {r["id"]: r["status"] for r in pulled["created"] + pulled["updated"]}[haz["id"]] == "closed"
