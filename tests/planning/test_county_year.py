"""A county's year, end to end on a live server: the plan is approved, the 双随机 draw is made and
re-verified (API and CLI), its tasks reach two real WatermelonDB tablets of schema version 2, the
inspections carrying task_id move the tasks to done, one task goes overdue, the enterprise checks the
检查码 in its portal (headless Chromium, 360 px), the 现场检查记录 PDF reads right (pdftotext and pypdf),
and the completion statistics add up. A version-1 tablet syncs beside them and sees no change."""
from __future__ import annotations

import io
import json
import os
import subprocess
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from inspect_api.extensions import db as _db
from inspect_api.models import InspectionTask

from .. import factories
from ..browser.conftest import PHONE, ConsoleWatch, browser, fits_width, new_page, sign_in  # noqa: F401
from ..conftest import start_live_server
from ..factories import PASSWORD
from ..sync.helpers import published_checklist
from ..sync.test_watermelondb_client import JS_DIR, TABLET_JS, Tablet, _token

pytestmark = [pytest.mark.node, pytest.mark.browser]


class VersionedTablet(Tablet):
    """The same WatermelonDB tablet (tests/js/sync/tablet.js) built with a given schema version."""

    def __init__(self, live, username, device, version):
        self.proc = subprocess.Popen(["node", TABLET_JS], cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
                                     env={**os.environ, "TABLET_SCHEMA_VERSION": str(version)})
        self.sync_errors = []
        self.send({"cmd": "config", "url": live.url, "token": _token(live, username, device)})


def _seed(session, world):
    tmpl = published_checklist(session, code="HC-PLAN", items=3)
    for i in range(8):
        factories.enterprise(session, f"桃城双随机企业{i}", "131102", seed=900 + i, industry="C26", risk_color="blue")
    session.flush()
    world.users["template"] = tmpl  # not a user: carried to the test through live.ids below


@pytest.fixture(scope="module")
def live():
    server, stop = start_live_server(seed=_seed)
    with server.app.app_context():
        from sqlalchemy import select

        from inspect_api.models import ChecklistItem, ChecklistTemplate

        tmpl = _db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "HC-PLAN")).one()
        server.ids["template"] = tmpl.id
        server.ids["items"] = [i.id for i in _db.session.scalars(
            select(ChecklistItem).where(ChecklistItem.template_id == tmpl.id).order_by(ChecklistItem.code))]
        _db.session.remove()
    yield server
    stop()


def _call(live, method, path, token, body=None, headers=None):
    req = urllib.request.Request(live.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = resp.read()
            return resp.status, (json.loads(data) if resp.headers.get("Content-Type", "").startswith("application/json")
                                 else data)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _ok(result, status=200):
    assert result[0] == status, result
    return result[1]


def test_a_county_year(live, browser, tmp_path):
    sup = _token(live, "supervisor_taocheng", "desk-sup")
    now = datetime.now(timezone.utc)
    year = now.year
    # 1. the plan, approved
    plan = _ok(_call(live, "POST", "/api/v1/plans", sup, {
        "year": year, "region_code": "131102", "staff_count": 3, "working_days": 248, "booked_days": 700,
        "days_per_class": {"major_hazard": 2, "default": 1}, "annual_cap": 4}), 201)
    assert plan["capacity_days"] == 44 and plan["key_enterprise_ids"] == [live.ids["ent1"]]
    _ok(_call(live, "POST", f"/api/v1/plans/{plan['id']}/approve", sup))
    req = urllib.request.Request(live.url + f"/api/v1/plans/{plan['id']}", headers={"Authorization": f"Bearer {sup}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        etag = resp.headers["ETag"]
    assert _call(live, "PATCH", f"/api/v1/plans/{plan['id']}", sup, {"staff_count": 30},
                 {"If-Match": etag})[1]["code"] == "plan_immutable"
    # 2. the draw, re-verified through the API and the CLI
    draw = _ok(_call(live, "POST", f"/api/v1/plans/{plan['id']}/draws", sup, {
        "period_label": f"{year}年第一批", "period_start": f"{year}-01-01", "period_end": f"{year}-12-31",
        "sample_size": 3, "risk_colors": ["blue"]}), 201)
    assert len(draw["result"]) == 3 and len(draw["enterprise_ids"]) == 8
    assert _ok(_call(live, "POST", f"/api/v1/draws/{draw['id']}/verify", sup, {}))["verified"] is True
    with live.app.app_context():
        out = live.app.test_cli_runner().invoke(args=["planning", "verify-draw", draw["id"]])
        _db.session.remove()
    assert out.exit_code == 0 and json.loads(out.output)["result_digest"] == draw["result_digest"]
    # 3. tasks: three random ones from the draw, one key task whose window has already passed
    window = {"window_start_at": (now - timedelta(days=1)).isoformat(), "window_end_at": (now + timedelta(days=30)).isoformat(),
              "template_ids": [live.ids["template"]]}
    random_tasks = _ok(_call(live, "POST", f"/api/v1/draws/{draw['id']}/tasks", sup, window), 201)
    late = _ok(_call(live, "POST", "/api/v1/tasks", sup, {
        "enterprise_id": live.ids["ent1"], "kind": "key", "plan_id": plan["id"],
        "lead_inspector_id": live.ids["inspector1"], "co_inspector_id": live.ids["inspector2"],
        "window_start_at": (now - timedelta(days=20)).isoformat(), "window_end_at": (now - timedelta(days=2)).isoformat()}), 201)
    t1, t2, t3 = random_tasks
    # 4. two real tablets of version 2 and one of version 1
    a = VersionedTablet(live, "inspector1", "tab-a", 2)
    b = VersionedTablet(live, "inspector2", "tab-b", 2)
    old = VersionedTablet(live, "inspector1", "tab-old", 1)
    try:
        for t in (a, b, old):
            assert t.sync()["ok"] is True
        assert {r["id"] for r in a.all("inspection_tasks")} == {t1["id"], t2["id"], t3["id"], late["id"]}
        assert {r["code"] for r in b.all("inspection_tasks")} >= {t1["code"], t2["code"]}
        old_before = {r["id"]: r for r in old.all("inspections")}
        started = int((now - timedelta(hours=2)).timestamp() * 1000)
        # tablet A starts t1 (draft), tablet B carries out t2 (submitted)
        insp_a = a.create("inspections", enterprise_id=t1["enterprise_id"], task_id=t1["id"], status="draft",
                          template_id=live.ids["template"], lead_inspector_id=live.ids["inspector1"],
                          co_inspector_id=live.ids["inspector2"], started_at=started)
        assert a.sync()["push"]["body"]["rejected"] == {}
        a.sync()  # the task moved on the server during the push: the next pull brings it
        assert {r["id"]: r["status"] for r in a.all("inspection_tasks")}[t1["id"]] == "in_progress"
        insp_b = b.create("inspections", enterprise_id=t2["enterprise_id"], task_id=t2["id"], status="submitted",
                          template_id=live.ids["template"], lead_inspector_id=live.ids["inspector2"],
                          co_inspector_id=live.ids["inspector1"], started_at=started, finished_at=started + 3_600_000,
                          note="储存场所检查")
        b.create("findings", inspection_id=insp_b, item_id=live.ids["items"][0], result="fail", note="灭火器过期")
        assert b.sync()["push"]["body"]["rejected"] == {}
        a.update("inspections", insp_a, status="submitted", finished_at=started + 5_400_000)
        assert a.sync()["push"]["body"]["rejected"] == {}
        # an on-the-spot inspection from the version-1 tablet: no task, still accepted (无任务检查)
        old.create("inspections", enterprise_id=live.ids["ent2"], status="submitted",
                   lead_inspector_id=live.ids["inspector1"], co_inspector_id=live.ids["inspector2"],
                   started_at=started, finished_at=started + 1_000)
        assert old.sync()["push"]["body"]["rejected"] == {}
        # 5. the window of the key task has passed: overdue (cron)
        with live.app.app_context():
            out = live.app.test_cli_runner().invoke(args=["planning", "mark-overdue"])
            states = {t.id: t.status for t in _db.session.query(InspectionTask)}
            _db.session.remove()
        assert out.output.strip() == "1 task(s) marked overdue"
        assert states == {t1["id"]: "done", t2["id"]: "done", t3["id"]: "assigned", late["id"]: "overdue"}
        b.sync()
        assert {r["id"]: r["status"] for r in b.all("inspection_tasks")}[late["id"]] == "overdue"
        # the version-1 tablet sees no tasks and no new column
        old.sync()
        assert all("task_id" not in r for r in old.all("inspections"))
        assert set(old_before) <= {r["id"] for r in old.all("inspections")}
    finally:
        for t in (a, b, old):
            t.close()
    for t in (a, b, old):
        assert t.sync_errors == [], t.sync_errors
    # 6. the enterprise checks the code in its portal, on a phone
    watch = ConsoleWatch()
    page = new_page(browser, live.url, PHONE, watch)
    sign_in(page, "enterprise1", PASSWORD)
    page.goto("/planning/check-code")
    page.fill("input[name=code]", late["code"][:5].lower() + " " + late["code"][5:])
    page.click("button:has-text('核验')")
    page.wait_for_selector("#code-result")
    text = page.inner_text("#code-result")
    assert "检查码有效" in text and "inspector1" in text
    assert "执法证号" in text and fits_width(page)
    page.goto("/planning/check-code")
    page.fill("input[name=code]", t2["code"])  # another enterprise's code
    page.click("button:has-text('核验')")
    assert "检查码不存在或不属于本单位" in page.inner_text("#code-error")
    # the refused code answers 404, which Chromium logs; nothing else may appear (CSP, scripts)
    assert [e for e in watch.real_errors() if "status of 404" not in e] == []
    # 7. the 现场检查记录 of t2
    _ok(_call(live, "POST", f"/api/v1/tasks/{t2['id']}/record", sup, {"representative": "安全员 周某"}))
    pdf = _ok(_call(live, "GET", f"/api/v1/tasks/{t2['id']}/record.pdf", sup))
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    extracted = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for body in (text, extracted):
        compact = body.replace("\n", "").replace(" ", "")
        for expected in ("现场检查记录", "应急检记", "灭火器过期", "储存场所检查", "安全员周某", "记录人"):
            assert expected in compact, (expected, body)
    # 8. the statistics
    completion = _ok(_call(live, "GET", f"/api/v1/plans/{plan['id']}/completion", sup))
    assert completion["total"] == {"planned": 4, "done": 2, "overdue": 1, "open": 1}
    assert completion["key_enterprises"] == 1 and completion["key_covered"] == 0
    stats = _ok(_call(live, "GET", f"/api/v1/planning/stats?year={year}", sup))
    assert stats["shares"]["random"] == 2 and stats["shares"]["taskless"] == 1 and stats["shares"]["key"] == 0
    csv = _ok(_call(live, "GET", f"/api/v1/planning/inspections/export?year={year}&format=csv", sup))
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[5] == "是否随机抽取"
    assert sorted(line.split(",")[5] for line in lines[1:]) == ["否", "是", "是"]
