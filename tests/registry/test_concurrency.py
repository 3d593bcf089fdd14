"""Concurrent writers over real HTTP: version numbers and ETags hold under races."""
import threading

import pytest
import requests

from inspect_api.services.access.actor import Actor
from inspect_api.services.registry.checklists import create_template, publish_template

from ..conftest import start_live_server
from ..factories import PASSWORD


def _seed(session, world):
    tpl = create_template(session, Actor(world["admin"]), {
        "code": "RACE", "title": "并发测试", "items": [{"category": "设备", "content": "设备是否完好"}]})
    publish_template(session, Actor(world["admin"]), tpl)


@pytest.fixture(scope="module")
def live():
    live, stop = start_live_server(seed=_seed)
    yield live
    stop()


def _token(live, username="admin"):
    resp = requests.post(live.url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                         timeout=10)
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _race(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_new_versions_make_exactly_one_draft_and_the_rest_409(live):
    h = _token(live)
    tpl = requests.get(live.url + "/api/v1/checklists?code=RACE", headers=h, timeout=10).json()[0]
    statuses = _race(4, lambda i: requests.post(f"{live.url}/api/v1/checklists/{tpl['id']}/versions", headers=h,
                                                timeout=30).status_code)
    assert sorted(statuses) == [201, 409, 409, 409]
    versions = requests.get(live.url + "/api/v1/checklists?code=RACE", headers=h, timeout=10).json()
    assert sorted((v["version"], v["status"]) for v in versions) == [(1, "published"), (2, "draft")]


def test_concurrent_patches_with_the_same_etag_let_exactly_one_through(live):
    h = _token(live)
    ent_id = live.ids["ent1"]
    url = f"{live.url}/api/v1/enterprises/{ent_id}"
    etag = requests.get(url, headers=h, timeout=10).headers["ETag"]
    # four different real changes (a no-op PATCH would keep the ETag and let a second one through)
    addresses = [f"衡水市桃城区并发路{i + 1}号" for i in range(4)]
    statuses = _race(4, lambda i: requests.patch(url, json={"address": addresses[i]},
                                                 headers={**h, "If-Match": etag}, timeout=30).status_code)
    assert sorted(statuses) == [200, 412, 412, 412]
    winner = addresses[statuses.index(200)]
    assert requests.get(url, headers=h, timeout=10).json()["address"] == winner
