"""Issue #19 item 7: the OpenAPI document validates, documents errors as the API sends them, and a client
generated from it by a well-kept generator (openapi-python-client) works against a live server."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from .. import factories


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def test_the_document_validates(document):
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert errors == []


def test_every_error_response_is_documented_with_the_error_shape_the_api_sends(document):
    schemas = document["components"]["schemas"]
    assert schemas["ApiError"]["properties"] == {
        "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "object", "additionalProperties": {}}}
    responses = document["components"]["responses"]
    wrong = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, resp in op.get("responses", {}).items():
                if not (status == "default" or int(status) >= 400):
                    continue
                if "$ref" in resp:
                    resp = responses[resp["$ref"].rsplit("/", 1)[1]]
                content = resp.get("content", {}).get("application/json")
                if content is not None and content["schema"] != {"$ref": "#/components/schemas/ApiError"}:
                    wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


def test_no_formdata_parameters_and_numeric_bounds_are_numbers(document):
    text = json.dumps(document)
    assert '"in": "formData"' not in text
    for name in ("PlanWrite", "RectificationCreate", "PenaltyCreate", "Payment"):
        for prop in document["components"]["schemas"].get(name, {}).get("properties", {}).values():
            for bound in ("minimum", "maximum"):
                assert not isinstance(prop.get(bound), str), (name, prop)
    body = document["paths"]["/api/v1/photos/files"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]


@pytest.fixture(scope="module")
def generated_client(document, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    (out / "doc.json").write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(out / "doc.json"),
         "--output-path", str(out / "inspect_client"), "--meta", "none"],
        capture_output=True, text=True, timeout=240, cwd=str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("inspect_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "inspect_client" or m.startswith("inspect_client.")]:
            del sys.modules[name]


def test_a_generated_client_signs_in_lists_and_reads_errors(generated_client, live_server):
    from inspect_client import AuthenticatedClient, Client
    from inspect_client.api.auth import post_api_v1_auth_token
    from inspect_client.api.enterprises import get_api_v1_enterprises, get_api_v1_enterprises_enterprise_id
    from inspect_client.models import ApiError, TokenRequest

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    wrong = post_api_v1_auth_token.sync_detailed(
        client=anonymous, body=TokenRequest(username="inspector1", password="wrong password"))
    assert wrong.status_code == 401 and isinstance(wrong.parsed, ApiError)
    assert wrong.parsed.code == "invalid_credentials" and wrong.parsed.status == 401

    token = post_api_v1_auth_token.sync(
        client=anonymous, body=TokenRequest(username="inspector1", password=factories.PASSWORD))
    assert token.token_type == "Bearer" and token.user.username == "inspector1"

    client = AuthenticatedClient(base_url=live_server.url, token=token.access_token,
                                 raise_on_unexpected_status=True)
    listed = get_api_v1_enterprises.sync(client=client)
    assert {e.id for e in listed} == {live_server.ids["ent1"], live_server.ids["ent2"]}
    other = get_api_v1_enterprises_enterprise_id.sync_detailed(live_server.ids["ent_shenzhou"], client=client)
    assert other.status_code == 404 and isinstance(other.parsed, ApiError) and other.parsed.code == "not_found"


def test_money_sent_as_decimal_strings_is_documented_as_strings(document):
    amount = document["components"]["schemas"]["Penalty"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["format"] == "decimal"
    assert document["components"]["schemas"]["PenaltyCreate"]["properties"]["amount"]["type"] == "number"
