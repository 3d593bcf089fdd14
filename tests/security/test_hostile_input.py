"""Hostile input never reaches a 500: each case of issue #19 items 2 and 3 answers a 4xx in the one error shape
and changes nothing; stored non-finite numbers never reach a response."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from inspect_api.models import Inspection

from ..sync.helpers import changes, inspection_raw, pull, pull_ok, push


def assert_error(resp, status=None):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    assert 400 <= resp.status_code < 500
    if status is not None:
        assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = json.loads(resp.get_data(as_text=True))  # strict: NaN would fail here
    assert set(body) == {"status", "code", "message", "details"}
    assert body["status"] == resp.status_code and isinstance(body["code"], str)
    return body


def strict_json(resp):
    def refuse(name):
        raise AssertionError(f"response carries {name}")

    return json.loads(resp.get_data(as_text=True), parse_constant=refuse)


# ------------------------------------------------------------------ item 2: non-finite numbers


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_push_with_a_non_finite_latitude_rejects_that_record_by_name(client, auth, world, constant):
    headers = auth.headers("inspector1")
    first = pull_ok(client, headers)
    good, bad = inspection_raw(world.ent1.id), inspection_raw(world.ent1.id)
    body = json.dumps(changes(inspections={"created": [good, bad]}))
    body = body.replace('"latitude": 37.73', '"latitude": %s' % constant, 2)
    # only the second record carries the constant
    body = body.replace('"latitude": %s' % constant, '"latitude": 37.73', 1)
    resp = client.post("/api/v1/sync", query_string={"last_pulled_at": first["timestamp"]}, data=body,
                       headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    result = strict_json(resp)
    assert result["experimentalRejectedIds"] == {"inspections": [bad["id"]]}
    assert "finite" in result["rejected"]["inspections"][bad["id"]]
    after = pull_ok(client, headers, first["timestamp"])
    got = {r["id"] for r in after["changes"]["inspections"]["created"] + after["changes"]["inspections"]["updated"]}
    assert good["id"] in got and bad["id"] not in got


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_every_json_body_refuses_non_finite_numbers(client, auth, world, constant):
    headers = auth.headers("admin")
    body = '{"name": "新企业", "uscc": "91131102MA0000001X", "region_code": "131102", "latitude": %s}' % constant
    resp = client.post("/api/v1/enterprises", data=body, headers={**headers, "Content-Type": "application/json"})
    assert assert_error(resp, 422)["code"] == "invalid_json"
    resp = client.post("/api/v1/auth/token", data='{"username": "admin", "password": %s}' % constant,
                       headers={"Content-Type": "application/json"})
    assert assert_error(resp)["code"] in ("invalid_json", "validation_error")


def test_a_nan_planted_in_the_database_is_pulled_as_null(client, auth, world, db):
    headers = auth.headers("inspector1")
    ins = Inspection(enterprise_id=world.ent1.id, region_code="131102", status="draft", latitude=1.0)
    db.add(ins)
    db.flush()
    # as an operator's hand-written UPDATE (or an old bug) would leave it
    db.execute(text("UPDATE inspections SET latitude = :v, longitude = :w WHERE id = :id"),
               {"v": float("nan"), "w": float("inf"), "id": ins.id})
    db.commit()
    pulled = strict_json(pull(client, headers))
    row = next(r for r in pulled["changes"]["inspections"]["created"] if r["id"] == ins.id)
    assert row["latitude"] is None and row["longitude"] is None


def test_jsonify_never_writes_nan(app):
    with app.app_context():
        from flask import jsonify

        resp = jsonify({"a": float("nan"), "b": [float("-inf"), 1.5]})
        assert json.loads(resp.get_data(as_text=True)) == {"a": None, "b": [None, 1.5]}


# ------------------------------------------------------------------ item 3: 500s from input


def test_json_nested_a_thousand_deep_is_refused_anonymous_and_signed_in(client, auth, world):
    deep = "[" * 1000 + "]" * 1000
    resp = client.post("/api/v1/auth/token", data=deep, headers={"Content-Type": "application/json"})
    assert assert_error(resp, 422)["code"] == "invalid_json"
    headers = auth.headers("admin")
    for path in ("/api/v1/enterprises", "/api/v1/photos", "/api/v1/sync?last_pulled_at=0"):
        resp = client.post(path, data='{"a":' * 100000 + "1" + "}" * 100000,
                           headers={**headers, "Content-Type": "application/json"})
        assert_error(resp)


@pytest.mark.parametrize("value", ["a\x00b", "\ud800x"])
def test_nul_and_lone_surrogates_in_a_json_body_are_refused(client, auth, world, value):
    body = json.dumps({"username": value, "password": "x"})  # json.dumps escapes both
    resp = client.post("/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"})
    assert assert_error(resp, 422)["code"] == "invalid_text"
    headers = auth.headers("admin")
    body = json.dumps({"name": value, "uscc": "91131102MA0000001X", "region_code": "131102"})
    resp = client.post("/api/v1/enterprises", data=body, headers={**headers, "Content-Type": "application/json"})
    assert assert_error(resp, 422)["code"] == "invalid_text"


def test_nul_in_query_and_path_is_refused(client, auth, world):
    headers = auth.headers("admin")
    assert assert_error(client.get("/api/v1/enterprises?q=a%00b", headers=headers), 422)["code"] == "invalid_text"
    assert assert_error(client.get("/api/v1/enterprises/a%00b", headers=headers), 422)["code"] == "invalid_text"
    assert assert_error(client.get("/api/v1/hazards?enterprise_id=%00", headers=headers), 422)


def test_nul_in_a_pushed_record_rejects_that_record(client, auth, world):
    headers = auth.headers("inspector1")
    first = pull_ok(client, headers)
    bad = inspection_raw(world.ent1.id, note="a\x00b")
    resp = push(client, headers, changes(inspections={"created": [bad]}), first["timestamp"])
    assert resp.status_code == 200
    assert "NUL" in resp.get_json()["rejected"]["inspections"][bad["id"]]
    resp = push(client, headers, changes(inspections={"deleted": ["x\x00y"]}), first["timestamp"])
    assert_error(resp, 422)


@pytest.mark.parametrize("path", ["/api/v1/enterprises", "/api/v1/hazards", "/api/v1/notices",
                                  "/api/v1/users", "/api/v1/audit", "/api/v1/cases", "/api/v1/penalties",
                                  "/api/v1/devices", "/api/v1/checklists", "/api/v1/rectifications"])
def test_a_page_past_two_to_the_63_is_refused_on_every_paginated_list(client, db, auth, world, path):
    if path == "/api/v1/audit":  # the audit administrator's (三权分立: the system administrator does not read it)
        from tests import factories

        factories.user(db, "aud_admin", "audit_admin")
        db.commit()
        headers = auth.headers("aud_admin")
    else:
        headers = auth.headers("admin")
    for page in (2 ** 63, 2 ** 64 + 5, 10 ** 30):
        resp = client.get(path, query_string={"page": page}, headers=headers)
        assert_error(resp, 422)


def test_a_year_past_two_to_the_31_is_refused_on_cases(client, auth, world):
    headers = auth.headers("supervisor")
    for year in (2 ** 31, 2 ** 63, -1):
        assert_error(client.get("/api/v1/cases", query_string={"year": year}, headers=headers), 422)
    assert client.get("/api/v1/cases", query_string={"year": 2026}, headers=headers).status_code == 200


@pytest.mark.parametrize("taken_at", ["1e20", "-1", "NaN", "Infinity"])
def test_photo_taken_at_out_of_range_is_refused(client, auth, world, taken_at):
    headers = auth.headers("inspector1")
    body = '{"owner_table": "hazards", "owner_id": "x", "taken_at": %s}' % taken_at
    resp = client.post("/api/v1/photos", data=body, headers={**headers, "Content-Type": "application/json"})
    assert_error(resp, 422)


@pytest.mark.parametrize("query", [{"from": "0001-01-01"}, {"to": "9999-12-31"},
                                   {"from": "0001-01-01", "to": "9999-12-31"}])
def test_statistics_with_extreme_dates_are_refused(client, auth, world, query):
    headers = auth.headers("supervisor")
    for path in ("/api/v1/stats/hazards", "/api/v1/stats/enforcement"):
        assert_error(client.get(path, query_string=query, headers=headers), 422)


def test_unknown_routes_and_methods_keep_the_one_shape(client):
    assert_error(client.get("/api/v1/nothing-here"), 404)
    assert_error(client.delete("/api/v1/auth/token"), 401)


def test_every_api_blueprint_parses_bodies_with_the_strict_parser(app):
    """A new API module must use api/common.Blueprint (strict JSON, NUL/surrogates, depth), not flask-smorest's."""
    from inspect_api.api.common import Blueprint, StrictParser

    import flask_smorest

    blueprints = [bp for bp in app.blueprints.values() if isinstance(bp, flask_smorest.Blueprint)]
    assert blueprints
    wrong = [bp.name for bp in blueprints if not isinstance(bp, Blueprint)
             or not isinstance(bp.ARGUMENTS_PARSER, StrictParser)]
    assert wrong == []
