"""The statistics API: the same figures as the service, scoped by role, in the one error shape."""
from __future__ import annotations

import pytest

Q = "from=2026-01-01&to=2026-06-30"


def get(client, auth, user, url):
    return client.get(url, headers=auth.headers(user))


def test_supervisor_gets_hazard_figures_per_county_and_total(client, auth, data):
    resp = get(client, auth, "supervisor", f"/api/v1/stats/hazards?{Q}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["from"] == "2026-01-01" and body["to"] == "2026-06-30" and body["group_by"] == "county"
    assert body["region"] == {"code": None, "name": "衡水市"}
    labels = {c["key"]: c["label"] for c in body["columns"]}
    assert labels["enterprises_due"] == "应排查治理事故隐患的生产经营单位(家)"
    assert labels["funds_wan"] == "累计落实隐患治理资金(万元)"
    rows = {r["key"]: r for r in body["rows"]}
    tc = rows["131102"]
    assert (tc["general_found"], tc["general_rectified"], tc["general_rate"]) == (4, 2, 50.0)
    assert (tc["funds_wan"], tc["closure_days_median"], tc["closure_days_p90"]) == (5.57, 15.5, 27.3)
    total = body["total"]
    assert (total["major_found"], total["major_closed"], total["major_rate"]) == (3, 1, 33.33)
    assert (total["funds_wan"], total["overdue"], total["coverage_rate"]) == (17.57, 3, 75.0)


def test_filters_region_industry_and_group(client, auth, data):
    body = get(client, auth, "supervisor", f"/api/v1/stats/hazards?{Q}&region=131182&group_by=grade").get_json()
    assert body["region"] == {"code": "131182", "name": "深州市"}
    rows = {r["key"]: r for r in body["rows"]}
    assert (rows["general"]["general_found"], rows["major"]["major_found"]) == (2, 2)
    body = get(client, auth, "supervisor", f"/api/v1/stats/hazards?{Q}&industry=F51").get_json()
    assert body["total"]["general_found"] == 1 and body["total"]["enterprises_due"] == 1  # ent3: h6


def test_enforcement_endpoint(client, auth, data):
    resp = get(client, auth, "inspector3", f"/api/v1/stats/enforcement?{Q}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert [r["key"] for r in body["rows"]] == ["131182"]
    row = body["rows"][0]
    assert (row["penalties"], row["fines_decided_wan"], row["fines_collected_wan"], row["suspensions"]) == (
        2, 5.56, 1.0, 1)


@pytest.mark.parametrize("url", ["/api/v1/stats/hazards", "/api/v1/stats/enforcement",
                                 "/api/v1/stats/hazards/export", "/api/v1/stats/ledger/export?format=csv"])
def test_enterprise_users_are_refused(client, auth, data, url):
    resp = get(client, auth, "enterprise1", url)
    assert resp.status_code == 403
    assert resp.get_json()["code"] == "forbidden"


def test_no_token_is_401(client, data):
    assert client.get("/api/v1/stats/hazards").status_code == 401


def test_region_outside_jurisdiction_is_404(client, auth, data):
    resp = get(client, auth, "supervisor_taocheng", f"/api/v1/stats/hazards?{Q}&region=131182")
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "region_not_found"


@pytest.mark.parametrize("query,field", [
    ("from=2026-05-01&to=2026-04-01", "from"),
    ("group_by=district", "group_by"),
    ("from=2026-13-01", "from"),
    ("evil=1", "evil"),
])
def test_bad_filters_are_422_naming_the_field(client, auth, data, query, field):
    resp = get(client, auth, "supervisor", f"/api/v1/stats/hazards?{query}")
    assert resp.status_code == 422
    body = resp.get_json()
    assert set(body) == {"status", "code", "message", "details"}
    assert field in body["details"]["fields"]


def test_enforcement_has_no_grade_grouping(client, auth, data):
    resp = get(client, auth, "supervisor", f"/api/v1/stats/enforcement?{Q}&group_by=grade")
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "invalid_group_by"


def test_stats_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for p in ("/api/v1/stats/hazards", "/api/v1/stats/enforcement", "/api/v1/stats/hazards/export",
              "/api/v1/stats/enforcement/export", "/api/v1/stats/ledger/export"):
        assert "get" in paths[p]
