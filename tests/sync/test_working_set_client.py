"""Real WatermelonDB 0.28 tablets (tests/js/sync/tablet.js) of schema version 1 and of version 4 against one
server: the version-4 tablet holds its working set, pushes, loses what leaves the set and gets it back;
the version-1 tablet sees its whole jurisdiction as before; a supervisor's version-4 tablet holds
aggregates. WatermelonDB logs no sync warning on either (checked when the tablets close)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from inspect_api.models import Hazard, Inspection

from ..conftest import start_live_server
from .helpers import published_checklist
from .test_watermelondb_client import TABLET_JS, JS_DIR, Tablet, _token

pytestmark = pytest.mark.node


class VersionedTablet(Tablet):
    def __init__(self, live, username, device, schema_version):
        assert shutil.which("node"), "Node.js is required for the client tests"
        env = {**os.environ, "TABLET_SCHEMA_VERSION": str(schema_version)}
        self.proc = subprocess.Popen(["node", TABLET_JS], cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env=env)
        self.sync_errors: list[str] = []
        self.send({"cmd": "config", "url": live.url, "token": _token(live, username, device)})


def _ago(days):
    return datetime.now(timezone.utc) - timedelta(days=days)


def _seed(session, world):
    published_checklist(session)
    me, other = world.users["inspector1"], world.users["inspector2"]
    recent = Inspection(enterprise_id=world.ent1.id, region_code="131102", lead_inspector_id=me.id,
                        started_at=_ago(10), status="submitted")
    old = Inspection(enterprise_id=world.ent2.id, region_code="131102", lead_inspector_id=other.id,
                     started_at=_ago(300), status="submitted")
    session.add_all([recent, old])
    session.flush()
    for name, ent, insp, status, closed in (("open", world.ent1, recent, "ordered", None),
                                            ("closed5", world.ent1, recent, "closed", _ago(5)),
                                            ("closed60", world.ent1, recent, "closed", _ago(60)),
                                            ("ent2", world.ent2, old, "ordered", None)):
        session.add(Hazard(id=f"HZ{name}", enterprise_id=ent.id, inspection_id=insp.id, region_code="131102",
                           description=name, status=status, found_at=_ago(12), closed_at=closed))


@pytest.fixture(scope="module")
def live():
    server, stop = start_live_server(seed=_seed)
    yield server
    stop()


@pytest.fixture()
def tablets(live):
    made = []

    def make(username="inspector1", version=1):
        t = VersionedTablet(live, username, f"ws-{len(made)}-{os.urandom(3).hex()}", version)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()
        assert t.sync_errors == [], t.sync_errors


def _ids(tablet, table):
    return {r["id"] for r in tablet.all(table)}


def test_version_4_and_version_1_tablets_side_by_side(live, tablets):
    v1, v4 = tablets(version=1), tablets(version=4)
    assert v1.sync()["ok"] and v4.sync()["ok"]
    assert _ids(v1, "hazards") == {"HZopen", "HZclosed5", "HZclosed60", "HZent2"}
    assert _ids(v4, "hazards") == {"HZopen", "HZclosed5"}
    closed = next(r for r in v4.all("hazards") if r["id"] == "HZclosed5")
    assert closed["closed_at"] and closed["status"] == "closed"
    assert "closed_at" not in next(r for r in v1.all("hazards") if r["id"] == "HZclosed5")
    assert len(_ids(v4, "enterprises")) == len(_ids(v1, "enterprises")) == 2  # the registry of 桃城区

    # the version-4 tablet inspects and records a hazard; its push lands; its own records stay
    ent1 = next(r["id"] for r in v4.all("enterprises") if r["name"] == "衡水示例化工有限公司")
    insp = v4.create("inspections", enterprise_id=ent1, status="draft", started_at=1764547200000)
    hz = v4.create("hazards", inspection_id=insp, enterprise_id=ent1, description="新发现：静电接地缺失",
                   grade="general", rectified_on_spot=False, status="found")
    result = v4.sync()
    assert result["ok"] and result["push"]["status"] == 200
    assert v4.sync()["ok"] and {hz, "HZopen", "HZclosed5"} == _ids(v4, "hazards")

    # time passes (history 3 days): the 5-day-old closure leaves the version-4 tablet only
    live.app.config["SYNC_HISTORY_DAYS"] = 3
    try:
        assert v4.sync()["ok"]
        assert _ids(v4, "hazards") == {hz, "HZopen"}
        assert v1.sync()["ok"]
        assert _ids(v1, "hazards") == {"HZopen", "HZclosed5", "HZclosed60", "HZent2", hz}
    finally:
        live.app.config["SYNC_HISTORY_DAYS"] = 30
    assert v4.sync()["ok"]
    assert _ids(v4, "hazards") == {hz, "HZopen", "HZclosed5"}  # back


def test_a_supervisors_version_4_tablet_holds_aggregates(live, tablets):
    sup = tablets("supervisor_taocheng", version=4)
    assert sup.sync()["ok"]
    assert sup.all("hazards") == [] and sup.all("inspections") == []
    rows = {r["enterprise_id"]: r for r in sup.all("enterprise_summaries")}
    assert len(rows) == 2
    assert sorted(r["open_hazards"] for r in rows.values()) >= [1, 1]
    assert json.dumps(rows, ensure_ascii=False)
