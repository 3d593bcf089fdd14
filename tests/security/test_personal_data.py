"""Personal data (等保三级 8.1.4.8 / 8.1.4.11): phone numbers sealed at rest, masked wherever shown, whole only
through an audited view, found by their keyed index, readable across a master-key rotation (AES-GCM and
SM4-GCM)."""
from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import select, text

from inspect_api.extensions import db as _db
from inspect_api.models import AuditEvent, Enterprise
from inspect_api.services.security import crypto

PHONE = "13912345678"


@pytest.fixture()
def contact(db, world):
    ent = world.ent1
    ent.safety_contact = "王安全"
    ent.contact_phone = PHONE
    db.commit()
    return ent


def _dump(db) -> str:
    """Every row of every table as text, as a database dump would hold it."""
    out = []
    for table in [t.name for t in _db.metadata.sorted_tables]:
        for row in db.execute(text(f'SELECT * FROM "{table}"')):
            out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_a_phone_is_sealed_at_rest_and_no_dump_holds_it_in_the_clear(db, contact):
    raw = db.execute(text("SELECT contact_phone FROM enterprises WHERE id = :id"), {"id": contact.id}).scalar()
    assert raw.startswith("e1:aes-gcm:") and PHONE not in raw
    assert PHONE not in _dump(db) and "12345678" not in _dump(db)
    db.expire_all()
    assert db.get(Enterprise, contact.id).contact_phone == PHONE  # the application reads it


def test_lists_show_it_masked_and_the_whole_number_is_an_audited_view(db, client, auth, contact):
    body = client.get(f"/api/v1/enterprises/{contact.id}", headers=auth.headers("inspector1")).get_json()
    assert body["contact_phone"] == "139****5678"
    listed = client.get("/api/v1/enterprises", headers=auth.headers("supervisor")).get_json()
    assert PHONE not in str(listed)
    whole = client.get(f"/api/v1/enterprises/{contact.id}/contact", headers=auth.headers("inspector1"))
    assert whole.status_code == 200 and whole.get_json()["contact_phone"] == PHONE
    views = db.scalars(select(AuditEvent).where(AuditEvent.action == "pii.view")).all()
    assert [(v.object_id, v.actor_username) for v in views] == [(contact.id, "inspector1")]
    for other in ("enterprise2", "inspector3"):
        assert client.get(f"/api/v1/enterprises/{contact.id}/contact", headers=auth.headers(other)).status_code \
            in (403, 404)


def test_a_search_by_the_number_finds_it_through_the_keyed_index_and_shows_it_masked(client, auth, contact):
    found = client.get("/api/v1/enterprises?phone=139-1234-5678", headers=auth.headers("supervisor")).get_json()
    assert [e["id"] for e in found] == [contact.id] and found[0]["contact_phone"] == "139****5678"
    assert client.get("/api/v1/enterprises?phone=13900000000", headers=auth.headers("supervisor")).get_json() == []


@pytest.mark.parametrize("cipher,size", [("aes-gcm", 32), ("sm4-gcm", 16)])
def test_rotating_the_master_key_leaves_every_value_readable(app, db, contact, cipher, size):
    old = crypto.ring()
    first = crypto.KeyRing(keys={"k1": os.urandom(size)}, current="k1", cipher=cipher, index_key=old.index_key)
    second = crypto.KeyRing(keys={**first.keys, "k2": os.urandom(size)}, current="k2", cipher=cipher,
                            index_key=old.index_key)
    from inspect_api.models.base import set_sealer

    try:
        crypto.configure(first)
        set_sealer(first)
        contact.contact_phone = "13700001111"
        db.commit()
        raw = db.execute(text("SELECT contact_phone FROM enterprises WHERE id = :id"), {"id": contact.id}).scalar()
        assert raw.startswith(f"e1:{cipher}:k1:")
        crypto.configure(second)
        set_sealer(second)
        out = app.test_cli_runner().invoke(args=["security", "rotate-data-key"])
        assert out.exit_code == 0 and "re-sealed under key k2" in out.output
        raw = db.execute(text("SELECT contact_phone FROM enterprises WHERE id = :id"), {"id": contact.id}).scalar()
        assert raw.startswith(f"e1:{cipher}:k2:")
        db.expire_all()
        assert db.get(Enterprise, contact.id).contact_phone == "13700001111"
        # without the key a value was sealed under, it is never read as something else
        lost = crypto.KeyRing(keys={"k3": os.urandom(size)}, current="k3", cipher=cipher)
        with pytest.raises(crypto.DecryptionError):
            lost.decrypt(raw)
    finally:
        crypto.configure(old)
        set_sealer(old)


def test_a_tampered_sealed_value_is_refused_not_misread():
    ring = crypto.KeyRing(keys={"k": base64.b64decode(base64.b64encode(os.urandom(32)))}, current="k")
    sealed = ring.encrypt(PHONE)
    parts = sealed.split(":")
    body = bytearray(base64.b64decode(parts[4]))
    body[14] ^= 1
    parts[4] = base64.b64encode(bytes(body)).decode()
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt(":".join(parts))
    assert ring.decrypt(sealed) == PHONE
