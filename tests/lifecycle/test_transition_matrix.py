"""Every action × every state × every role: the table allows exactly what the product says.

EXPECTED below is written from shared/PRODUCT.md and the issue text, independently of
services/hazards.TRANSITIONS; the tests check the service against it.
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from inspect_api.errors import NotFound
from inspect_api.models import (
    AuditEvent, RecheckSample, RecheckTask, Rectification, RemediationPlan, Review, utcnow,
)
from inspect_api.services.lifecycle.hazards import TRANSITIONS, InvalidTransition, allowed_actions, transition

from . import helpers

STATES = ["found", "ordered", "acknowledged", "reported", "rejected", "verified", "closed"]
ROLES = {"admin": "admin", "supervisor": "supervisor_taocheng", "inspector": "inspector1",
         "enterprise": "enterprise1"}
ACTIONS = ["order", "acknowledge", "report", "accept", "reject", "close_on_spot", "grade", "set_deadline", "list",
           "close", "self_close", "reopen"]
OPEN = [s for s in STATES if s != "closed"]

EXPECTED = {  # (action, from state, role) -> to state
    ("order", "found", "inspector"): "ordered",
    ("acknowledge", "ordered", "enterprise"): "acknowledged",
    ("report", "acknowledged", "enterprise"): "reported",
    ("report", "rejected", "enterprise"): "reported",
    ("report", "found", "enterprise"): "reported",  # a self-found hazard (企业自查): no notice orders it
    ("self_close", "found", "enterprise"): "closed",  # a self-found general hazard, closed by the enterprise
    ("reopen", "closed", "inspector"): "found",  # 地方复核: the enterprise's closure was wrong
    ("accept", "reported", "inspector"): "closed",  # general; a major hazard goes to verified
    ("reject", "reported", "inspector"): "rejected",
    ("close_on_spot", "found", "inspector"): "closed",
    ("close", "verified", "supervisor"): "closed",
    **{("grade", s, "inspector"): s for s in ("found", "ordered", "acknowledged", "rejected")},
    **{("set_deadline", s, "inspector"): s for s in ("ordered", "acknowledged", "rejected")},
    **{("list", s, "supervisor"): s for s in OPEN},
}

FORBIDDEN = [c for c in itertools.product(ACTIONS, STATES, ROLES) if c not in EXPECTED]


def _params(db, world, hazard, action):
    """Arguments that satisfy the guard of `action` for this hazard."""
    if action == "order":
        return {"deadline_at": utcnow() + timedelta(days=10), "notice": helpers.notice(db, world)}
    if action in ("report", "self_close"):
        rect = Rectification(hazard_id=hazard.id, enterprise_id=hazard.enterprise_id, region_code=hazard.region_code,
                             description="已整改", status="pending")
        db.add(rect)
        db.flush()
        return {"rectification": rect}
    if action in ("accept", "reject"):
        rect = Rectification(hazard_id=hazard.id, enterprise_id=hazard.enterprise_id, region_code=hazard.region_code,
                             description="已整改", status="pending")
        db.add(rect)
        db.flush()
        review = Review(rectification_id=rect.id, hazard_id=hazard.id, enterprise_id=hazard.enterprise_id,
                        region_code=hazard.region_code, reviewer_id=world["inspector1"].id,
                        result="accepted" if action == "accept" else "rejected", opinion="复查意见")
        db.add(review)
        db.flush()
        return {"review": review}
    if action == "close_on_spot":
        helpers.ready_photo(db, "hazards", hazard.id, world.ent1)
        return {"co_inspector_id": world["inspector2"].id}
    if action == "grade":
        return {"grade": "major", "major_criterion_code": "HC2017-02"}
    if action == "set_deadline":
        return {"deadline_at": utcnow() + timedelta(days=20)}
    if action == "reopen":
        sample = RecheckSample(region_code="131102", period_from=date(2026, 1, 1), period_to=date(2026, 12, 31),
                               size=1, seed="00", algorithm="test", candidates=[hazard.id], drawn=[hazard.id],
                               drawn_by_id=world["supervisor_taocheng"].id)
        db.add(sample)
        db.flush()
        task = RecheckTask(sample_id=sample.id, position=1, hazard_id=hazard.id, enterprise_id=hazard.enterprise_id,
                           region_code=hazard.region_code)
        db.add(task)
        db.flush()
        return {"recheck": task}
    return {}


def _hazard_for(db, world, action, state):
    grade = "major" if action in ("list", "close") else "general"
    hz = helpers.hazard(db, world, status=state, grade=grade)
    if action in ("self_close", "reopen") or (action == "report" and state == "found"):
        hz.origin = "self"
    if action == "close":
        hz.listing_level = "county"
        db.add(RemediationPlan(hazard_id=hz.id, responsibility="安全副总", measures="更换", funds=Decimal("1000"),
                               time_limit=date.today() + timedelta(days=30), contingency="应急预案"))
        db.flush()
    return hz


def test_the_transition_table_allows_exactly_the_expected_steps():
    table = {(a, s, r): step.target for a, step in TRANSITIONS.items() for s in step.sources for r in step.roles}
    assert set(table) == set(EXPECTED)
    assert sorted(TRANSITIONS) == sorted(ACTIONS)


@pytest.mark.parametrize("action,state,role", sorted(EXPECTED))
def test_allowed_step_succeeds_and_is_recorded(db, world, action, state, role):
    hz = _hazard_for(db, world, action, state)
    params = _params(db, world, hz, action)
    seq, version = hz.sync_seq, hz.version
    assert action in allowed_actions(hz, role)
    user = world[ROLES[role]]
    transition(db, helpers.actor(user, ip="10.1.2.3", device_id=None), hz, action, reason="测试", **params)
    assert hz.status == EXPECTED[(action, state, role)]
    assert hz.version == version + 1 and hz.sync_seq > seq, "tablets must see the change"
    events = db.query(AuditEvent).filter_by(object_table="hazards", object_id=hz.id).all()
    assert [(e.action, e.from_state, e.to_state, e.actor_id, e.ip, e.reason) for e in events] == [
        (f"hazard.{action}", state, hz.status, user.id, "10.1.2.3", "测试")]


def test_accepting_a_major_hazard_leaves_it_verified_for_a_supervisor(db, world):
    hz = helpers.hazard(db, world, status="reported", grade="major")
    params = _params(db, world, hz, "accept")
    transition(db, helpers.actor(world["inspector1"]), hz, "accept", **params)
    assert hz.status == "verified" and hz.closed_at is None


@pytest.mark.parametrize("action,state,role", FORBIDDEN)
def test_forbidden_step_is_refused_and_changes_nothing(db, world, action, state, role):
    hz = _hazard_for(db, world, action, state)
    params = _params(db, world, hz, action)
    db.commit()
    before = (hz.status, hz.version, hz.sync_seq, hz.deadline_at, hz.grade, hz.listing_level, hz.closed_at)
    with pytest.raises(InvalidTransition) as info:
        transition(db, helpers.actor(world[ROLES[role]]), hz, action, **params)
    assert info.value.status == 409 and info.value.code == "invalid_transition"
    assert info.value.details["reason"] in ("role", "state")
    db.rollback()
    db.expire_all()
    assert (hz.status, hz.version, hz.sync_seq, hz.deadline_at, hz.grade, hz.listing_level, hz.closed_at) == before
    assert db.query(AuditEvent).filter_by(object_table="hazards", object_id=hz.id).count() == 0


@pytest.mark.parametrize("username", ["inspector3", "enterprise2"])
@pytest.mark.parametrize("action", ACTIONS)
def test_out_of_scope_user_gets_not_found_for_every_action(db, world, username, action):
    state = next(s for (a, s, r) in sorted(EXPECTED) if a == action)
    hz = _hazard_for(db, world, action, state)
    params = _params(db, world, hz, action)
    db.flush()
    version = hz.version
    with pytest.raises(NotFound):
        transition(db, helpers.actor(world[username]), hz, action, **params)
    assert hz.status == state and hz.version == version


def test_unknown_action_is_an_invalid_transition(db, world):
    hz = helpers.hazard(db, world)
    with pytest.raises(InvalidTransition) as info:
        transition(db, helpers.actor(world["inspector1"]), hz, "teleport")
    assert info.value.details["reason"] == "unknown_action" and hz.status == "found"


def test_an_inspectors_finding_cannot_be_reported_before_its_notice(db, world):
    hz = helpers.hazard(db, world, status="found")
    params = _params(db, world, hz, "report")
    with pytest.raises(InvalidTransition) as info:
        transition(db, helpers.actor(world["enterprise1"]), hz, "report", **params)
    assert info.value.details["reason"] == "guard"


@pytest.mark.parametrize("origin,grade", [("inspection", "general"), ("self", "major")])
def test_the_enterprise_closes_only_its_own_general_findings(db, world, origin, grade):
    hz = helpers.hazard(db, world, status="found", grade=grade)
    hz.origin = origin
    params = _params(db, world, hz, "self_close")
    with pytest.raises(InvalidTransition) as info:
        transition(db, helpers.actor(world["enterprise1"]), hz, "self_close", **params)
    assert info.value.details["reason"] == "guard" and hz.status == "found"


def test_a_closed_inspectors_finding_is_not_reopened_by_a_recheck(db, world):
    hz = helpers.hazard(db, world, status="closed")
    params = _params(db, world, hz, "reopen")
    with pytest.raises(InvalidTransition):
        transition(db, helpers.actor(world["inspector1"]), hz, "reopen", **params)
