"""Major hazard sources (重大危险源) of an enterprise and their three duty holders (包保责任人:
主要负责人、技术负责人、操作负责人, 应急厅〔2021〕12号). The enterprise keeps its own register; the
bureau reads it. Every change is audited; a replaced duty holder keeps their row with ``ended_on``."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Forbidden
from ...models import DutyHolder, Enterprise, MajorHazardSource, User
from ...models.selfcheck import DUTY_ROLES, SOURCE_GRADES
from ..access.actor import Actor
from ..access.audit import record_event
from ..access.scope import get_scoped, scope_clause
from .common import field_error, local_today, require_enterprise_user, text

ROLE_NAMES = {"principal": "主要负责人", "technical": "技术负责人", "operational": "操作负责人"}
_PHONE = re.compile(r"^[0-9+\- ]{5,20}$")


def _grade(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SOURCE_GRADES:
        raise field_error("grade", "重大危险源等级须为 1～4（一级～四级） (grade must be 1..4)")
    return value


def create_source(session: Session, actor: Actor, data: dict) -> MajorHazardSource:
    """The enterprise registers a major hazard source."""
    return add_source(session, actor, session.get(Enterprise, require_enterprise_user(actor.user)), data)


def add_source(session: Session, actor: Actor, enterprise: Enterprise, data: dict) -> MajorHazardSource:
    """A source of ``enterprise`` (the caller decided who may: the enterprise itself, or an import)."""
    enterprise_id = enterprise.id
    name = text(data, "name", required=True)
    if session.scalar(select(MajorHazardSource.id).where(
            MajorHazardSource.enterprise_id == enterprise_id, MajorHazardSource.name == name,
            MajorHazardSource.deleted_at.is_(None))):
        raise field_error("name", "已有同名的重大危险源 (a source of this name exists)")
    source = MajorHazardSource(enterprise_id=enterprise_id, region_code=enterprise.region_id, name=name,
                               grade=_grade(data.get("grade")), units=text(data, "units", max_len=1000),
                               substances=text(data, "substances", max_len=1000))
    session.add(source)
    session.flush()
    record_event(session, actor, "major_hazard_source.create", source,
                 data={"name": name, "grade": source.grade})
    return source


def update_source(session: Session, actor: Actor, source: MajorHazardSource, data: dict) -> MajorHazardSource:
    require_enterprise_user(actor.user)
    changed = {}
    if "grade" in data:
        changed["grade"] = _grade(data["grade"])
    for key in ("units", "substances"):
        if key in data:
            changed[key] = text(data, key, max_len=1000)
    for key, value in changed.items():
        setattr(source, key, value)
    session.flush()
    record_event(session, actor, "major_hazard_source.update", source, data=changed)
    return source


def appoint_holder(session: Session, actor: Actor, source: MajorHazardSource, data: dict) -> DutyHolder:
    """Appoint the holder of one duty role; the previous holder of that role ends the day before."""
    require_enterprise_user(actor.user)
    return add_holder(session, actor, source, data)


def add_holder(session: Session, actor: Actor, source: MajorHazardSource, data: dict) -> DutyHolder:
    enterprise_id = source.enterprise_id
    role = data.get("role")
    if role not in DUTY_ROLES:
        raise field_error("role", "包保责任类别须为主要负责人、技术负责人或操作负责人 (role)")
    name = text(data, "name", required=True, max_len=100)
    phone = text(data, "phone", max_len=40)
    if phone and not _PHONE.match(phone):
        raise field_error("phone", "电话号码格式不正确 (phone)")
    appointed = data.get("appointed_on") or local_today()
    if not isinstance(appointed, date):
        raise field_error("appointed_on", "任命日期无效 (appointed_on)")
    user_id = data.get("user_id") or None
    if user_id:
        user = session.get(User, user_id)
        if user is None or user.role != "enterprise" or user.enterprise_id != enterprise_id or not user.is_active:
            raise field_error("user_id", "须为本企业的在用账号 (an active account of this enterprise)")
    current = current_holder(session, source.id, role)
    if current is not None:
        if appointed <= current.appointed_on:
            raise field_error("appointed_on", "任命日期须晚于现任责任人的任命日期 (after the current holder's)")
        current.ended_on = appointed
    holder = DutyHolder(source_id=source.id, enterprise_id=source.enterprise_id, region_code=source.region_code,
                        role=role, name=name, post=text(data, "post", max_len=100), phone=phone, user_id=user_id,
                        appointed_on=appointed)
    session.add(holder)
    session.flush()
    record_event(session, actor, "duty_holder.appoint", holder,
                 data={"source_id": source.id, "role": role, "name": name, "replaces": current.id if current else None})
    return holder


def current_holder(session: Session, source_id: str, role: str) -> DutyHolder | None:
    return session.scalars(select(DutyHolder).where(
        DutyHolder.source_id == source_id, DutyHolder.role == role, DutyHolder.ended_on.is_(None))).first()


def sources_of(session: Session, user: User, enterprise_id: str | None = None) -> list[MajorHazardSource]:
    stmt = select(MajorHazardSource).where(scope_clause(MajorHazardSource, user),
                                           MajorHazardSource.deleted_at.is_(None))
    if enterprise_id:
        stmt = stmt.where(MajorHazardSource.enterprise_id == enterprise_id)
    return list(session.scalars(stmt.order_by(MajorHazardSource.enterprise_id, MajorHazardSource.name)))


def get_source(session: Session, user: User, source_id: str) -> MajorHazardSource:
    return get_scoped(session, MajorHazardSource, source_id, user)


def holder_for_user(session: Session, user: User, source_id: str, role: str) -> DutyHolder:
    """The current holder of ``role`` on the source, who must be ``user``; else 404 / a clear refusal."""
    holder = current_holder(session, source_id, role)
    if holder is None or holder.user_id != user.id:
        raise Forbidden("您不是该重大危险源此项包保责任的责任人 (you do not hold this duty)", code="not_duty_holder")
    return holder
