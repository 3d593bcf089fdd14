"""Sign-in, bearer tokens, devices."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from ...errors import AppError, NotFound, Unauthorized
from ...models import ApiToken, Device, User, utcnow
from ...models import limits
from ..lifecycle.lengths import check_lengths
from . import mfa, password_policy, passwords
from .throttle import LoginThrottle
from ..access.actor import Actor
from ..access.audit import record_event


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    message = "用户名或密码错误 (invalid username or password)"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class IssuedToken:
    raw: str
    token: ApiToken
    user: User


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        raise InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if not user.must_change_password and password_policy.is_expired(user):
        # an expired staff password must be changed before the portal can be used (tablets keep syncing:
        # CONTRACT §1 has no password-change step; docs/security.md)
        user.must_change_password = True
        record_event(session, Actor(user), "user.password_expired", user)
    return user


def authenticate_throttled(session: Session, throttle: LoginThrottle | None, username: str, password: str,
                           address: str | None) -> User:
    """authenticate() behind the sign-in throttle (the one path of the API and the portal).

    A locked pair is refused (429) before the password is checked; a wrong password says how many attempts
    remain; a success clears the pair's count and trusts the pair.
    """
    if throttle is None:
        return authenticate(session, username, password)
    throttle.check(username, address)
    try:
        user = authenticate(session, username, password)
    except InvalidCredentials:
        outcome = throttle.record_failure(username, address)
        english = (f"{outcome.remaining} attempts left" if not outcome.retry_after
                   else f"locked for {outcome.retry_after} s")
        raise InvalidCredentials(f"用户名或密码错误，{outcome.warning} (invalid username or password; {english})",
                                 details={"remaining_attempts": outcome.remaining,
                                          "retry_after": outcome.retry_after}) from None
    throttle.record_success(username, address)
    return user


def register_device(session: Session, user: User, client_device_id: str, name: str | None,
                    ip: str | None) -> Device:
    device = session.scalars(
        select(Device).where(Device.user_id == user.id, Device.client_device_id == client_device_id)
    ).first()
    if device is not None and device.revoked_at is not None:
        # A revoked tablet stays revoked until an admin restores it.
        raise Unauthorized("此设备已被停用 (this device has been revoked)", code="device_revoked")
    if device is None:
        device = Device(user_id=user.id, client_device_id=client_device_id, name=name)
        session.add(device)
        session.flush()
        record_event(session, Actor(user, device.id, ip), "device.registered", device,
                     data={"client_device_id": client_device_id, "name": name})
    elif name and name != device.name:
        device.name = name
    device.last_seen_at = utcnow()
    device.last_ip = ip
    return device


def issue_token(session: Session, username: str, password: str, *, device_id: str | None = None,
                device_name: str | None = None, ip: str | None = None, ttl_seconds: int,
                otp: str | None = None, mfa_roles: tuple[str, ...] = (),
                throttle: LoginThrottle | None = None) -> IssuedToken:
    user = authenticate_throttled(session, throttle, username, password, ip)
    if mfa.is_enrolled(user) or mfa.is_required(user, mfa_roles):
        # a second factor: a token only with the one-time code (an account that must enrol does so in the
        # portal first: mfa.verify answers mfa_required)
        if not otp:
            raise mfa.CodeRequired()
        mfa.verify(session, Actor(user, None, ip), user, otp)
    device = register_device(session, user, device_id, device_name, ip) if device_id else None
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_token(raw), user_id=user.id, device_id=device.id if device else None,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds), created_ip=ip,
    )
    session.add(token)
    user.last_login_at = utcnow()
    session.flush()
    record_event(session, Actor(user, device.id if device else None, ip), "auth.token_issued", token,
                 data={"user_id": user.id})
    return IssuedToken(raw=raw, token=token, user=user)


def resolve_token(session: Session, raw: str | None, *, touch: bool = True) -> ApiToken:
    """The live token for a raw bearer value, or Unauthorized."""
    if not raw:
        raise Unauthorized()
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw))
        .options(joinedload(ApiToken.user), joinedload(ApiToken.device))  # one round trip per request
    ).first()
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthorized("令牌无效、已过期或已撤销 (token invalid, expired or revoked)")
    if not token.user.is_active:
        raise Unauthorized("账号已停用 (account disabled)")
    if token.device is not None and token.device.revoked_at is not None:
        raise Unauthorized("此设备已被停用 (this device has been revoked)")
    if touch and (token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5)):
        token.last_used_at = now
        if token.device is not None:
            token.device.last_seen_at = now
    return token


def revoke_token(session: Session, token: ApiToken, actor: Actor) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(session, actor, "auth.token_revoked", token)


def revoke_device(session: Session, device_id: str, actor: Actor, reason: str | None = None) -> Device:
    check_lengths({"reason": reason}, limits.REASON)
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("设备不存在 (device not found)")
    now = utcnow()
    if device.revoked_at is None:
        device.revoked_at = now
        device.revoked_by_id = actor.id
    count = session.execute(
        update(ApiToken).where(ApiToken.device_id == device.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    record_event(session, actor, "device.revoked", device, reason=reason, data={"tokens_revoked": count})
    return device


def restore_device(session: Session, device_id: str, actor: Actor) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("设备不存在 (device not found)")
    device.revoked_at = None
    device.revoked_by_id = None
    record_event(session, actor, "device.restored", device)
    return device


def change_password(session: Session, user: User, old: str, new: str, actor: Actor) -> None:
    if not passwords.verify_password(user.password_hash, old):
        raise InvalidCredentials("原密码错误 (current password is wrong)")
    set_password(session, user, new, actor, forced_change=False)


def set_password(session: Session, user: User, new: str, actor: Actor, *, forced_change: bool) -> None:
    """Every password a person sets goes through the policy (password_policy.py); the old hash is kept
    for the history rule."""
    password_policy.check_new_password(session, user, new)
    password_policy.remember(session, user)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = forced_change
    record_event(session, actor, "user.password_set", user, data={"must_change": forced_change})


def device_expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
