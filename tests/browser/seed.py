"""Seeding a notice with hazards and photos through the real services."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from inspect_api.models import utcnow
from inspect_api.services.lifecycle import hazards as hazards_service
from inspect_api.services.lifecycle import notices as notices_service
from inspect_api.services.evidence import photos as photos_service
from inspect_api.services.access.actor import Actor


def jpeg_bytes(color=(200, 40, 40), size=(640, 480)) -> bytes:
    """A small photo-like JPEG: sky, ground, a storage tank on a bund wall; ``color`` tints the wall."""
    from PIL import ImageDraw

    w, h = size
    im = Image.new("RGB", size, (170, 200, 230))
    draw = ImageDraw.Draw(im)
    for y in range(h // 2):
        shade = int(150 + 80 * y / (h / 2))
        draw.line([(0, y), (w, y)], fill=(shade - 40, shade - 10, 240))
    draw.rectangle([0, h * 0.62, w, h], fill=(120, 115, 105))
    draw.rectangle([w * 0.3, h * 0.25, w * 0.7, h * 0.68], fill=(225, 225, 220), outline=(90, 90, 90),
                   width=3)
    draw.ellipse([w * 0.3, h * 0.2, w * 0.7, h * 0.3], fill=(235, 235, 230), outline=(90, 90, 90), width=3)
    draw.rectangle([w * 0.1, h * 0.66, w * 0.9, h * 0.78], fill=color, outline=(60, 60, 60), width=2)
    return _save(im)


def _save(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=82)
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
