"""The jobs API: submission and its refusals, ownership (404), the resumable download (200 / 206 / 416),
expiry (410), and big exports answered 202 with a job instead of a request held open."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from inspect_api.models import AuditEvent, Job

from ..browser.portal_helpers import portal_login
from .helpers import bulk_hazards, done_job

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


def _jobs_count(db):
    return db.execute(select(func.count()).select_from(Job)).scalar()


def test_submit_answers_202_with_a_queued_job_only_its_owner_sees(client, auth, world, db):
    h = auth.headers("supervisor")
    resp = client.post("/api/v1/jobs", json={"kind": "ledger_export", "params": {**PERIOD, "format": "csv"}},
                       headers=h)
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    assert resp.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["state"] == "queued" and job["kind_label"] == "隐患台账导出"
    assert job["params"] == {**PERIOD, "region": None, "industry": None, "format": "csv"}
    assert job["download_url"] is None and job["attempts"] == 0
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()["state"] == "queued"
    listed = client.get("/api/v1/jobs", headers=h).get_json()
    assert [j["id"] for j in listed["items"]] == [job["id"]] and listed["total"] == 1
    assert listed["workers_alive"] is None  # no queue configured under TESTING
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.submitted")).one()
    assert event.object_id == job["id"] and event.actor_username == "supervisor"
    # another user — another supervisor, and the admin — sees no such job
    for other in ("supervisor_taocheng", "admin"):
        oh = auth.headers(other)
        assert client.get(f"/api/v1/jobs/{job['id']}", headers=oh).status_code == 404
        assert client.get(f"/api/v1/jobs/{job['id']}/download", headers=oh).status_code == 404
        assert client.get("/api/v1/jobs", headers=oh).get_json()["total"] == 0
    # the owner, before it is done: 409 job_not_ready
    resp = client.get(f"/api/v1/jobs/{job['id']}/download", headers=h)
    assert resp.status_code == 409 and resp.get_json()["code"] == "job_not_ready"


def test_a_hundred_year_period_is_refused_with_the_limit_and_records_nothing(client, auth, world, db):
    before = _jobs_count(db)
    resp = client.post("/api/v1/jobs", json={"kind": "ledger_export",
                                             "params": {"from": "1926-01-01", "to": "2025-12-31"}},
                       headers=auth.headers("supervisor"))
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "invalid_period"
    assert "十年" in body["message"]
    assert _jobs_count(db) == before


def test_bad_submissions_get_clear_errors(client, auth, world, db):
    h = auth.headers("supervisor")
    cases = [
        ({"kind": "mine_bitcoin"}, 422, "unknown_job_kind"),
        ({"kind": "ledger_export", "params": {"from": "2026-13-01"}}, 422, "invalid_job_params"),
        ({"kind": "ledger_export", "params": {"colour": "red"}}, 422, "invalid_job_params"),
        ({"kind": "ledger_export", "params": {"region": "131182000"}}, 404, "region_not_found"),
        ({"kind": "photo_derivatives"}, 403, "forbidden"),
        ({"kind": "notice_pdfs", "params": {"from": "2024-01-01", "to": "2026-01-01"}}, 422, "invalid_period"),
        ({"kind": "notice_pdfs", "params": {}}, 422, "invalid_job_params"),
        ({"kind": "ledger_export", "extra": 1}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        resp = client.post("/api/v1/jobs", json=body, headers=h)
        assert (resp.status_code, resp.get_json()["code"]) == (status, code), (body, resp.get_json())
    resp = client.post("/api/v1/jobs", json={"kind": "ledger_export"}, headers=auth.headers("enterprise1"))
    assert resp.status_code == 403
    assert client.post("/api/v1/jobs", json={"kind": "ledger_export"}).status_code == 401
    assert _jobs_count(db) == 0


def test_download_is_resumable_with_range(client, auth, world, db, storage):
    data = ("\ufeff隐患编号,企业名称\n" + "".join(f"H{i:06d},衡水示例化工有限公司\n" for i in range(5000))).encode()
    job = done_job(db, storage, world.users["supervisor"].id, data)
    db.commit()
    h = auth.headers("supervisor")
    url = f"/api/v1/jobs/{job.id}/download"
    whole = client.get(url, headers=h)
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["Content-Length"] == str(len(data))
    assert "filename*=UTF-8''%E9%9A%90" in whole.headers["Content-Disposition"]
    etag = whole.headers["ETag"]
    # a download cut at 70,000 bytes resumes from there
    part = client.get(url, headers={**h, "Range": "bytes=70000-", "If-Range": etag})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 70000-{len(data) - 1}/{len(data)}"
    assert data[:70000] + part.data == data
    mid = client.get(url, headers={**h, "Range": "bytes=10-19"})
    assert mid.status_code == 206 and mid.data == data[10:20]
    # past the end: 416 with the size
    past = client.get(url, headers={**h, "Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.get_json()["code"] == "range_not_satisfiable"
    assert past.headers["Content-Range"] == f"bytes */{len(data)}"
    # an If-Range that no longer matches gets the whole (new) file, not a spliced one
    stale = client.get(url, headers={**h, "Range": "bytes=100-", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.data == data
    assert client.get(url, headers=auth.headers("supervisor_taocheng")).status_code == 404


def test_an_expired_result_answers_410(client, auth, world, db, storage):
    job = done_job(db, storage, world.users["supervisor"].id, b"x", expires_in=3600)
    job.expires_at = job.created_at - timedelta(seconds=1)
    db.commit()
    resp = client.get(f"/api/v1/jobs/{job.id}/download", headers=auth.headers("supervisor"))
    assert resp.status_code == 410 and resp.get_json()["code"] == "job_expired"


def test_a_big_ledger_export_answers_202_with_a_job(client, auth, world, db, app, monkeypatch):
    bulk_hazards(db, world, 30)
    db.commit()
    h = auth.headers("supervisor")
    q = "from=2026-01-01&to=2026-06-30&format=csv"
    monkeypatch.setitem(app.config, "JOBS_SYNC_EXPORT_MAX_ROWS", 50)
    small = client.get(f"/api/v1/stats/ledger/export?{q}", headers=h)
    assert small.status_code == 200 and small.data.count(b"\n") == 31  # streamed as before
    monkeypatch.setitem(app.config, "JOBS_SYNC_EXPORT_MAX_ROWS", 20)
    big = client.get(f"/api/v1/stats/ledger/export?{q}", headers=h)
    assert big.status_code == 202, big.data[:200]
    job = big.get_json()
    assert job["kind"] == "ledger_export" and job["state"] == "queued"
    assert job["params"]["format"] == "csv" and job["params"]["from"] == "2026-01-01"
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=h).status_code == 200


def test_prefer_respond_async_makes_any_statistics_export_a_job(client, auth, world, db, data):
    h = {**auth.headers("supervisor"), "Prefer": "respond-async"}
    resp = client.get("/api/v1/stats/hazards/export?from=2026-01-01&to=2026-06-30&group_by=grade", headers=h)
    assert resp.status_code == 202
    assert resp.get_json()["kind"] == "hazard_stats_export"
    assert resp.get_json()["params"]["group_by"] == "grade"
    resp = client.get("/api/v1/stats/enforcement/export?from=2026-01-01&to=2026-06-30", headers=h)
    assert resp.status_code == 202 and resp.get_json()["kind"] == "enforcement_stats_export"


def test_portal_lists_jobs_with_progress_and_refreshes_while_active(client, world, db, storage):
    owner = world.users["supervisor"]
    done = done_job(db, storage, owner.id, b"a,b\n")
    running = Job(owner_id=owner.id, kind="ledger_export", params={"from": "2026-01-01"}, state="running",
                  progress_done=250, progress_total=1000, attempts=1, max_attempts=3)
    db.add(running)
    db.commit()
    portal_login(client, "supervisor")
    page = client.get("/jobs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'http-equiv="refresh"' in html  # a job is running
    assert "进行中" in html and "250 / 1000" in html and 'value="25"' in html
    assert f"/jobs/{done.id}/download" in html and "已完成" in html
    got = client.get(f"/jobs/{done.id}/download", headers={"Range": "bytes=2-"})
    assert got.status_code == 206 and got.data == b"b\n"


def test_portal_download_of_another_users_job_is_404(client, world, db, storage):
    job = done_job(db, storage, world.users["supervisor"].id, b"secret")
    db.commit()
    portal_login(client, "supervisor_taocheng")
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert "secret" not in client.get("/jobs").get_data(as_text=True)
