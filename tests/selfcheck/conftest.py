"""A world for the self-inspection tests: enterprise1 (桃城区) with one major hazard source whose three duty
holders are portal accounts of enterprise1, a second account of enterprise1 that holds no duty, and the
bureau's check duties (operational weekly, technical every 14 days, principal every 30 days)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from inspect_api.services.access.actor import Actor
from inspect_api.services.selfcheck import duties, sources

from .. import factories


@dataclass
class Plant:
    source: object
    holders: dict  # role -> DutyHolder
    accounts: dict  # role -> User, plus "other" (no duty)


@pytest.fixture()
def plant(db, world):
    accounts = {role: factories.user(db, f"ent1_{role}", "enterprise", enterprise_id=world.ent1.id,
                                     display_name=name)
                for role, name in (("principal", "王建国"), ("technical", "李工"), ("operational", "张班长"))}
    accounts["other"] = factories.user(db, "ent1_clerk", "enterprise", enterprise_id=world.ent1.id)
    owner = Actor(user=world["enterprise1"])
    source = sources.create_source(db, owner, {"name": "一号罐区", "grade": 3, "units": "储罐区 T101–T104",
                                               "substances": "甲醇、乙酸乙酯"})
    holders = {role: sources.appoint_holder(db, owner, source, {
        "role": role, "name": accounts[role].display_name, "post": "岗位", "phone": "13812345678",
        "user_id": accounts[role].id}) for role in ("principal", "technical", "operational")}
    sup = Actor(user=world["supervisor_taocheng"])
    for role, days in (("operational", 7), ("technical", 14), ("principal", 30)):
        duties.set_duty(db, sup, {"role": role, "every_days": days, "basis": "本局规定（测试）"})
    db.commit()
    return Plant(source, holders, accounts)
