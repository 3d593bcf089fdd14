"""Demo: a believable year of supervision across the eleven counties of Hengshui, so that every role's
first page has real work (docs/portal.md, "What the demo holds").

Everything goes through the lifecycle services (the same rules as a real bureau), as the inspectors,
enterprises and supervisors who would do it; afterwards the times are moved back to when the step
happened in the story (found, acknowledged, reported, reviewed, closed), so the dashboard, the ledger and
the deadlines read like a year. Deterministic (fixed random seed, fixed ids); run twice, the second run
changes nothing. About 120 hazards with ~45 small photos: a couple of seconds.

What each role finds (the ``DemoYear`` ids mark this data):

* enterprise1 (衡水恒润化工): a notice waiting for 签收, a major hazard under 挂牌督办 with its 五落实
  plan still to fix, a fix the review rejected to redo;
* enterprise2 (衡水金泰精细化工): an overdue notice and a new major hazard waiting for 签收;
* inspector1 / inspector2 (桃城区), inspector3 (深州市), inspector4 / inspector5 (市执法支队): fixes waiting
  for review (复查) with before / after photos, a hazard recorded but not yet ordered;
* supervisor (市) and supervisor_taocheng: a verified major hazard ready for closure (销号), a new major
  hazard to list (挂牌督办), every county on the dashboard;
* admin: the inspectors' tablets (one revoked).
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (ChecklistTemplate, Device, Enterprise, Finding, Hazard, Inspection, Notice, Rectification,
                      Review, User, utcnow)
from ..services.access.actor import Actor
from ..services.accounts.auth import register_device, revoke_device
from ..services.evidence import photos as photos_service
from ..services.lifecycle import hazards as hz
from ..services.lifecycle.notices import acknowledge_notice, issue_notice
from ..services.lifecycle.rectifications import report_rectification, review_rectification
from .demo_photos import scene_jpeg

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARK = "DemoYear"

# (checklist item, location, description) — findings of the 2019 guideline's checklist
GENERAL = (
    ("TS-02", "氯化车间2号反应釜平台", "动火作业票未记录动火分析时间，作业现场未见监火人"),
    ("YB-02", "甲类罐区", "罐区3台可燃气体检测报警器超过检定有效期"),
    ("CC-04", "储罐区", "储罐区防火堤有两处破损，排水切断阀处于常开状态"),
    ("DQ-03", "装卸栈台", "装卸栈台静电接地夹损坏，防雷防静电检测报告过期"),
    ("JC-18", "安全管理部", "本年度未组织现场处置方案演练，演练记录缺失"),
    ("JC-19", "应急物资库", "两套正压式空气呼吸器气瓶压力不足，未定期检查"),
    ("SB-02", "压缩机房", "1台储气罐（压力容器）超过定期检验有效期仍在使用"),
    ("SB-04", "泵房", "3号输送泵机械密封泄漏，现场有滴漏痕迹"),
    ("JC-11", "成品库", "部分包装桶安全标签缺失或字迹不清"),
    ("TS-03", "污水处理池", "受限空间作业未进行气体分析即进入作业"),
    ("JC-07", "人力资源部", "3名新入厂员工三级安全教育培训档案不全"),
    ("DQ-04", "变配电室", "配电室挡鼠板缺失，电缆沟盖板破损"),
    ("YX-04", "中控室", "夜班巡回检查记录存在漏项，巡检频次不足"),
    ("JC-16", "合成车间", "工艺变更后未更新操作规程，也未对操作人员培训"),
    ("CC-01", "原料库", "剧毒化学品库未落实双人双锁管理"),
)
# (item, criterion, location, description): 重大隐患 of 安监总管三〔2017〕121号
MAJOR = (
    ("YB-01", "HC2017-12", "氯化车间", "氯化车间涉及有毒气体泄漏的场所未设置有毒气体检测报警装置"),
    ("YB-05", "HC2017-05", "一级重大危险源罐区", "构成一级重大危险源的汽油储罐未设置紧急切断装置"),
    ("CC-02", "HC2017-20", "2号成品库", "成品库内氧化剂与易燃液体混存，未分区分类储存"),
    ("SB-03", "HC2017-15", "加氢反应器", "加氢反应器安全阀前切断阀未铅封开，安全阀超期未校验"),
)
BASIS = {"TS-02": "GB 30871-2022《危险化学品企业特殊作业安全规范》", "TS-03": "GB 30871-2022《危险化学品企业特殊作业安全规范》",
         "YB-02": "GB/T 50493《石油化工可燃气体和有毒气体检测报警设计标准》", "CC-04": "GB 50351《储罐区防火堤设计规范》",
         "DQ-03": "GB 12158《防止静电事故通用导则》", "JC-18": "《生产安全事故应急预案管理办法》（应急管理部令第2号）",
         "JC-19": "GB 30077《危险化学品单位应急救援物资配备要求》", "SB-02": "《中华人民共和国特种设备安全法》",
         "SB-04": "AQ/T 3034-2022《化工过程安全管理导则》", "JC-11": "GB 15258《化学品安全标签编写规定》",
         "JC-07": "《生产经营单位安全培训规定》", "DQ-04": "GB 50160《石油化工企业设计防火标准》",
         "YX-04": "应急〔2019〕78号", "JC-16": "AQ/T 3034-2022《化工过程安全管理导则》",
         "CC-01": "《危险化学品安全管理条例》第二十四条"}
MEASURES = ("更换损坏部件并经复测合格", "修订管理制度并组织全员培训", "委托有资质单位检测检验并取得报告",
            "补齐台账记录并指定专人每日检查", "停用隐患设备，更换合格产品后恢复使用")
PEOPLE = ("刘建华", "陈立新", "马永强", "杨秀英", "高志远", "郑海涛", "胡明亮", "何丽娟", "罗振宇", "宋国庆")

# county -> (lead inspector, co-inspector) by username; the city's 执法支队 covers the other counties
OFFICERS = {"131102": ("inspector1", "inspector2"), "131182": ("inspector3", "inspector4")}
CITY_OFFICERS = ("inspector4", "inspector5")


def deadline_on(day: date) -> datetime:
    """A deadline given as a day ends at 23:59:59 Beijing time (as a deadline typed in the portal)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).astimezone(timezone.utc)


def _local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


@dataclass
class Story:
    """Where one hazard's story stops."""
    stage: str            # found | ordered | acknowledged | reported | rejected | closed | verified
    rejected_once: bool = False


class YearSeeder:
    def __init__(self, session: Session, enterprises: list[Enterprise], bureau_code: str, storage, now=None):
        self.s = session
        self.enterprises = enterprises
        self.bureau = bureau_code
        self.storage = storage
        self.now = now or utcnow()
        self.rnd = random.Random(20261)
        self.users = {u.username: u for u in session.scalars(select(User))}
        self.n_hazard = 0
        self.n_photo = 0
        tpl = session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "GUIDE2019",
                                                              ChecklistTemplate.status == "published")).first()
        self.template = tpl
        self.items = {i.code: i for i in tpl.items}
        self.limits = photos_service.UploadLimits()

    # ------------------------------------------------------------ helpers
    def officers(self, region: str) -> tuple[User, User]:
        lead, co = OFFICERS.get(region, CITY_OFFICERS)
        return self.users[lead], self.users[co]

    def enterprise_actor(self, ent: Enterprise) -> Actor:
        login = next((u for u in self.users.values() if u.enterprise_id == ent.id), None)
        return Actor(login, None, "seed-demo") if login else Actor.system("seed-demo")

    def photo(self, actor: Actor, owner_table: str, owner_id: str, caption: str, when: datetime, ent: Enterprise,
              fixed: bool = False):
        region_code, region = ent.region_id, ent.region.name
        if self.storage is None:
            return
        if actor.user is None:  # an enterprise without a portal login: its photos came in with the inspector
            actor = Actor(self.officers(region_code)[0], None, "seed-demo")
        self.n_photo += 1
        stamp = f"{_local(when):%Y-%m-%d %H:%M} {region}"
        data = scene_jpeg(caption, stamp, seed=self.n_photo, fixed=fixed)
        photos_service.ingest_photo_file(self.s, self.storage, actor, f"{MARK}Photo{self.n_photo:04d}",
                                         owner_table, owner_id, io.BytesIO(data), "photo.jpg", "image/jpeg",
                                         self.limits)

    def inspection(self, ent: Enterprise, lead: User, co: User, started: datetime, n: int) -> Inspection:
        insp = Inspection(id=f"{MARK}Insp{n:04d}", enterprise_id=ent.id, region_code=ent.region_id,
                          template_id=self.template.id, lead_inspector_id=lead.id, co_inspector_id=co.id,
                          started_at=started, finished_at=started + timedelta(hours=2),
                          latitude=ent.latitude, longitude=ent.longitude, status="submitted",
                          note="日常监督检查", created_by_id=lead.id)
        self.s.add(insp)
        for code in self.rnd.sample(sorted(self.items), 6):
            self.s.add(Finding(inspection=insp, item_id=self.items[code].id, enterprise_id=ent.id,
                               region_code=ent.region_id, result="pass"))
        self.s.flush()
        return insp

    # ------------------------------------------------------------ one hazard's story
    def hazard(self, insp: Inspection, ent: Enterprise, spec, story: Story, found: datetime,
               photos: bool) -> Hazard:
        lead, co = self.officers(ent.region_id)
        actor = Actor(lead, None, "seed-demo")
        major = len(spec) == 4
        item, criterion, location, text = spec if major else (spec[0], None, spec[1], spec[2])
        self.n_hazard += 1
        finding = Finding(inspection=insp, item_id=self.items[item].id, enterprise_id=ent.id,
                          region_code=ent.region_id, result="fail", note=text)
        self.s.add(finding)
        self.s.flush()
        h = hz.create_hazard(self.s, actor, {
            "id": f"{MARK}Hazard{self.n_hazard:04d}", "inspection_id": insp.id, "description": text,
            "location": location, "grade": "major" if major else "general", "major_criterion_code": criterion,
            "basis": self.items[item].basis if major else BASIS.get(item), "found_at": found})
        h.finding_id = finding.id
        h.item_id = self.items[item].id
        if photos:
            self.photo(actor, "hazards", h.id, f"{location}：{text}", found, ent)
        return h

    def order(self, hazards: list[Hazard], ent: Enterprise, issued: datetime, days: int) -> Notice:
        lead, co = self.officers(ent.region_id)
        deadline = deadline_on(_local(issued).date() + timedelta(days=days))
        return issue_notice(self.s, Actor(lead, None, "seed-demo"), {
            "hazard_ids": [h.id for h in hazards], "officer2_id": co.id, "issued_at": issued,
            "deadline_at": deadline, "safety_measures": "整改期间落实临时管控措施，设置警戒标识，专人看护"},
            self.bureau)

    def acknowledge(self, notice: Notice, ent: Enterprise, when: datetime) -> None:
        acknowledge_notice(self.s, self.enterprise_actor(ent), notice)
        notice.acknowledged_at = when

    def plan(self, h: Hazard, ent: Enterprise, when: datetime) -> None:
        hz.submit_plan(self.s, self.enterprise_actor(ent), h, {
            "goal": "彻底消除该重大隐患，恢复装置本质安全条件",
            "responsibility": f"总经理{self.rnd.choice(PEOPLE)}负总责，安全部、设备部具体实施",
            "measures": "委托有资质的设计单位出具整改方案；采购并安装合格设施；完成后组织验收",
            "funds": Decimal(self.rnd.randint(8, 60) * 10000),
            "time_limit": _local(when).date() + timedelta(days=45),
            "contingency": "整改期间降低库存、禁止动火作业，现场配备应急器材，每班巡检两次"})

    def report(self, h: Hazard, ent: Enterprise, when: datetime, photos: bool) -> Rectification:
        actor = self.enterprise_actor(ent)
        rect = report_rectification(self.s, actor, h, {
            "description": f"已完成整改：{self.rnd.choice(MEASURES)}。",
            "measures": self.rnd.choice(MEASURES), "responsible_person": self.rnd.choice(PEOPLE),
            "funds": Decimal(self.rnd.randint(5, 900) * 100) + Decimal("0.50"),
            "completed_on": _local(when).date()})
        rect.reported_at = when
        if photos:
            self.photo(actor, "rectifications", rect.id, f"整改后：{h.location}", when, ent, fixed=True)
        return rect

    def review(self, rect: Rectification, ent: Enterprise, when: datetime, accept: bool,
               new_deadline: datetime | None = None) -> Review:
        lead, co = self.officers(ent.region_id)
        review = review_rectification(self.s, Actor(co, None, "seed-demo"), rect, {
            "result": "accepted" if accept else "rejected",
            "opinion": ("经现场复查，整改措施已落实，符合要求。" if accept
                        else "整改不到位：更换的部件无合格证明，须重新整改并提供检测报告。"),
            "onsite_check": "复查人员到现场逐项核对，拍照留存。", "co_reviewer_id": lead.id,
            "new_deadline_at": new_deadline}, self.bureau)
        review.reviewed_at = when
        h = self.s.get(Hazard, rect.hazard_id)
        if h.closed_at is not None:
            h.closed_at = when
        return review

    # ------------------------------------------------------------ the stories
    def tell(self, h: Hazard, ent: Enterprise, notice: Notice, story: Story, issued: datetime,
             photos: bool) -> None:
        order = ["ordered", "acknowledged", "reported", "rejected", "verified", "closed"]
        stop = order.index(story.stage) if story.stage in order else -1
        acked = issued + timedelta(days=1, hours=3)
        if stop < 1:
            return
        if notice.status == "issued":
            self.acknowledge(notice, ent, acked)
        if h.grade == "major":
            self.plan(h, ent, acked + timedelta(days=1))
        if stop < 2:
            return
        reported = min(acked + timedelta(days=self.rnd.randint(4, 9)), self.now - timedelta(hours=5))
        rect = self.report(h, ent, reported, photos=photos and story.stage == "reported")
        if story.rejected_once or story.stage == "rejected":
            self.review(rect, ent, reported + timedelta(days=2), accept=False)
            if story.stage == "rejected":
                return
            reported = reported + timedelta(days=6)
            rect = self.report(h, ent, min(reported, self.now - timedelta(hours=4)),
                               photos=photos and story.stage == "reported")
        if story.stage == "reported":
            return
        self.review(rect, ent, min(reported + timedelta(days=2), self.now - timedelta(hours=3)), accept=True)


def seed_year(session: Session, bureau_code: str, storage, tally) -> None:
    """The year (see the module docstring). Skips everything when it was seeded before."""
    if session.get(Inspection, f"{MARK}Insp0001") is not None:
        tally.unchanged += 1
        return
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.region_id, Enterprise.uscc)))
    y = YearSeeder(session, enterprises, bureau_code, storage)
    _routine_year(y)
    _live_work(y)
    _devices(y)
    session.flush()
    tally.created += y.n_hazard


def _routine_year(y: YearSeeder) -> None:
    """Monthly inspections for twelve months; old hazards closed, recent ones at every stage."""
    n = 0
    for months_ago in range(12, 0, -1):
        for ent in y.enterprises[(months_ago * 3) % 7::7]:
            n += 1
            age_days = months_ago * 30 - y.rnd.randint(0, 20)
            started = (y.now - timedelta(days=age_days)).replace(minute=0, second=0, microsecond=0)
            started = started.replace(hour=1 + y.rnd.randint(0, 6))  # 09:00–15:00 Beijing
            lead, co = y.officers(ent.region_id)
            insp = y.inspection(ent, lead, co, started, n)
            specs = y.rnd.sample(GENERAL, y.rnd.randint(1, 2) + (age_days < 90))
            hazards = [y.hazard(insp, ent, spec, Story("closed"), started + timedelta(minutes=40 + 15 * i),
                                photos=age_days < 45)
                       for i, spec in enumerate(specs)]
            issued = started + timedelta(hours=2)
            days = y.rnd.choice((7, 10, 15, 30))
            notice = y.order(hazards, ent, issued, days)
            for i, h in enumerate(hazards):
                if age_days > 60:
                    story = Story("closed", rejected_once=(n + i) % 7 == 0)
                elif age_days > 25:
                    story = Story(("closed", "closed", "reported", "acknowledged")[(n + i) % 4])
                else:
                    story = Story(("ordered", "acknowledged", "reported")[(n + i) % 3])
                y.tell(h, ent, notice, story, issued, photos=True)


def _by_login(y: YearSeeder, username: str) -> Enterprise:
    return y.s.get(Enterprise, y.users[username].enterprise_id)


def _live_work(y: YearSeeder) -> None:
    """The work on everyone's first page (see the module docstring)."""
    now = y.now
    e1, e2 = _by_login(y, "enterprise1"), _by_login(y, "enterprise2")
    depot = next(e for e in y.enterprises if e.name == "衡水桃城油品储运有限公司")
    sup_city, sup_county = y.users["supervisor"], y.users["supervisor_taocheng"]
    base = 900

    def visit(ent, days_ago, specs, k):
        lead, co = y.officers(ent.region_id)
        started = (now - timedelta(days=days_ago)).replace(hour=2, minute=0, second=0, microsecond=0)
        insp = y.inspection(ent, lead, co, started, base + k)
        return started, [y.hazard(insp, ent, spec, Story("found"), started + timedelta(minutes=30 + 10 * i),
                                  photos=True) for i, spec in enumerate(specs)]

    # enterprise1: a major hazard under 挂牌督办 with its plan, being fixed; a rejected fix; a notice to sign
    started, (major, general) = visit(e1, 20, (MAJOR[0], GENERAL[2]), 1)
    notice = y.order([major, general], e1, started + timedelta(hours=2), 40)
    y.tell(major, e1, notice, Story("acknowledged"), started + timedelta(hours=2), photos=True)
    y.tell(general, e1, notice, Story("rejected"), started + timedelta(hours=2), photos=True)
    hz.list_hazard(y.s, Actor(sup_city, None, "seed-demo"), major, reason="氯化车间有毒气体泄漏风险，市级挂牌督办")
    major.listed_at = started + timedelta(days=2)
    started, fresh = visit(e1, 2, (GENERAL[5], GENERAL[10]), 2)
    y.order(fresh, e1, started + timedelta(hours=2), 15)

    # enterprise2: an overdue notice being fixed, and a new major hazard waiting for 签收 (and for listing)
    started, late = visit(e2, 28, (GENERAL[8],), 3)
    notice = y.order(late, e2, started + timedelta(hours=2), 10)
    y.tell(late[0], e2, notice, Story("acknowledged"), started + timedelta(hours=2), photos=True)
    started, (new_major,) = visit(e2, 3, (MAJOR[2],), 4)
    y.order([new_major], e2, started + timedelta(hours=2), 30)

    # the oil depot: a major hazard fixed and accepted, listed by the county, ready for 销号
    started, (ready,) = visit(depot, 50, (MAJOR[1],), 5)
    notice = y.order([ready], depot, started + timedelta(hours=2), 45)
    hz.list_hazard(y.s, Actor(sup_county, None, "seed-demo"), ready, reason="一级重大危险源，县级挂牌督办")
    ready.listed_at = started + timedelta(days=1)
    y.tell(ready, depot, notice, Story("verified"), started + timedelta(hours=2), photos=True)

    # fixes waiting for review in 桃城区 and 深州市, with before / after photos; one hazard not yet ordered
    for k, ent in enumerate((e1, e2, next(e for e in y.enterprises if e.region_id == "131182"))):
        started, hs = visit(ent, 12 + k, (GENERAL[(k * 4 + 1) % len(GENERAL)],), 6 + k)
        notice = y.order(hs, ent, started + timedelta(hours=2), 20)
        y.tell(hs[0], ent, notice, Story("reported"), started + timedelta(hours=2), photos=True)
    visit(depot, 1, (GENERAL[12],), 10)


def _devices(y: YearSeeder) -> None:
    """The inspectors' tablets (设备): seen recently; one reported lost and revoked."""
    admin = next((u for u in y.users.values() if u.role == "admin"), None)
    tablets = (("inspector1", "HS-TC-01", "桃城区执法终端01（华为MatePad 11）", 1),
               ("inspector2", "HS-TC-02", "桃城区执法终端02（华为MatePad 11）", 3),
               ("inspector3", "HS-SZ-01", "深州市执法终端01（联想小新Pad）", 26),
               ("inspector4", "HS-SJ-01", "市执法支队终端01（华为MatePad Pro）", 50),
               ("inspector5", "HS-SJ-02", "市执法支队终端02（华为MatePad Pro）", 2),
               ("inspector2", "HS-TC-09", "桃城区执法终端09（已遗失）", 300))
    for username, device_id, name, hours_ago in tablets:
        user = y.users.get(username)
        if user is None or y.s.scalars(select(Device).where(Device.user_id == user.id,
                                                              Device.client_device_id == device_id)).first():
            continue
        device = register_device(y.s, user, device_id, name, "10.13.11.20")
        device.last_seen_at = device.last_sync_at = y.now - timedelta(hours=hours_ago)
        if "遗失" in name and admin is not None:
            revoke_device(y.s, device.id, Actor(admin, None, "seed-demo"), reason="执法人员报告平板遗失")
