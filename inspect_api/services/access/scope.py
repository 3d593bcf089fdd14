"""Object-level authorization: the one place every query goes through.

``scope_clause(Model, user)`` is the SQL condition for the rows a user may see;
``scoped(stmt, Model, user)`` applies it; ``get_scoped(...)`` loads one row or
raises NotFound, so another scope's object answers 404 as if it did not exist.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, false, select, true
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...models import (
    AuditEvent, ChecklistItem, ChecklistTemplate, Device, EnforcementCase, Enterprise, Finding,
    Hazard, Inspection, InspectionTask, Job, Notice, PenaltyDecision, Photo, Rectification, Region,
    RemediationPlan, Review, Upload, User, region_prefix,
)

STAFF_ROLES = ("supervisor", "inspector", "legal")  # legal: read-mostly, scoped like a supervisor


@dataclass(frozen=True)
class Viewer:
    """What scope_clause needs of a user, copied: safe to keep after the request session ended (a streamed
    body) or to hand to another thread (statistics on a second connection)."""

    id: str
    role: str
    region_id: str | None
    enterprise_id: str | None
    is_active: bool

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.role, user.region_id, user.enterprise_id, user.is_active)


def region_clause(column, user: User):
    """Rows whose region code lies in the user's jurisdiction subtree."""
    if not user.region_id:
        return false()
    prefix = region_prefix(user.region_id)
    return column.like(prefix + "%")


def region_in_scope(user: User, region_code: str | None) -> bool:
    if user.role == "admin":
        return True
    if user.role in STAFF_ROLES and user.region_id and region_code:
        return region_code.startswith(region_prefix(user.region_id))
    return False


def _region_enterprise_columns(model):
    if model is Enterprise:
        return Enterprise.region_id, Enterprise.id
    if model is RemediationPlan:
        return None
    region = getattr(model, "region_code", None)
    enterprise = getattr(model, "enterprise_id", None)
    return region, enterprise


def scope_clause(model, user: User):
    if user is None or not user.is_active:
        return false()
    role = user.role
    if model is Region:
        return true()
    if model in (ChecklistTemplate, ChecklistItem):
        if role == "enterprise":
            if model is ChecklistTemplate:
                return ChecklistTemplate.status == "published"
            return ChecklistItem.template_id.in_(
                select(ChecklistTemplate.id).where(ChecklistTemplate.status == "published")
            )
        return true()
    if model is Upload:
        # a tus upload in progress belongs to its creator alone (CONTRACT §3), admins included
        return Upload.user_id == user.id
    if model is Job:
        # a background job and its file belong to the user who submitted it, admins included
        return Job.owner_id == user.id
    if model in (User, Device):
        if role == "admin" or (model is User and role == "security_admin"):
            return true()
        column = User.id if model is User else Device.user_id
        return column == user.id
    if model is AuditEvent:
        # the audit administrator reads the whole log; the system and security administrators do not
        # (三权分立); staff read their jurisdiction's (an object's history)
        if role == "audit_admin":
            return true()
        if role in STAFF_ROLES:
            return region_clause(AuditEvent.region_code, user)
        return false()
    if role == "admin":
        return true()
    if model is RemediationPlan:
        return RemediationPlan.hazard_id.in_(select(Hazard.id).where(scope_clause(Hazard, user)))
    if model is Photo and role == "enterprise":
        # an enterprise sees the photos of its own hazards and rectifications, not inspectors' working photos
        if not user.enterprise_id:
            return false()
        return and_(Photo.enterprise_id == user.enterprise_id, Photo.owner_table.in_(("hazards", "rectifications")))
    region_col, enterprise_col = _region_enterprise_columns(model)
    if role in STAFF_ROLES:
        return region_clause(region_col, user) if region_col is not None else false()
    if role == "enterprise":
        if enterprise_col is None or not user.enterprise_id:
            return false()
        return enterprise_col == user.enterprise_id
    return false()


def scoped(stmt: Select, model, user: User) -> Select:
    return stmt.where(scope_clause(model, user))


def select_scoped(model, user: User) -> Select:
    return select(model).where(scope_clause(model, user))


OBJECT_NAMES_ZH = {
    "inspection": "检查记录", "finding": "检查结果", "hazard": "隐患", "notice": "整改指令书", "photo": "照片",
    "rectification": "整改报告", "review": "复查记录", "enterprise": "企业", "user": "用户", "device": "设备",
    "enforcement_case": "案件", "penalty_decision": "处罚决定", "inspection_task": "检查任务",
}


def get_scoped(session: Session, model, object_id, user: User, *, for_update: bool = False):
    stmt = select(model).where(model.id == object_id, scope_clause(model, user))
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    obj = session.scalars(stmt).first()
    if obj is None:
        name = model.__tablename__[:-1]
        raise NotFound(f"{OBJECT_NAMES_ZH.get(name, '记录')}不存在 ({name} not found)", code="not_found")
    return obj


__all__ = [
    "scope_clause", "scoped", "select_scoped", "get_scoped", "region_clause", "region_in_scope",
    "Inspection", "Finding", "Hazard", "Notice", "Photo", "Rectification", "Review",
    "EnforcementCase", "PenaltyDecision", "InspectionTask",
]
