import pytest


def test_unknown_api_route_is_404_in_the_error_shape(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.get_json() == {"status": 404, "code": "not_found", "message": resp.get_json()["message"],
                               "details": {}}


def test_wrong_method_is_405_in_the_error_shape(client):
    resp = client.put("/api/v1/auth/token", json={})
    assert resp.status_code == 405
    assert resp.get_json()["code"] == "method_not_allowed"


def test_malformed_json_is_400_or_422_in_the_error_shape(client, world):
    resp = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    body = resp.get_json()
    assert set(body) == {"status", "code", "message", "details"}


def test_wrong_types_and_unknown_fields_name_the_fields(client, world):
    resp = client.post("/api/v1/auth/token", json={"username": 5, "password": "x", "evil": 1})
    assert resp.status_code == 422
    fields = resp.get_json()["details"]["fields"]
    assert "username" in fields and "evil" in fields


def test_too_large_body_is_413_in_the_error_shape(app, client):
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        resp = client.post("/api/v1/auth/token", data="x" * 5000, content_type="application/json")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert resp.status_code == 413
    assert resp.get_json()["code"] == "payload_too_large"


def test_unexpected_exception_is_500_without_traceback(database_url, tmp_path):
    from inspect_api import create_app

    from ..conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_ROOT": str(tmp_path)})

    @app.route("/api/v1/_boom_test")
    def boom():
        raise RuntimeError("secret internals")

    resp = app.test_client().get("/api/v1/_boom_test")
    assert resp.status_code == 500
    body = resp.get_json()
    assert body["code"] == "internal_error"
    assert "secret internals" not in resp.get_data(as_text=True)
    assert "Traceback" not in resp.get_data(as_text=True)


def test_openapi_document_lists_every_api_route(app, client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    documented = set()
    for path, ops in spec["paths"].items():
        for method in ops:
            documented.add((path, method.upper()))
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule.startswith("/api/v1/docs") \
                or rule.rule == "/api/v1/openapi.json" or "_boom_test" in rule.rule:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = path.replace("{path:", "{").replace("{int:", "{")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method) not in documented:
                missing.append((path, method))
    assert not missing, f"routes missing from the OpenAPI document: {missing}"


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower() and "/api/v1/docs/static/" in html
    js = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.data) > 100_000
    js.close()
