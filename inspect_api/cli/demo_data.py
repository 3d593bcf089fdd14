"""Demo data: the Hengshui region tree, ~30 enterprises in the eleven counties, the two checklists, the
demo users, and a year of supervision that gives every role work (cli/demo_year.py).

``seed_demo`` is idempotent: run twice, the second run creates and updates
nothing and writes no audit event (existing users keep their passwords). The
data lives in inspect_api/data/*.json; the CLI command ``seed-demo`` calls
this and commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Enterprise, Region, User, allocate_seq
from ..services.accounts import users as user_service
from ..services.access.actor import Actor
from .demo_selfcheck import seed_selfcheck
from ..services.access.audit import record_event
from ..services.registry.checklists import import_checklist
from ..services.registry.enterprises import apply_update, check_fields, create_enterprise
from ..services.registry.uscc import make_uscc
from .demo_criteria import seed_criteria
from .demo_casefile import seed_casefile
from .demo_planning import seed_planning

CHECKLIST_FILES = ("checklist_major_hazards_2017.json", "checklist_general_2019.json")

# username, role, region, enterprise login key, certificate (执法证号), name (shown wherever the person
# appears: people are shown by name, never by username)
DEMO_USERS = (
    ("admin", "admin", None, None, None, "孙立平"),
    ("security_admin", "security_admin", None, None, None, "陈安宁"),
    ("audit_admin", "audit_admin", None, None, None, "郑审言"),
    ("supervisor", "supervisor", "131100", None, None, "刘卫东"),
    ("supervisor_taocheng", "supervisor", "131102", None, None, "张丽娜"),
    ("inspector1", "inspector", "131102", None, "13110221001", "王强"),
    ("inspector2", "inspector", "131102", None, "13110221002", "李明"),
    ("inspector3", "inspector", "131182", None, "13118221001", "赵磊"),
    ("inspector4", "inspector", "131100", None, "13110021001", "周涛"),
    ("inspector5", "inspector", "131100", None, "13110021002", "吴敏"),
    ("enterprise1", "enterprise", None, "enterprise1", None, "王建国"),
    ("enterprise2", "enterprise", None, "enterprise2", None, "李秀兰"),
)

def load_data(name: str) -> dict:
    return json.loads(resources.files("inspect_api").joinpath("data", name).read_text(encoding="utf-8"))


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class SeedReport:
    regions: Tally = field(default_factory=Tally)
    enterprises: Tally = field(default_factory=Tally)
    users: Tally = field(default_factory=Tally)
    activity: Tally = field(default_factory=Tally)
    checklists: dict = field(default_factory=dict)  # code -> action
    user_table: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        tallies = (self.regions, self.enterprises, self.users, self.activity)
        return any(t.created or t.updated for t in tallies) or any(
            a != "unchanged" for a in self.checklists.values())

    def as_dict(self) -> dict:
        return {"regions": self.regions.as_dict(), "enterprises": self.enterprises.as_dict(),
                "users": self.users.as_dict(), "activity": self.activity.as_dict(),
                "checklists": dict(self.checklists), "user_table": self.user_table}


def seed_regions(session: Session, actor: Actor, tally: Tally) -> None:
    for spec in load_data("regions_hengshui.json")["regions"]:
        wanted = {"name": spec["name"], "parent_id": spec["parent"], "level": spec["level"],
                  "kind": spec["kind"]}
        region = session.get(Region, spec["code"])
        if region is None:
            region = Region(id=spec["code"], **wanted)
            session.add(region)
            session.flush()  # children refer to it
            record_event(session, actor, "region.created", region, data={"code": spec["code"], **wanted})
            tally.created += 1
            continue
        changes = {k: [getattr(region, k), v] for k, v in wanted.items() if getattr(region, k) != v}
        if changes:
            for k, (_old, new) in changes.items():
                setattr(region, k, new)
            record_event(session, actor, "region.updated", region, data=changes)
            tally.updated += 1
        else:
            tally.unchanged += 1
    session.flush()


def seed_enterprises(session: Session, actor: Actor, tally: Tally) -> dict[str, Enterprise]:
    """The demo enterprises (matched on their credit codes); returns {login key: enterprise}."""
    specs = load_data("demo_enterprises.json")["enterprises"]
    codes = {s["seed"]: make_uscc(s["region_code"], s["seed"]) for s in specs}
    found = session.scalars(select(Enterprise).where(Enterprise.uscc.in_(codes.values())))
    existing = {e.uscc: e for e in found}
    known_regions = set(session.scalars(select(Region.id)))
    by_login = {}
    for spec in specs:
        data = {k: v for k, v in spec.items() if k not in ("seed", "login")}
        data["uscc"] = codes[spec["seed"]]
        data = check_fields(session, data, regions=known_regions)
        ent = existing.get(data["uscc"])
        if ent is None:
            ent = create_enterprise(session, actor, data, checked=True, flush=False)
            tally.created += 1
        elif apply_update(session, actor, ent, data, reason="seed-demo"):
            tally.updated += 1
        else:
            tally.unchanged += 1
        if spec.get("login"):
            by_login[spec["login"]] = ent
    session.flush()
    return by_login


def seed_checklists(session: Session, actor: Actor) -> dict:
    actions = {}
    for name in CHECKLIST_FILES:
        doc = load_data(name)
        report = import_checklist(session, actor, doc, fmt="json", publish=True)
        if report.failed:
            raise RuntimeError(f"demo checklist {name} is invalid: {report.errors}")
        actions[report.code] = report.action
    return actions


def seed_users(session: Session, actor: Actor, password: str, enterprises: dict[str, Enterprise],
               tally: Tally) -> list[dict]:
    from ..services.accounts import passwords

    table = []
    hashed = None
    for username, role, region, login, certificate, display in DEMO_USERS:
        user = session.scalars(select(User).where(User.username == username)).first()
        ent = enterprises.get(login) if login else None
        if user is None:
            hashed = hashed or passwords.hash_password(password)  # one hash for the one demo password
            user = user_service.create_user(session, actor, {
                "username": username, "password": password, "role": role, "region_code": region,
                "enterprise_id": ent.id if ent else None, "certificate_no": certificate,
                "display_name": display, "must_change_password": False,
            }, check_policy=False, password_hash=hashed)  # the README's demo password (development only)
            tally.created += 1
            state = "created"
        else:
            tally.unchanged += 1
            state = "exists"
        table.append({"username": user.username, "role": user.role, "region_code": user.region_id,
                      "enterprise": user.enterprise.name if user.enterprise_id and user.enterprise else None,
                      "certificate_no": user.certificate_no, "display_name": user.display_name,
                      "state": state})
    return table


def seed_demo(session: Session, actor: Actor | None = None, *, password: str, bureau_code: str = "131100",
              activity: bool = True, storage=None) -> SeedReport:
    """Seed everything; flushes, never commits. ``storage`` (the app's) receives the demo photos; without it
    the app context's storage is used, and outside an app context the hazards get no photos."""
    from .demo_year import seed_year

    actor = actor or Actor.system("seed-demo")
    allocate_seq(session, 0)
    report = SeedReport()
    seed_regions(session, actor, report.regions)
    enterprises = seed_enterprises(session, actor, report.enterprises)
    report.checklists = seed_checklists(session, actor)
    report.user_table = seed_users(session, actor, password, enterprises, report.users)
    seed_criteria(session)  # cli/demo_criteria.py (issue #15): the built-in 2017 catalogue judges the year's hazards
    if activity:
        seed_year(session, bureau_code, storage if storage is not None else _app_storage(), report.activity)
    # ---- other capabilities' demo data: one line each ----
    if activity:
        seed_selfcheck(session)  # cli/demo_selfcheck.py (issue #16)
        seed_planning(session)  # cli/demo_planning.py (issue #14)
    seed_casefile(session, actor, password=password, bureau_code=bureau_code, activity=activity)  # issue #22
    # ---- end of the other capabilities' demo data ----
    session.flush()
    return report


def _app_storage():
    from flask import current_app, has_app_context

    return current_app.extensions.get("inspect_storage") if has_app_context() else None
