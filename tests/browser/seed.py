"""Seeding a notice with hazards and photos through the real services."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from inspect_api.models import utcnow
from inspect_api.services import hazards as hazards_service
from inspect_api.services import notices as notices_service
from inspect_api.services import photos as photos_service
from inspect_api.services.actor import Actor


def jpeg_bytes(color=(200, 40, 40), size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def add_photo(session, storage, actor, owner_table, owner_id, color=(200, 40, 40)):
    return photos_service.ingest_photo_file(
        session, storage, actor, None, owner_table, owner_id, io.BytesIO(jpeg_bytes(color)), "p.jpg",
        "image/jpeg", photos_service.UploadLimits())


def seed_notice(session, world, storage, *, enterprise=None, descriptions=None, deadline_days=10,
                photo=True, grade="general"):
    """Inspector1 (with inspector2) records hazards at an enterprise and issues a notice."""
    inspector = Actor(world["inspector1"], None, "seed")
    ent = enterprise or world.ent1
    hazards = []
    for i, text in enumerate(descriptions or ["储罐区防火堤破损", "消防通道被杂物堵塞"]):
        h = hazards_service.create_hazard(session, inspector, {
            "enterprise_id": ent.id, "description": text, "location": f"{i + 1}号罐区",
            "grade": grade, "basis": "《危险化学品安全管理条例》第二十条",
        })
        if photo:
            add_photo(session, storage, inspector, "hazards", h.id)
        hazards.append(h)
    notice = notices_service.issue_notice(session, inspector, {
        "hazard_ids": [h.id for h in hazards], "deadline_at": utcnow() + timedelta(days=deadline_days),
        "officer2_id": world["inspector2"].id, "safety_measures": "整改期间设置警戒区，专人看护",
    }, "131100")
    session.flush()
    return notice, hazards
