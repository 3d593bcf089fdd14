"""A real WatermelonDB 0.28 tablet of schema version 3 (tests/js/sync/tablet.js, TABLET_SCHEMA_VERSION=3)
against the app on loopback: it gets the published catalogues (the built-in 2017 one and the made-up test
catalogue, imported and published by an admin through the API), grades a hazard with a clause in force,
and is told clearly when it grades with one that is not. A version-1 tablet beside it sees no change."""
from __future__ import annotations

import io
import json
import urllib.request

import pytest

from inspect_api.models import Hazard

from ..sync.test_watermelondb_client import Tablet, _server, _token
from .catalogue_data import MADE_UP, catalogue_json

pytestmark = pytest.mark.node


def _api(live, token, method, path, body=None, files=None):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if files is not None:
        boundary = "----criteria-test"
        name, content = files
        data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/json\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(live.url + path, method=method, headers=headers, data=data)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def live():
    from ..conftest import start_live_server

    server, stop = start_live_server()
    admin = _token(server, "admin", "admin-console")
    report = _api(server, admin, "POST", "/api/v1/criteria/import", files=("test.json", catalogue_json(
        "crit-HC2017-v1")))
    server.test_catalogue = _api(server, admin, "POST", f"/api/v1/criteria/catalogues/{report['catalogue_id']}/publish")
    yield server
    stop()


@pytest.fixture()
def tablets(live):
    made = []

    def make(version, username="inspector1"):
        t = Tablet(live, username, f"tab-v{version}-{len(made)}", schema_version=version)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()
        assert t.sync_errors == [], t.sync_errors


def test_a_version_3_tablet_grades_with_the_clauses_in_force_and_hears_why_not(live, tablets):
    t = tablets(3)
    first = t.sync()
    assert first["ok"], first
    catalogues = {c["code"]: c for c in t.all("criteria_catalogues")}
    assert set(catalogues) == {"HC2017", "TEST-AQ"}
    assert catalogues["HC2017"]["effective_to"] == "2026-09-29" and catalogues["TEST-AQ"]["effective_from"] == "2026-09-30"
    clauses = {c["code"]: c for c in t.all("criteria_clauses")}
    assert len(clauses) == 25 and clauses["TEST-AQ-5.2.1"]["text"].startswith(MADE_UP)
    # the tablet picks a clause in force today (the test catalogue: 2017 ended on 2026-09-29)
    ent = live.ids["ent1"]
    new_clause = clauses["TEST-AQ-5.2.1"]
    good = t.create("hazards", enterprise_id=ent, description="储罐未设紧急切断", grade="major",
                    criterion_clause_id=new_clause["id"], major_criterion_code=new_clause["code"],
                    rectified_on_spot=False, status="found")
    stale = t.create("hazards", enterprise_id=ent, description="按旧标准判定", grade="major",
                     criterion_clause_id=clauses["HC2017-05"]["id"], major_criterion_code="HC2017-05",
                     rectified_on_spot=False, status="found")
    result = t.sync()
    assert result["ok"] and result["push"]["status"] == 200, result
    rejected = result["push"]["body"]["rejected"]["hazards"]
    assert list(rejected) == [stale] and "废止" in rejected[stale] and "[retired]" in rejected[stale]
    assert _server(live, lambda s: (s.get(Hazard, good).criterion_clause_id, s.get(Hazard, good).grade,
                                    s.get(Hazard, stale))) == (new_clause["id"], "major", None)
    assert t.get("hazards", good)["criterion_clause_id"] == new_clause["id"]


def test_a_version_1_tablet_beside_it_sees_no_change(live, tablets):
    t = tablets(1)
    assert t.sync()["ok"]
    with pytest.raises(AssertionError):
        t.all("criteria_catalogues")  # no such table on a version-1 tablet
    hazards = t.all("hazards")
    assert all("criterion_clause_id" not in h for h in hazards)
    # it still grades with an HC2017 code as it always did: accepted, the code kept
    ent = live.ids["ent1"]
    hid = t.create("hazards", enterprise_id=ent, description="v1 平板录入", grade="major",
                   major_criterion_code="HC2017-07", rectified_on_spot=False, status="found")
    result = t.sync()
    assert result["ok"] and result["push"]["body"]["rejected"] == {}, result
    assert _server(live, lambda s: s.get(Hazard, hid).major_criterion_code) == "HC2017-07"
    assert t.get("hazards", hid)["major_criterion_code"] == "HC2017-07"
