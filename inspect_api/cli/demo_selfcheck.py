"""Demo data for self-inspection: 衡水恒润化工's tank farm as a major hazard source with its three duty
holders (the demo account ``enterprise1`` holds the operational duty, so it has a check due), the
bureau's check duties, last week's missed check, an open self-found hazard, hazards the enterprise
closed itself this month and a re-check sample of them for the 桃城区 inspectors. Idempotent."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ChecklistTemplate, MajorHazardSource, User
from ..services.access.actor import Actor
from ..services.selfcheck import checks, duties, recheck, sources
from ..services.selfcheck.common import local_today


def seed_selfcheck(session: Session) -> bool:
    """Returns False when the demo source exists already (nothing done)."""
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(
        ("enterprise1", "supervisor_taocheng"))))}
    owner_user, supervisor = users.get("enterprise1"), users.get("supervisor_taocheng")
    if owner_user is None or supervisor is None or owner_user.enterprise_id is None:
        return False
    if session.scalar(select(MajorHazardSource.id).where(MajorHazardSource.enterprise_id == owner_user.enterprise_id)):
        return False
    owner = Actor(user=owner_user)
    source = sources.create_source(session, owner, {
        "name": "甲醇储罐区", "grade": 3, "units": "储罐 T101–T104（4×1000 m³）及装卸区",
        "substances": "甲醇、乙酸乙酯"})
    appointed = date(local_today().year, 1, 5)
    for role, name, post, account in (("principal", "王建国", "总经理", None), ("technical", "李明", "技术总监", None),
                                      ("operational", "张立军", "储运车间主任", owner_user.id)):
        sources.appoint_holder(session, owner, source, {"role": role, "name": name, "post": post,
                                                        "phone": "13903181234", "user_id": account,
                                                        "appointed_on": appointed})
    template = session.scalar(select(ChecklistTemplate.id).where(ChecklistTemplate.status == "published")
                              .order_by(ChecklistTemplate.code))
    sup = Actor(user=supervisor)
    duties.set_duty(session, sup, {"region_code": supervisor.region_id, "role": "operational", "every_days": 7,
                                   "template_id": template, "basis": "本局规定（演示数据）"})
    duties.set_duty(session, sup, {"region_code": supervisor.region_id, "role": "technical", "every_days": 14,
                                   "basis": "本局规定（演示数据）"})
    duties.set_duty(session, sup, {"region_code": supervisor.region_id, "role": "principal", "every_days": 30,
                                   "basis": "本局规定（演示数据）"})
    duties.generate_dues(session, local_today() - timedelta(days=7))
    duties.mark_missed(session)
    duties.generate_dues(session)
    checks.report_hazard(session, owner, {"description": "T103 储罐液位计远传信号间断", "location": "甲醇储罐区 T103",
                                          "source_id": source.id})
    for text, fix in (("装卸区静电接地报警器指示灯不亮", "更换报警器指示灯并测试接地电阻"),
                      ("防火堤内有少量油污", "清理油污并检查排水阀"),
                      ("罐区巡检记录缺 2 次签字", "补签并对巡检人员进行提醒")):
        hz = checks.report_hazard(session, owner, {"description": text, "source_id": source.id})
        checks.self_close(session, owner, hz, {"description": fix, "responsible_person": "张立军"})
    today = local_today()
    recheck.draw_sample(session, sup, {"period_from": today.replace(day=1), "period_to": today, "size": 2})
    return True
