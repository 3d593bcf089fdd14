"""WatermelonDB 0.28's own synchronize() under Node 20 against the app on loopback.

Each Tablet is a Node process holding an in-memory WatermelonDB (tests/js/sync/tablet.js),
driven one JSON command per line.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request

import pytest
from sqlalchemy import select

from inspect_api.extensions import db as _db
from inspect_api.models import Hazard, Inspection, Notice, utcnow

from ..conftest import start_live_server
from ..factories import PASSWORD
from .helpers import published_checklist

pytestmark = pytest.mark.node

JS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "js")
TABLET_JS = os.path.join(JS_DIR, "sync", "tablet.js")


def _token(live, username, device):
    req = urllib.request.Request(
        live.url + "/api/v1/auth/token", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": username, "password": PASSWORD, "device_id": device}).encode())
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["access_token"]


class Tablet:
    def __init__(self, live, username, device, schema_version=1):
        assert shutil.which("node"), "Node.js is required for the client tests"
        env = {**os.environ, "TABLET_SCHEMA_VERSION": str(schema_version)}  # CONTRACT §4: the tablet's schema
        self.proc = subprocess.Popen(["node", TABLET_JS], cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env=env)
        self.sync_errors: list[str] = []
        self.send({"cmd": "config", "url": live.url, "token": _token(live, username, device)})

    def _read(self):
        line = self.proc.stdout.readline()
        assert line, "the tablet process died"
        return json.loads(line)

    def send(self, msg):
        self.proc.stdin.write(json.dumps(msg, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        return self._check(answer)

    def _check(self, answer):
        assert "exception" not in answer, answer["exception"]
        self.sync_errors += [e for e in answer.pop("errors", []) if "[Sync]" in e]
        return answer

    def sync(self, **opts):
        return self.send({"cmd": "sync", **opts})

    def sync_paused(self, **opts):
        """Start a sync that stops between its pull and its push; returns a resume() callable."""
        self.proc.stdin.write(json.dumps({"cmd": "sync", "pause_before_push": True, **opts}) + "\n")
        self.proc.stdin.flush()
        assert self._read().get("paused") is True

        def resume():
            self.proc.stdin.write(json.dumps({"cmd": "resume"}) + "\n")
            self.proc.stdin.flush()
            return self._check(self._read())

        return resume

    def create(self, table, **fields):
        return self.send({"cmd": "create", "table": table, "fields": fields})["id"]

    def update(self, table, rec_id, **fields):
        self.send({"cmd": "update", "table": table, "id": rec_id, "fields": fields})

    def delete(self, table, rec_id):
        self.send({"cmd": "delete", "table": table, "id": rec_id})

    def get(self, table, rec_id):
        return self.send({"cmd": "get", "table": table, "id": rec_id})["record"]

    def all(self, table):
        return self.send({"cmd": "all", "table": table})["records"]

    def close(self):
        try:
            self.send({"cmd": "exit"})
        except Exception:  # pragma: no cover
            pass
        self.proc.wait(10)
        self.proc.stdin.close()
        self.proc.stdout.close()


def _seed(session, world):
    published_checklist(session)


@pytest.fixture(scope="module")
def live():
    server, stop = start_live_server(seed=_seed)
    yield server
    stop()


@pytest.fixture()
def tablets(live):
    made = []

    def make(username="inspector1", device=None):
        t = Tablet(live, username, device or f"tab-{len(made)}-{os.urandom(3).hex()}")
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()
        assert t.sync_errors == [], t.sync_errors


def _server(live, fn):
    with live.app.app_context():
        try:
            result = fn(_db.session)
            _db.session.commit()
            return result
        finally:
            _db.session.remove()


def test_first_sync_downloads_the_jurisdiction(live, tablets):
    t = tablets()
    result = t.sync()
    assert result["ok"], result
    assert {e["id"] for e in t.all("enterprises")} == {live.ids["ent1"], live.ids["ent2"]}
    assert {"131102", "131182", "131100"} <= {r["id"] for r in t.all("regions")}
    assert len(t.all("checklist_templates")) == 1 and len(t.all("checklist_items")) == 3
    assert all(r["_status"] == "synced" for r in t.all("enterprises"))


def test_create_update_delete_travel_in_both_directions(live, tablets):
    t = tablets()
    assert t.sync()["ok"]
    ent = live.ids["ent1"]
    item = t.all("checklist_items")[0]
    insp = t.create("inspections", enterprise_id=ent, template_id=item["template_id"], status="draft",
                    started_at=1764547200000, note="例行检查")
    finding = t.create("findings", inspection_id=insp, item_id=item["id"], result="fail")
    haz = t.create("hazards", inspection_id=insp, finding_id=finding, enterprise_id=ent, description="静电接地缺失",
                   grade="general", rectified_on_spot=False, status="found")
    doomed = t.create("hazards", inspection_id=insp, enterprise_id=ent, description="误录", grade="general")
    result = t.sync()
    assert result["ok"] and result["push"]["status"] == 200, result
    assert result["push"]["body"]["rejected"] == {}

    def check_server(s):
        h = s.get(Hazard, haz)
        return h.description, h.region_code, h.finding_id, s.get(Inspection, insp).note

    assert _server(live, check_server) == ("静电接地缺失", "131102", finding, "例行检查")

    # tablet → server: update and delete
    t.update("hazards", haz, location="装卸区")
    t.delete("hazards", doomed)
    assert t.sync()["ok"]
    assert _server(live, lambda s: (s.get(Hazard, haz).location, s.get(Hazard, doomed).deleted_at is not None)) \
        == ("装卸区", True)

    # server → tablet: create, update, delete
    def server_side(s):
        h = s.get(Hazard, haz)
        h.description = "静电接地缺失（复核）"
        new = Hazard(enterprise_id=ent, region_code="131102", inspection_id=insp, description="后台补录")
        s.add(new)
        other = s.get(Inspection, insp)
        other.note = "后台备注"
        s.flush()
        return new.id

    new_id = _server(live, server_side)
    assert t.sync()["ok"]
    assert t.get("hazards", haz)["description"] == "静电接地缺失（复核）"
    assert t.get("hazards", new_id)["description"] == "后台补录"
    assert t.get("inspections", insp)["note"] == "后台备注"

    _server(live, lambda s: setattr(s.get(Hazard, new_id), "deleted_at", utcnow()))
    assert t.sync()["ok"]
    assert t.get("hazards", new_id) is None
    assert t.get("hazards", doomed) is None


def test_a_conflict_is_refused_then_recovered_by_the_next_sync(live, tablets):
    t = tablets()
    assert t.sync()["ok"]
    ent = live.ids["ent2"]
    insp = t.create("inspections", enterprise_id=ent, status="draft")
    haz = t.create("hazards", inspection_id=insp, enterprise_id=ent, description="通道堵塞", grade="general")
    assert t.sync()["ok"]
    t.update("hazards", haz, location="二楼仓库")
    resume = t.sync_paused()
    # someone edits the same hazard on the server between the tablet's pull and its push
    _server(live, lambda s: setattr(s.get(Hazard, haz), "description", "安全通道堵塞（后台）"))
    refused = resume()
    assert refused["ok"] is False and "409" in refused["error"] and "sync_conflict" in refused["error"]
    assert haz in refused["error"]
    assert _server(live, lambda s: s.get(Hazard, haz).location) is None  # nothing applied
    recovered = t.sync()
    assert recovered["ok"], recovered
    assert _server(live, lambda s: (s.get(Hazard, haz).description, s.get(Hazard, haz).location)) == \
        ("安全通道堵塞（后台）", "二楼仓库")
    local = t.get("hazards", haz)
    assert (local["description"], local["location"], local["_status"]) == ("安全通道堵塞（后台）", "二楼仓库", "synced")


def test_a_push_whose_answer_is_lost_is_retried_without_duplicates(live, tablets):
    t = tablets()
    assert t.sync()["ok"]
    ent = live.ids["ent1"]
    insp = t.create("inspections", enterprise_id=ent, status="draft")
    notice = t.create("notices", inspection_id=insp, enterprise_id=ent, deadline_at=1767225600000)
    haz = t.create("hazards", inspection_id=insp, enterprise_id=ent, notice_id=notice, description="泄压阀失效",
                   grade="general")
    lost = t.sync(lose_push_response=True)
    assert lost["ok"] is False and lost["push"]["status"] == 200
    assert t.get("hazards", haz)["_status"] == "created"  # the tablet does not know it arrived
    retried = t.sync()
    assert retried["ok"], retried

    def server_state(s):
        return (len(s.scalars(select(Notice).where(Notice.inspection_id == insp)).all()),
                s.get(Notice, notice).number, s.get(Hazard, haz).status)

    count, number, status = _server(live, server_state)
    assert count == 1 and status == "ordered"
    assert t.get("notices", notice)["number"] == number
    assert t.get("hazards", haz)["status"] == "ordered"
    assert all(r["_status"] == "synced" for r in t.all("hazards") + t.all("notices") + t.all("inspections"))
    assert t.sync()["ok"]
    assert _server(live, server_state)[0] == 1


def test_two_tablets_editing_the_same_hazard_offline_converge(live, tablets):
    a, b = tablets("inspector1"), tablets("inspector2")
    assert a.sync()["ok"]
    ent = live.ids["ent1"]
    insp = a.create("inspections", enterprise_id=ent, status="draft")
    haz = a.create("hazards", inspection_id=insp, enterprise_id=ent, description="原始描述", grade="general")
    assert a.sync()["ok"]
    assert b.sync()["ok"]
    assert b.get("hazards", haz)["description"] == "原始描述"
    # both offline: A changes the description, B the location and the grade
    a.update("hazards", haz, description="A 的描述")
    b.update("hazards", haz, location="B 的位置", grade="major")
    assert a.sync()["ok"]
    assert b.sync()["ok"]  # B pulls A's change first, keeps its own columns, pushes
    assert a.sync()["ok"]
    server = _server(live, lambda s: (lambda h: (h.description, h.location, h.grade))(s.get(Hazard, haz)))
    assert server == ("A 的描述", "B 的位置", "major")
    for t in (a, b):
        local = t.get("hazards", haz)
        assert (local["description"], local["location"], local["grade"]) == server
        assert local["_status"] == "synced"


def _seed_many(session, world):
    published_checklist(session)
    insp = Inspection(enterprise_id=world.ent1.id, region_code="131102", status="draft")
    session.add(insp)
    session.flush()
    for n in range(600):
        session.add(Hazard(enterprise_id=world.ent1.id, region_code="131102", inspection_id=insp.id,
                           description=f"隐患 {n}"))
    session.flush()


def test_a_large_first_sync_comes_in_pages(tablets):
    big, stop = start_live_server(seed=_seed_many)
    try:
        t = Tablet(big, "inspector1", "tab-paging")
        try:
            result = t.sync(limit=100)
            assert result["ok"], result
            pulls = result["pulls"]
            assert len(pulls) >= 6 and all(p["has_more"] for p in pulls[:-1]) and not pulls[-1]["has_more"]
            assert all(p["count"] <= 100 + 3 for p in pulls)  # + the items of a page's template
            assert len(t.all("hazards")) == 600
            assert len({h["description"] for h in t.all("hazards")}) == 600
            again = t.sync()
            assert again["ok"] and again["pulls"][0]["count"] == 0
        finally:
            t.close()
        assert t.sync_errors == []
    finally:
        stop()


def test_a_rejected_record_is_not_pushed_again_on_the_next_sync(live, tablets):
    """CONTRACT §2 rejection, as WatermelonDB acts on it: the rejected id comes back under ``deleted`` in the
    next pull (which runs before that sync's push), so the tablet drops the record instead of re-pushing it
    on every sync forever (issue #19 item 8)."""
    t = tablets()
    assert t.sync()["ok"]
    bad = t.create("hazards", inspection_id="", enterprise_id=live.ids["ent_shenzhou"], description="越权隐患",
                   grade="general", rectified_on_spot=False, status="found")
    good = t.create("hazards", inspection_id="", enterprise_id=live.ids["ent1"], description="储罐区防火堤破损",
                    grade="general", rectified_on_spot=False, status="found")
    first = t.sync()
    assert first["ok"] and list(first["push"]["body"]["rejected"]["hazards"]) == [bad]
    assert first["push"]["body"]["experimentalRejectedIds"] == {"hazards": [bad]}
    second = t.sync()
    assert second["ok"], second
    assert second.get("push") is None or bad not in str(second["push"]), second  # not pushed again
    assert bad not in {h["id"] for h in t.all("hazards")}
    assert good in {h["id"] for h in t.all("hazards")}
    third = t.sync()
    assert third["ok"] and third.get("push") is None, third
