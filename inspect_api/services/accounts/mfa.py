"""A second factor (等保三级 8.1.4.1: two or more authentication techniques): TOTP of RFC 6238 (pyotp;
30-second steps, 6 digits, one step of clock drift either way) with ten one-time recovery codes.

Required for the roles in MFA_REQUIRED_ROLES (production default: the three administrators and
supervisors; development and testing: none, and the sign-in page says so); anyone may enrol. A code is
accepted once: its time step must be later than the last accepted one (a replayed code within its window is
refused). Enrolment: a secret is drawn, shown as a QR code and text, and kept only once a code from the
authenticator confirms it (the secret is sealed at rest). The security administrator resets someone's
second factor (audited); the person enrols again at their next sign-in.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

import pyotp
import segno
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ...errors import AppError, Conflict, Forbidden
from ...models import RecoveryCode, User, utcnow
from ..access.actor import Actor
from ..access.audit import record_event

ISSUER = "衡水危化监管"
RECOVERY_CODES = 10


class InvalidCode(AppError):
    status = 401
    code = "invalid_otp"
    message = "动态验证码错误或已使用 (the one-time code is wrong or was used already)"


class CodeRequired(AppError):
    status = 401
    code = "mfa_required"
    message = "此账号须输入动态验证码 (this account needs its one-time code)"


def parse_roles(value) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def is_enrolled(user: User) -> bool:
    return bool(user.totp_secret and user.totp_enabled_at)


def is_required(user: User, required_roles: tuple[str, ...]) -> bool:
    return user.role in required_roles


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning(user: User, secret: str) -> dict:
    """What the enrolment page shows: the otpauth URI, its QR code as SVG, and the secret for typing."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    return {"uri": uri, "svg": svg, "secret": secret}


def _accept_totp(user: User, secret: str, code: str) -> bool:
    totp = pyotp.TOTP(secret)
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    now = int(utcnow().timestamp())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        step = totp.timecode(datetime.fromtimestamp(at, tz=timezone.utc))
        if secrets.compare_digest(totp.at(at), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed within its window
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(session: Session, actor: Actor, user: User, secret: str, code: str) -> list[str]:
    """Keep the secret once a code confirms it; returns the recovery codes (shown once)."""
    if is_enrolled(user):
        raise Conflict("已启用动态验证码 (a second factor is enrolled already)", code="mfa_enrolled")
    user.totp_last_step = None
    if not _accept_totp(user, secret, code):
        raise InvalidCode()
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    codes = [f"{secrets.randbelow(10**10):010d}" for _ in range(RECOVERY_CODES)]
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all([RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes])
    session.flush()
    record_event(session, actor, "mfa.enrolled", user)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def verify(session: Session, actor: Actor, user: User, code: str) -> str:
    """A sign-in's second step: a TOTP code, or a recovery code (used up). Returns "totp" or "recovery"."""
    if not is_enrolled(user):
        raise CodeRequired()
    if _accept_totp(user, user.totp_secret, code):
        return "totp"
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(digits) == 10:
        row = session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(digits),
            RecoveryCode.used_at.is_(None))).first()
        if row is not None:
            row.used_at = utcnow()
            record_event(session, actor, "mfa.recovery_code_used", user)
            return "recovery"
    raise InvalidCode()


def reset(session: Session, actor: Actor, user: User, reason: str | None = None) -> None:
    """The security administrator resets someone's second factor (they enrol again); audited."""
    if actor.user is not None and actor.role != "security_admin":
        raise Forbidden("仅安全管理员可以重置动态验证码 (only the security administrator)")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=utcnow()))
    record_event(session, actor, "mfa.reset", user, reason=reason)


def _hash(code: str) -> str:
    return hashlib.sha256(("inspect-recovery:" + code).encode("utf-8")).hexdigest()
