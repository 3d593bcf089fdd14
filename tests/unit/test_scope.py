"""Object-level authorization: which rows each role sees (services/scope.py)."""
import pytest
from sqlalchemy import select

from inspect_api.errors import NotFound
from inspect_api.models import Enterprise, Hazard, Inspection, region_prefix
from inspect_api.services.access.scope import get_scoped, scoped


@pytest.mark.parametrize("code,prefix", [("130000", "13"), ("131100", "1311"), ("131102", "131102"),
                                         ("131182", "131182"), ("131102001", "131102001")])
def test_region_prefix_covers_the_gbt2260_subtree(code, prefix):
    assert region_prefix(code) == prefix


def _hazard(db, ent, desc):
    insp = Inspection(enterprise_id=ent.id, region_code=ent.region_id, status="draft")
    db.add(insp)
    db.flush()
    h = Hazard(inspection_id=insp.id, enterprise_id=ent.id, region_code=ent.region_id, description=desc)
    db.add(h)
    db.flush()
    return h


def _visible(db, model, user):
    return {o.id for o in db.scalars(scoped(select(model), model, user))}


def test_each_role_sees_exactly_its_scope(db, world):
    h1 = _hazard(db, world.ent1, "储罐区未设置可燃气体报警")
    h2 = _hazard(db, world.ent2, "特殊作业票证不全")
    h3 = _hazard(db, world.ent_shenzhou, "静电接地失效")
    assert _visible(db, Hazard, world["admin"]) >= {h1.id, h2.id, h3.id}
    assert _visible(db, Hazard, world["supervisor"]) >= {h1.id, h2.id, h3.id}
    assert _visible(db, Hazard, world["supervisor_taocheng"]) == {h1.id, h2.id}
    assert _visible(db, Hazard, world["inspector1"]) == {h1.id, h2.id}
    assert _visible(db, Hazard, world["inspector3"]) == {h3.id}
    assert _visible(db, Hazard, world["enterprise1"]) == {h1.id}
    assert _visible(db, Hazard, world["enterprise2"]) == {h2.id}
    assert _visible(db, Enterprise, world["inspector3"]) == {world.ent_shenzhou.id}
    assert _visible(db, Enterprise, world["enterprise1"]) == {world.ent1.id}


def test_another_scopes_object_is_not_found(db, world):
    h3 = _hazard(db, world.ent_shenzhou, "静电接地失效")
    assert get_scoped(db, Hazard, h3.id, world["inspector3"]).id == h3.id
    for name in ("inspector1", "supervisor_taocheng", "enterprise1"):
        with pytest.raises(NotFound):
            get_scoped(db, Hazard, h3.id, world[name])


def test_disabled_user_sees_nothing(db, world):
    _hazard(db, world.ent1, "x")
    user = world["inspector1"]
    user.is_active = False
    assert _visible(db, Hazard, user) == set()


def test_staff_without_jurisdiction_sees_nothing(db, world):
    _hazard(db, world.ent1, "x")
    user = world["inspector1"]
    user.region_id = None
    assert _visible(db, Hazard, user) == set()
