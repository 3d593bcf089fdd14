"""Demo data: the Hengshui region tree, ~30 enterprises, the two checklists, the demo users, and two
inspections with hazards and rectification notices.

``seed_demo`` is idempotent: run twice, the second run creates and updates
nothing and writes no audit event (existing users keep their passwords). The
data lives in inspect_api/data/*.json; the CLI command ``seed-demo`` calls
this and commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ChecklistTemplate, Enterprise, Finding, Inspection, Region, User, allocate_seq, utcnow
from ..services.accounts import users as user_service
from ..services.access.actor import Actor
from .demo_selfcheck import seed_selfcheck
from ..services.access.audit import record_event
from ..services.registry.checklists import import_checklist
from ..services.registry.enterprises import apply_update, check_fields, create_enterprise
from ..services.registry.uscc import make_uscc
from .demo_criteria import seed_criteria

CHECKLIST_FILES = ("checklist_major_hazards_2017.json", "checklist_general_2019.json")

# username, role, region, enterprise login key, certificate (执法证号), display name
DEMO_USERS = (
    ("admin", "admin", None, None, None, "系统管理员"),
    ("supervisor", "supervisor", "131100", None, None, "市应急管理局 危化科 刘科长"),
    ("supervisor_taocheng", "supervisor", "131102", None, None, "桃城区应急管理局 张股长"),
    ("inspector1", "inspector", "131102", None, "13110221001", "桃城区执法大队 王强"),
    ("inspector2", "inspector", "131102", None, "13110221002", "桃城区执法大队 李明"),
    ("inspector3", "inspector", "131182", None, "13118221001", "深州市执法大队 赵磊"),
    ("enterprise1", "enterprise", None, "enterprise1", None, "衡水恒润化工 安全部"),
    ("enterprise2", "enterprise", None, "enterprise2", None, "衡水金泰精细化工 安全部"),
)

# A little activity, so the portal has something to show: two submitted inspections in 桃城区, their
# hazards and rectification notices (one still running, one overdue). Fixed ids make reruns no-ops.
DEMO_INSPECTIONS = (
    {"id": "DemoInspection01", "enterprise": "enterprise1", "lead": "inspector1", "co": "inspector2",
     "days_ago": 6, "template": "GUIDE2019", "passed": ("JC-01", "JC-02", "JC-08", "TS-01", "DQ-01", "CC-01"),
     "hazards": (
         {"id": "DemoHazard000001", "item": "TS-02", "location": "氯化车间2号反应釜平台",
          "description": "2号反应釜检修动火作业票未记录动火分析时间，作业现场未见监火人",
          "basis": "GB 30871-2022《危险化学品企业特殊作业安全规范》"},
         {"id": "DemoHazard000002", "item": "YB-02", "location": "甲类罐区",
          "description": "罐区3台可燃气体检测报警器超过检定有效期",
          "basis": "GB/T 50493《石油化工可燃气体和有毒气体检测报警设计标准》"},
     ),
     "notice": {"deadline_days": 10, "measures": "整改期间动火作业一律升级管理，罐区增加人工巡检频次"}},
    {"id": "DemoInspection02", "enterprise": "enterprise2", "lead": "inspector2", "co": "inspector1",
     "days_ago": 25, "template": "GUIDE2019", "passed": ("JC-05", "SB-01", "YX-01"),
     "hazards": (
         {"id": "DemoHazard000003", "item": "CC-02", "location": "2号成品库",
          "description": "成品库内氧化剂与易燃液体未隔离存放", "basis": "GB 15603《危险化学品仓库储存通则》"},
     ),
     "notice": {"deadline_days": -5, "measures": "立即将禁配物料分开存放，整改前禁止新增入库"}},
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
    table = []
    for username, role, region, login, certificate, display in DEMO_USERS:
        user = session.scalars(select(User).where(User.username == username)).first()
        ent = enterprises.get(login) if login else None
        if user is None:
            user = user_service.create_user(session, actor, {
                "username": username, "password": password, "role": role, "region_code": region,
                "enterprise_id": ent.id if ent else None, "certificate_no": certificate,
                "display_name": display, "must_change_password": False,
            })
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


def seed_activity(session: Session, enterprises: dict[str, Enterprise], bureau_code: str,
                  tally: Tally) -> None:
    """Inspections with findings, hazards and notices, through the lifecycle services (as the inspectors)."""
    from ..services.lifecycle.hazards import create_hazard
    from ..services.lifecycle.notices import issue_notice

    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(
        [s["lead"] for s in DEMO_INSPECTIONS] + [s["co"] for s in DEMO_INSPECTIONS])))}
    now = utcnow()
    for spec in DEMO_INSPECTIONS:
        if session.get(Inspection, spec["id"]) is not None:
            tally.unchanged += 1
            continue
        lead, co, ent = users[spec["lead"]], users[spec["co"]], enterprises[spec["enterprise"]]
        if ent.region_id != lead.region_id:  # the demo users were changed by hand: leave them alone
            tally.unchanged += 1
            continue
        template = session.scalars(select(ChecklistTemplate).where(
            ChecklistTemplate.code == spec["template"], ChecklistTemplate.status == "published")).first()
        items = {i.code: i for i in template.items}
        actor = Actor(lead, None, "seed-demo")
        started = now - timedelta(days=spec["days_ago"], hours=2)
        inspection = Inspection(
            id=spec["id"], enterprise_id=ent.id, region_code=ent.region_id, template_id=template.id,
            lead_inspector_id=lead.id, co_inspector_id=co.id, started_at=started,
            finished_at=started + timedelta(hours=2), latitude=ent.latitude, longitude=ent.longitude,
            status="submitted", note="演示数据：现场检查", created_by_id=lead.id)
        session.add(inspection)
        findings = {}
        for code in spec["passed"]:
            findings[code] = Finding(inspection=inspection, item_id=items[code].id, enterprise_id=ent.id,
                                     region_code=ent.region_id, result="pass")
        for h in spec["hazards"]:
            findings[h["item"]] = Finding(inspection=inspection, item_id=items[h["item"]].id,
                                          enterprise_id=ent.id, region_code=ent.region_id, result="fail",
                                          note=h["description"])
        session.add_all(findings.values())
        session.flush()
        record_event(session, actor, "inspection.created", inspection, to_state="submitted",
                     data={"template": spec["template"], "findings": len(findings), "co_inspector_id": co.id})
        hazards = []
        for h in spec["hazards"]:
            hazard = create_hazard(session, actor, {
                "id": h["id"], "inspection_id": inspection.id, "description": h["description"],
                "location": h["location"], "basis": h["basis"], "grade": "general",
                "found_at": started + timedelta(minutes=30)})
            hazard.finding_id = findings[h["item"]].id
            hazards.append(hazard)
        issued = started + timedelta(hours=2)
        issue_notice(session, actor, {
            "hazard_ids": [h.id for h in hazards], "officer2_id": co.id, "issued_at": issued,
            "deadline_at": now + timedelta(days=spec["notice"]["deadline_days"]),
            "safety_measures": spec["notice"]["measures"]}, bureau_code)
        tally.created += 1
    session.flush()


def seed_demo(session: Session, actor: Actor | None = None, *, password: str, bureau_code: str = "131100",
              activity: bool = True) -> SeedReport:
    """Seed everything; flushes, never commits."""
    actor = actor or Actor.system("seed-demo")
    allocate_seq(session, 0)
    report = SeedReport()
    seed_regions(session, actor, report.regions)
    enterprises = seed_enterprises(session, actor, report.enterprises)
    report.checklists = seed_checklists(session, actor)
    report.user_table = seed_users(session, actor, password, enterprises, report.users)
    if activity:
        seed_activity(session, enterprises, bureau_code, report.activity)
        seed_selfcheck(session)
    session.flush()
    seed_criteria(session)  # cli/demo_criteria.py (issue #15)
    return report
