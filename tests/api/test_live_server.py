import json
import urllib.request

from ..factories import PASSWORD


def test_live_server_issues_tokens_over_real_http(live_server):
    req = urllib.request.Request(
        live_server.url + "/api/v1/auth/token", method="POST",
        data=json.dumps({"username": "inspector3", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 201
        body = json.loads(resp.read())
    assert body["user"]["region_code"] == "131182"
