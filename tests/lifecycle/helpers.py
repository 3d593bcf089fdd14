"""Builders for lifecycle tests: they add and flush, never commit."""
from __future__ import annotations

from datetime import timedelta

from inspect_api.models import Hazard, Inspection, Notice, Photo, utcnow
from inspect_api.services.access.actor import Actor


def actor(user, ip="127.0.0.1", device_id=None) -> Actor:
    return Actor(user=user, device_id=device_id, ip=ip)


def inspection(session, world, enterprise=None, lead="inspector1", co="inspector2") -> Inspection:
    ent = enterprise or world.ent1
    insp = Inspection(enterprise_id=ent.id, region_code=ent.region_id, lead_inspector_id=world[lead].id,
                      co_inspector_id=world[co].id, started_at=utcnow(), status="submitted")
    session.add(insp)
    session.flush()
    return insp


def hazard(session, world, enterprise=None, status="found", grade="general", description="储罐区可燃气体报警器失效",
           inspection=None, **kw) -> Hazard:
    ent = enterprise or world.ent1
    h = Hazard(enterprise_id=ent.id, region_code=ent.region_id, description=description, grade=grade,
               status=status, inspection_id=inspection.id if inspection else None, **kw)
    session.add(h)
    session.flush()
    return h


def notice(session, world, enterprise=None, deadline_days=15) -> Notice:
    ent = enterprise or world.ent1
    n = Notice(enterprise_id=ent.id, region_code=ent.region_id, deadline_at=utcnow() + timedelta(days=deadline_days),
               issued_at=utcnow(), officer1_id=world["inspector1"].id, officer2_id=world["inspector2"].id)
    session.add(n)
    session.flush()
    return n


def ready_photo(session, owner_table, owner_id, enterprise=None, status="ready") -> Photo:
    p = Photo(owner_table=owner_table, owner_id=owner_id, status=status, sha256="0" * 64,
              enterprise_id=enterprise.id if enterprise else None,
              region_code=enterprise.region_id if enterprise else None, content_type="image/jpeg")
    session.add(p)
    session.flush()
    return p
