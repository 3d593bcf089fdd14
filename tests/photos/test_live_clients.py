"""Real tus clients against the app served on loopback: tus-js-client 4.3.1 (Node 20) and tuspy 1.1.0."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess

import pytest
import requests

from inspect_api.extensions import db as _db
from inspect_api.models import Hazard, Photo
from inspect_api.services.evidence.photos import original_key

from . import imagegen

JS = os.path.join(os.path.dirname(__file__), "..", "js", "tus", "upload.js")


def token(live, username="inspector1"):
    resp = requests.post(f"{live.url}/api/v1/auth/token",
                         json={"username": username, "password": "test-pass-123"}, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.json()["access_token"]


@pytest.fixture(scope="module")
def hazard_id(live_server):
    with live_server.app.app_context():
        hz = Hazard(enterprise_id=live_server.ids["ent1"], region_code="131102", description="管道泄漏")
        _db.session.add(hz)
        _db.session.commit()
        return hz.id


def new_photo(live, tok, hazard_id, photo_id):
    resp = requests.post(f"{live.url}/api/v1/photos", headers={"Authorization": f"Bearer {tok}"},
                         json={"id": photo_id, "owner_table": "hazards", "owner_id": hazard_id}, timeout=30)
    assert resp.status_code == 201, resp.text


def photo_state(live, tok, photo_id):
    resp = requests.get(f"{live.url}/api/v1/photos/{photo_id}", headers={"Authorization": f"Bearer {tok}"},
                        timeout=30)
    return resp.json()


def original_bytes(live, tok, photo_id):
    resp = requests.get(f"{live.url}/api/v1/photos/{photo_id}/content?variant=original",
                        headers={"Authorization": f"Bearer {tok}"}, timeout=30)
    assert resp.status_code == 200
    return resp.content


def run_js(options: dict) -> dict:
    proc = subprocess.run(["node", JS, json.dumps(options)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory):
    data = imagegen.jpeg_bytes(2400, 1800, seed=41, quality=95)
    path = tmp_path_factory.mktemp("photos") / "big.jpg"
    path.write_bytes(data)
    return str(path), data


@pytest.mark.node
def test_tus_js_client_chunked_upload(live_server, hazard_id, big_photo):
    path, data = big_photo
    tok = token(live_server)
    new_photo(live_server, tok, hazard_id, "JsChunked0000001")
    result = run_js({"endpoint": f"{live_server.url}/api/v1/uploads", "token": tok, "file": path,
                     "chunkSize": 200 * 1024, "mode": "simple",
                     "metadata": {"photo_id": "JsChunked0000001", "filename": "隐患.jpg",
                                  "filetype": "image/jpeg"}})
    assert result["ok"], result
    assert result["chunks"] == -(-len(data) // (200 * 1024))
    body = photo_state(live_server, tok, "JsChunked0000001")
    assert body["status"] == "ready" and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert original_bytes(live_server, tok, "JsChunked0000001") == data


@pytest.mark.node
def test_tus_js_client_aborted_upload_resumes_from_the_url_store(live_server, hazard_id, big_photo, tmp_path):
    path, data = big_photo
    tok = token(live_server)
    new_photo(live_server, tok, hazard_id, "JsResume00000001")
    chunk = 128 * 1024
    result = run_js({"endpoint": f"{live_server.url}/api/v1/uploads", "token": tok, "file": path,
                     "chunkSize": chunk, "mode": "abort-resume", "urlStore": str(tmp_path / "urls.json"),
                     "metadata": {"photo_id": "JsResume00000001", "filename": "a.jpg"}})
    assert result["ok"], result
    assert result["url"] == result["firstUrl"]  # the same upload continued, not a new one
    assert result["acceptedBeforeAbort"] >= 2 * chunk
    assert result["resumedFrom"] >= 2 * chunk  # the bytes sent before the abort were not sent again
    assert photo_state(live_server, tok, "JsResume00000001")["status"] == "ready"
    assert original_bytes(live_server, tok, "JsResume00000001") == data


@pytest.mark.node
def test_tus_js_client_parallel_uploads_are_concatenated(live_server, hazard_id, big_photo):
    path, data = big_photo
    tok = token(live_server)
    new_photo(live_server, tok, hazard_id, "JsParallel000001")
    result = run_js({"endpoint": f"{live_server.url}/api/v1/uploads", "token": tok, "file": path,
                     "chunkSize": 100 * 1024, "mode": "parallel", "parallel": 3,
                     "metadata": {"photo_id": "JsParallel000001", "filename": "p.jpg"}})
    assert result["ok"], result
    body = photo_state(live_server, tok, "JsParallel000001")
    assert body["status"] == "ready" and body["sha256"] == hashlib.sha256(data).hexdigest()
    assert original_bytes(live_server, tok, "JsParallel000001") == data


@pytest.mark.node
def test_tus_js_client_sees_the_422_of_a_refused_file(live_server, hazard_id, tmp_path):
    tok = token(live_server)
    new_photo(live_server, tok, hazard_id, "JsRefused0000001")
    bad = tmp_path / "renamed.jpg"
    bad.write_bytes(imagegen.pdf_bytes() * 50)
    result = run_js({"endpoint": f"{live_server.url}/api/v1/uploads", "token": tok, "file": str(bad),
                     "chunkSize": 1024, "mode": "simple", "metadata": {"photo_id": "JsRefused0000001"}})
    assert not result["ok"]
    assert result["status"] == 422 and json.loads(result["body"])["code"] == "unsupported_type"
    assert photo_state(live_server, tok, "JsRefused0000001")["status"] == "rejected"


def test_tuspy_uploads_with_sha1_checksums_and_resumes(live_server, hazard_id, big_photo, tmp_path,
                                                       monkeypatch):
    from tusclient import client as tus_client
    from tusclient.storage.filestorage import FileStorage

    from inspect_api.services.evidence import uploads as upload_service

    seen = []
    real_parse = upload_service.parse_checksum

    def recording_parse(header):
        parsed = real_parse(header)
        seen.append(parsed[0] if parsed else None)
        return parsed

    monkeypatch.setattr(upload_service, "parse_checksum", recording_parse)

    path, data = big_photo
    tok = token(live_server)
    new_photo(live_server, tok, hazard_id, "PyResume00000001")
    client = tus_client.TusClient(f"{live_server.url}/api/v1/uploads",
                                  headers={"Authorization": f"Bearer {tok}"})
    store = FileStorage(str(tmp_path / "tuspy-urls.json"))
    # tuspy leaves files it opens from a path unclosed and closes streams it is given
    # (fingerprinting): hand it in-memory streams that survive close()
    stream1, stream2 = _NoClose(data), _NoClose(data)
    try:
        first = client.uploader(file_stream=stream1, chunk_size=150 * 1024, upload_checksum=True,
                                metadata={"photo_id": "PyResume00000001"}, store_url=True, url_storage=store)
        first.upload(stop_at=300 * 1024)
        assert first.offset == 300 * 1024
        # a new process would start like this: the stored URL, an offset from HEAD
        second = client.uploader(file_stream=stream2, chunk_size=150 * 1024, upload_checksum=True,
                                 metadata={"photo_id": "PyResume00000001"}, store_url=True, url_storage=store)
        assert second.url == first.url
        assert second.offset == 300 * 1024
        second.upload()
    finally:
        store.close()
    assert second.offset == len(data)
    assert seen and set(seen) == {"sha1"}  # every chunk carried a sha1 checksum the server checked
    body = photo_state(live_server, tok, "PyResume00000001")
    assert body["status"] == "ready" and body["sha256"] == hashlib.sha256(data).hexdigest()


class _NoClose(io.BytesIO):
    def close(self):
        pass


def test_tuspy_bad_chunk_checksum_is_460(live_server, hazard_id):
    tok = token(live_server)
    headers = {"Authorization": f"Bearer {tok}", "Tus-Resumable": "1.0.0"}
    resp = requests.post(f"{live_server.url}/api/v1/uploads", timeout=30,
                         headers={**headers, "Upload-Length": "100",
                                  "Upload-Metadata": "photo_id UHlCYWQwMDAwMDAwMDAwMQ=="})
    location = resp.headers["Location"]
    resp = requests.patch(location, data=b"x" * 50, timeout=30,
                          headers={**headers, "Upload-Offset": "0",
                                   "Content-Type": "application/offset+octet-stream",
                                   "upload-checksum": "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="})
    assert resp.status_code == 460
    assert requests.head(location, headers=headers, timeout=30).headers["Upload-Offset"] == "0"


def test_an_upload_continues_on_another_app_server_sharing_database_and_storage(live_server, hazard_id):
    """State is in the database and storage only: a second app (another server process in production)
    picks up the offset and finishes the upload the first one started."""
    import threading

    from werkzeug.serving import make_server

    from inspect_api import create_app

    from ..conftest import TEST_CONFIG

    other = create_app({**TEST_CONFIG, "DATABASE_URL": live_server.app.config["DATABASE_URL"],
                        "UPLOAD_ROOT": live_server.app.config["UPLOAD_ROOT"]})
    server = make_server("127.0.0.1", 0, other, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        data = imagegen.jpeg_bytes(1200, 900, seed=42)
        tok = token(live_server)
        new_photo(live_server, tok, hazard_id, "TwoServers000001")
        headers = {"Authorization": f"Bearer {tok}", "Tus-Resumable": "1.0.0"}
        resp = requests.post(f"{live_server.url}/api/v1/uploads", timeout=30, headers={
            **headers, "Upload-Length": str(len(data)),
            "Upload-Metadata": "photo_id VHdvU2VydmVyczAwMDAwMQ=="})
        path = resp.headers["Location"].split("127.0.0.1", 1)[1].split("/", 1)[1]
        half = len(data) // 2
        octet = {**headers, "Content-Type": "application/offset+octet-stream"}
        assert requests.patch(f"{live_server.url}/{path}", data=data[:half], timeout=30,
                              headers={**octet, "Upload-Offset": "0"}).status_code == 204
        other_url = f"http://127.0.0.1:{server.server_port}/{path}"
        head = requests.head(other_url, headers=headers, timeout=30)
        assert head.headers["Upload-Offset"] == str(half)
        done = requests.patch(other_url, data=data[half:], timeout=30,
                              headers={**octet, "Upload-Offset": str(half)})
        assert done.status_code == 204
        assert photo_state(live_server, tok, "TwoServers000001")["status"] == "ready"
        with live_server.app.app_context():
            photo = _db.session.get(Photo, "TwoServers000001")
            assert photo.storage_key == original_key(hashlib.sha256(data).hexdigest())
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        with other.app_context():
            _db.engine.dispose()


def test_sync_push_racing_the_last_chunk_always_ends_ready(live_server, hazard_id):
    """The record (by sync) and the upload's last byte arrive at the same moment, on two connections."""
    import base64
    import threading

    tok = token(live_server)
    auth = {"Authorization": f"Bearer {tok}"}
    tus = {**auth, "Tus-Resumable": "1.0.0"}
    for round_no in range(5):
        photo_id = f"RacePhotoLive{round_no:03d}"
        data = imagegen.jpeg_bytes(400, 300, seed=60 + round_no)
        resp = requests.post(f"{live_server.url}/api/v1/uploads", timeout=30, headers={
            **tus, "Upload-Length": str(len(data)),
            "Upload-Metadata": "photo_id " + base64.b64encode(photo_id.encode()).decode()})
        location = resp.headers["Location"]
        octet = {**tus, "Content-Type": "application/offset+octet-stream"}
        assert requests.patch(location, data=data[:-100], timeout=30,
                              headers={**octet, "Upload-Offset": "0"}).status_code == 204
        pulled = requests.get(f"{live_server.url}/api/v1/sync?last_pulled_at=null&schema_version=1",
                              headers=auth, timeout=60).json()["timestamp"]
        raw = {"id": photo_id, "owner_table": "hazards", "owner_id": hazard_id, "_status": "created"}
        barrier = threading.Barrier(2)
        answers = {}

        def push():
            barrier.wait()
            answers["push"] = requests.post(f"{live_server.url}/api/v1/sync?last_pulled_at={pulled}",
                                            headers=auth,
                                            json={"photos": {"created": [raw], "updated": [], "deleted": []}},
                                            timeout=60).status_code

        def last_chunk():
            barrier.wait()
            answers["patch"] = requests.patch(location, data=data[-100:], timeout=60, headers={
                **octet, "Upload-Offset": str(len(data) - 100)}).status_code

        threads = [threading.Thread(target=push), threading.Thread(target=last_chunk)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == {"push": 200, "patch": 204}
        assert photo_state(live_server, tok, photo_id)["status"] == "ready", f"round {round_no}"
