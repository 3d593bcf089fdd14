"""Factories: they add and flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass, field

from inspect_api.models import Enterprise, Region, User
from inspect_api.services.accounts import passwords

PASSWORD = "test-pass-123"

COUNTIES = [
    ("131102", "桃城区", "市辖区"), ("131103", "冀州区", "市辖区"), ("131121", "枣强县", "县"),
    ("131122", "武邑县", "县"), ("131123", "武强县", "县"), ("131124", "饶阳县", "县"),
    ("131125", "安平县", "县"), ("131126", "故城县", "县"), ("131127", "景县", "县"),
    ("131128", "阜城县", "县"), ("131182", "深州市", "县级市"),
]

# Credit codes that pass the GB 32100 check (see tests/unit/test_uscc.py)
VALID_USCC = ["91350100M000100Y43", "91350200776049653A", "91440101MA5CJQ4N59",
              "9135021359498494XQ", "91350213678251743X"]


def uscc(seed: int, region: str = "131102") -> str:
    from inspect_api.services.registry.uscc import make_uscc

    return make_uscc(region, seed)


def region_tree(session) -> None:
    if session.get(Region, "130000") is None:
        session.add(Region(id="130000", name="河北省", parent_id=None, level=1, kind="省"))
        session.add(Region(id="131100", name="衡水市", parent_id="130000", level=2, kind="地级市"))
        session.flush()
        for code, name, kind in COUNTIES:
            session.add(Region(id=code, name=name, parent_id="131100", level=3, kind=kind))
        session.flush()


def enterprise(session, name: str, region: str = "131102", seed: int | None = None, **kw) -> Enterprise:
    seed = seed if seed is not None else abs(hash(name)) % 10_000_000
    ent = Enterprise(name=name, uscc=uscc(seed, region), region_id=region, **kw)
    session.add(ent)
    session.flush()
    return ent


_counter = [0]


def user(session, username: str, role: str, region: str | None = None, enterprise_id: str | None = None,
         certificate_no: str | None = None, password: str = PASSWORD, **kw) -> User:
    if role == "inspector" and certificate_no is None:
        _counter[0] += 1
        certificate_no = f"T13110{_counter[0]:04d}"
    u = User(username=username, display_name=kw.pop("display_name", username),
             password_hash=passwords.hash_password(password), role=role, region_id=region,
             enterprise_id=enterprise_id, certificate_no=certificate_no, **kw)
    session.add(u)
    session.flush()
    return u


@dataclass
class World:
    ent1: Enterprise
    ent2: Enterprise
    ent_shenzhou: Enterprise
    users: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.users[name]


def build_world(session) -> World:
    region_tree(session)
    ent1 = enterprise(session, "衡水示例化工有限公司", "131102", seed=101, industry="C26", risk_color="orange",
                      major_hazard_level=3)
    ent2 = enterprise(session, "衡水第二化学品有限公司", "131102", seed=102, industry="C26", risk_color="yellow")
    ent3 = enterprise(session, "深州危化储运有限公司", "131182", seed=103, industry="F51", risk_color="blue")
    w = World(ent1=ent1, ent2=ent2, ent_shenzhou=ent3)
    w.users["admin"] = user(session, "admin", "admin")
    w.users["supervisor"] = user(session, "supervisor", "supervisor", region="131100")
    w.users["supervisor_taocheng"] = user(session, "supervisor_taocheng", "supervisor", region="131102")
    w.users["inspector1"] = user(session, "inspector1", "inspector", region="131102")
    w.users["inspector2"] = user(session, "inspector2", "inspector", region="131102")
    w.users["inspector3"] = user(session, "inspector3", "inspector", region="131182")
    w.users["enterprise1"] = user(session, "enterprise1", "enterprise", enterprise_id=ent1.id)
    w.users["enterprise2"] = user(session, "enterprise2", "enterprise", enterprise_id=ent2.id)
    return w
