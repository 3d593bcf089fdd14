"""Builders for the criteria tests."""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from .catalogue_data import catalogue_json

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh=10, mm=0) -> datetime:
    """An aware datetime on a Hengshui wall clock."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def publish_test_catalogue(client, auth, replaces_id="crit-HC2017-v1", **changes) -> dict:
    """Import the made-up test catalogue as admin (JSON file) and publish it; returns the published one."""
    admin = auth.headers("admin")
    resp = client.post("/api/v1/criteria/import", headers=admin, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(catalogue_json(replaces_id, **changes)), "test.json")})
    assert resp.status_code == 200, resp.get_json()
    cat_id = resp.get_json()["catalogue_id"]
    resp = client.post(f"/api/v1/criteria/catalogues/{cat_id}/publish", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def clause_of(catalogue: dict, number: str) -> str:
    return next(c["id"] for c in catalogue["clauses"] if c["number"] == number)
