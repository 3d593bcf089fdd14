"""Users, roles and jurisdictions (admin work)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound, ValidationError
from ...models import ADMIN_ROLES, ROLES, ApiToken, Enterprise, Region, User, limits, utcnow
from ..lifecycle.lengths import check_lengths
from . import password_policy, passwords
from ..access.actor import Actor
from ..access.audit import record_event

EDITABLE = ("display_name", "role", "region_code", "enterprise_id", "certificate_no", "phone", "is_active")


def check_grant(actor: Actor, user: User | None, role: str) -> None:
    """Granting a role (三权分立, 等保三级 8.1.4.2): only the security administrator grants roles (the CLI,
    acting as the system, creates the first administrators); no account holds two administrator roles,
    and nobody grants a role to themself. One rule for the API, the portal and the CLI."""
    if actor.user is not None and actor.role != "security_admin":
        raise Forbidden("授予角色须由安全管理员操作 (only the security administrator grants roles)",
                        code="grant_forbidden")
    if user is not None and actor.user is not None and user.id == actor.user.id:
        raise Conflict("不能给自己授予角色 (nobody grants a role to themself)", code="separation_of_duties")
    if user is not None and user.role in ADMIN_ROLES and role in ADMIN_ROLES and role != user.role:
        raise Conflict("系统管理员、安全管理员、审计管理员三种角色不能由同一账号兼任 "
                       "(one account holds at most one administrator role)", code="separation_of_duties")


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def _resolve_enterprise(session: Session, value: str | None) -> str | None:
    if not value:
        return None
    ent = session.get(Enterprise, value) or session.scalars(
        select(Enterprise).where(Enterprise.uscc == value)).first()
    if ent is None:
        raise _field_error("enterprise_id", "企业不存在 (unknown enterprise)")
    return ent.id


def _check_role_fields(session: Session, user: User) -> None:
    if user.role not in ROLES:
        raise _field_error("role", "未知角色 (unknown role)")
    if user.region_id and session.get(Region, user.region_id) is None:
        raise _field_error("region_code", "行政区划代码不存在 (unknown region code)")
    if user.role in ("supervisor", "inspector", "legal") and not user.region_id:
        raise _field_error("region_code", "监管人员必须有管辖区域 (a jurisdiction is required)")
    if user.role == "inspector" and not (user.certificate_no or "").strip():
        raise _field_error("certificate_no", "执法人员必须有执法证号 (an enforcement certificate number is required)")
    if user.role == "enterprise" and not user.enterprise_id:
        raise _field_error("enterprise_id", "企业用户必须关联企业 (an enterprise is required)")
    if user.role != "enterprise":
        user.enterprise_id = None
    if user.certificate_no:
        clash = session.scalars(select(User).where(User.certificate_no == user.certificate_no,
                                                   User.id != user.id)).first()
        if clash:
            raise _field_error("certificate_no", "执法证号已被使用 (certificate number already in use)")


def create_user(session: Session, actor: Actor, data: dict, *, check_policy: bool = True,
                password_hash: str | None = None) -> User:
    """A new account with its role (a grant: check_grant). ``check_policy=False`` only for the demo seed, whose
    README password must keep working in development (seed-demo is refused in production); ``password_hash``:
    the hash of data["password"] when the caller already has it (the demo seed hashes its one password once)."""
    check_lengths(data, limits.USER)
    username = (data.get("username") or "").strip()
    if not username:
        raise _field_error("username", "用户名不能为空 (username is required)")
    if session.scalars(select(User).where(User.username == username)).first():
        raise Conflict("用户名已存在 (username already exists)", code="username_taken",
                       details={"fields": {"username": ["taken"]}})
    check_grant(actor, None, data.get("role"))
    if check_policy:
        password_policy.check_new_password(session, None, data.get("password") or "", username=username)
    user = User(
        username=username,
        display_name=data.get("display_name") or username,
        password_hash=password_hash or passwords.hash_password(data["password"]),
        role=data.get("role"),
        region_id=data.get("region_code") or None,
        enterprise_id=_resolve_enterprise(session, data.get("enterprise_id")),
        certificate_no=(data.get("certificate_no") or None),
        phone=data.get("phone"),
        must_change_password=bool(data.get("must_change_password", True)),  # an initial password is changed
        password_changed_at=utcnow(),
        is_active=True,
    )
    _check_role_fields(session, user)
    session.add(user)
    session.flush()
    record_event(session, actor, "user.created", user, data={k: v for k, v in data.items() if k != "password"})
    return user


def update_user(session: Session, actor: Actor, user: User, data: dict) -> User:
    check_lengths(data, limits.USER)
    if "role" in data and data["role"] != user.role:
        check_grant(actor, user, data["role"])
    elif user.role in ADMIN_ROLES and actor.user is not None and actor.role != "security_admin" \
            and user.id != actor.user.id:
        raise Forbidden("管理员账号由安全管理员管理 (administrator accounts are managed by the security "
                        "administrator)", code="grant_forbidden")
    before = {k: getattr(user, "region_id" if k == "region_code" else k) for k in EDITABLE}
    for key, value in data.items():
        if key not in EDITABLE:
            continue
        if key == "region_code":
            user.region_id = value or None
        elif key == "enterprise_id":
            user.enterprise_id = _resolve_enterprise(session, value)
        elif key == "certificate_no":
            user.certificate_no = value or None
        else:
            setattr(user, key, value)
    _check_role_fields(session, user)
    changes = {k: [before[k], getattr(user, "region_id" if k == "region_code" else k)]
               for k in EDITABLE if before[k] != getattr(user, "region_id" if k == "region_code" else k)}
    if changes:
        record_event(session, actor, "user.updated", user, data=changes)
    if "role" in changes:
        record_event(session, actor, "user.role_granted", user, from_state=changes["role"][0],
                     to_state=changes["role"][1])
    if "is_active" in changes and not user.is_active:
        revoke_access(session, user)
    return user


def revoke_access(session: Session, user: User) -> int:
    """A disabled account loses every token at once (portal sessions end too: they re-check is_active)."""
    return session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=utcnow())).rowcount


def disable_unused(session: Session, actor: Actor, days: int, now=None) -> list[User]:
    """Accounts not used for ``days`` days (last sign-in, or creation when never) are disabled, audited."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    stale = list(session.scalars(select(User).where(
        User.is_active.is_(True), or_(User.last_login_at < cutoff,
                                      and_(User.last_login_at.is_(None), User.created_at < cutoff)))))
    for user in stale:
        user.is_active = False
        revoked = revoke_access(session, user)
        record_event(session, actor, "user.disabled_unused", user, reason=f"{days} 天未使用",
                     data={"last_login_at": user.last_login_at, "tokens_revoked": revoked})
    session.flush()
    return stale


def reset_password(session: Session, actor: Actor, user: User, new_password: str) -> None:
    """Admin reset: the user must change it at next sign-in."""
    from .auth import set_password

    set_password(session, user, new_password, actor, forced_change=True)


def list_users_stmt(q: str | None = None, role: str | None = None):
    stmt = select(User).order_by(User.username)
    if role:
        stmt = stmt.where(User.role == role)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return stmt


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在 (user not found)")
    return user
