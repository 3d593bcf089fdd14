"""Fixtures for the photo tests: owner records and a small tus client over the Flask test client."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest

from inspect_api.models import Hazard, Inspection, Photo, Rectification

from ..storage.conftest import moto_s3  # noqa: F401  (shared fixture)
from . import imagegen

TUS = {"Tus-Resumable": "1.0.0"}


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def metadata(**kw) -> str:
    return ",".join(f"{k} {b64(v)}" for k, v in kw.items())


@dataclass
class Owners:
    inspection: Inspection
    hazard: Hazard
    rectification: Rectification
    hazard_ent2: Hazard
    hazard_shenzhou: Hazard


def make_owners(session, world) -> Owners:
    ins = Inspection(enterprise_id=world.ent1.id, region_code="131102",
                     lead_inspector_id=world["inspector1"].id)
    session.add(ins)
    session.flush()
    hz = Hazard(enterprise_id=world.ent1.id, region_code="131102", inspection_id=ins.id,
                description="储罐区防火堤破损")
    hz2 = Hazard(enterprise_id=world.ent2.id, region_code="131102", description="消防通道堵塞")
    hz3 = Hazard(enterprise_id=world.ent_shenzhou.id, region_code="131182", description="静电接地缺失")
    session.add_all([hz, hz2, hz3])
    session.flush()
    rect = Rectification(hazard_id=hz.id, enterprise_id=world.ent1.id, region_code="131102",
                         description="已修复防火堤")
    session.add(rect)
    session.flush()
    return Owners(ins, hz, rect, hz2, hz3)


def make_photo(session, owner, owner_table: str, photo_id: str | None = None, **kw) -> Photo:
    photo = Photo(owner_table=owner_table, owner_id=owner.id, enterprise_id=owner.enterprise_id,
                  region_code=owner.region_code, status="pending", **kw)
    if photo_id:
        photo.id = photo_id
    session.add(photo)
    session.flush()
    return photo


@pytest.fixture()
def owners(db, world):
    o = make_owners(db, world)
    db.commit()
    return o


class TusClient:
    """Just enough of a tus client over Flask's test client to test the protocol by hand."""

    def __init__(self, client, headers):
        self.client = client
        self.headers = {**TUS, **headers}

    def create(self, length: int | None, meta: dict | None = None, extra: dict | None = None,
               data: bytes = b""):
        headers = dict(self.headers)
        if length is not None:
            headers["Upload-Length"] = str(length)
        if meta:
            headers["Upload-Metadata"] = metadata(**meta)
        if data:
            headers["Content-Type"] = "application/offset+octet-stream"
        headers.update(extra or {})
        return self.client.post("/api/v1/uploads", headers=headers, data=data)

    def patch(self, location: str, offset: int, data: bytes, extra: dict | None = None):
        headers = {**self.headers, "Upload-Offset": str(offset),
                   "Content-Type": "application/offset+octet-stream"}
        headers.update(extra or {})
        return self.client.patch(location, headers=headers, data=data)

    def head(self, location: str):
        return self.client.head(location, headers=self.headers)

    def delete(self, location: str):
        return self.client.delete(location, headers=self.headers)

    def upload(self, data: bytes, photo_id: str, chunk: int = 64 * 1024, **meta):
        resp = self.create(len(data), {"photo_id": photo_id, **meta})
        assert resp.status_code == 201, resp.get_json()
        location = resp.headers["Location"]
        offset = 0
        last = resp
        while offset < len(data):
            last = self.patch(location, offset, data[offset:offset + chunk])
            if last.status_code != 204:
                return location, last
            offset = int(last.headers["Upload-Offset"])
        return location, last


@pytest.fixture()
def tus_for(client, auth):
    def make(username: str) -> TusClient:
        return TusClient(client, auth.headers(username))

    return make


def sha1_header(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


@pytest.fixture(scope="session")
def sample_jpeg() -> bytes:
    return imagegen.jpeg_bytes(1600, 1200, seed=1, orientation=6)
