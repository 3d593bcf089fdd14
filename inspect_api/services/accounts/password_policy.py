"""The password policy (等保三级 8.1.4.1 身份鉴别), applied to every password a person sets: at account
creation, on a change, on an administrator's reset, by the CLI.

Configurable (``PasswordPolicy.from_config``, INSPECT_PASSWORD_*), defaults: at least 8 characters; at
least 3 of the 4 classes (lower-case, upper-case, digits, other characters); not the username (nor its
reverse) and not containing it; none of the user's last 5 passwords; staff passwords expire after 90 days
(0: never). Initial and reset passwords must be changed at the first sign-in (``must_change_password``).
Messages name the rule that failed, in Chinese first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import PasswordHistory, User, utcnow
from . import passwords

CLASSES = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("其他字符", re.compile(r"[^a-zA-Z0-9]")),
)
STAFF_ROLES = ("admin", "security_admin", "audit_admin", "supervisor", "inspector")


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3
    history: int = 5
    max_age_days: int = 90  # staff; 0 = never expires
    max_length: int = 128

    @classmethod
    def from_config(cls, config) -> "PasswordPolicy":
        return cls(min_length=int(config.get("PASSWORD_MIN_LENGTH", 8)),
                   min_classes=int(config.get("PASSWORD_MIN_CLASSES", 3)),
                   history=int(config.get("PASSWORD_HISTORY", 5)),
                   max_age_days=int(config.get("PASSWORD_MAX_AGE_DAYS", 90)))

    def describe(self) -> str:
        return (f"至少 {self.min_length} 位，包含大写字母、小写字母、数字、其他字符中的至少 {self.min_classes} 类，"
                f"不能与用户名相同或包含用户名，不能与最近 {self.history} 次使用过的密码相同")


_policy = PasswordPolicy()


def configure(policy: PasswordPolicy) -> None:
    """Set the policy in force (create_app, from config), as passwords.configure sets the hashing cost."""
    global _policy
    _policy = policy


def current_policy() -> PasswordPolicy:
    return _policy


def policy_problem(policy: PasswordPolicy, password: str, username: str | None = None) -> str | None:
    """The rule a new password breaks (None: it passes the rules that need no history)."""
    if not isinstance(password, str) or len(password) < policy.min_length:
        return f"密码长度不足：至少 {policy.min_length} 位 (at least {policy.min_length} characters)"
    if len(password) > policy.max_length:
        return f"密码过长：至多 {policy.max_length} 位 (at most {policy.max_length} characters)"
    have = [name for name, pattern in CLASSES if pattern.search(password)]
    if len(have) < policy.min_classes:
        return (f"密码须包含大写字母、小写字母、数字、其他字符中的至少 {policy.min_classes} 类，当前只有 "
                f"{len(have)} 类 (at least {policy.min_classes} of 4 character classes)")
    if username:
        low, name = password.lower(), username.lower()
        if name and (name in low or name[::-1] in low):
            return "密码不能与用户名相同或包含用户名 (the password must not contain the username)"
    return None


def check_new_password(session: Session, user: User | None, password: str, username: str | None = None,
                       policy: PasswordPolicy | None = None) -> None:
    """Refuse a password that breaks the policy, naming the rule (422, field ``password``)."""
    policy = policy or _policy
    problem = policy_problem(policy, password, username or (user.username if user else None))
    if problem is None and user is not None and user.id and policy.history:
        recent = [user.password_hash] + list(session.scalars(
            select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc()).limit(policy.history - 1)))
        if any(h and passwords.verify_password(h, password) for h in recent[:policy.history]):
            problem = (f"不能使用最近 {policy.history} 次使用过的密码 "
                       f"(must differ from the last {policy.history} passwords)")
    if problem:
        raise ValidationError(problem, code="weak_password", details={"fields": {"password": [problem]},
                                                                      "policy": policy.describe()})


def remember(session: Session, user: User, policy: PasswordPolicy | None = None) -> None:
    """Keep the outgoing hash (for the history rule) and trim what is older than the history needs."""
    policy = policy or _policy
    if user.id and user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=utcnow()))
        session.flush()
        keep = max(policy.history - 1, 0)
        old = list(session.scalars(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                                   .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                                   .offset(keep)))
        for row_id in old:
            session.delete(session.get(PasswordHistory, row_id))


def is_expired(user: User, now: datetime | None = None, policy: PasswordPolicy | None = None) -> bool:
    """A staff password older than the maximum age must be changed (tablets: see docs/security.md)."""
    policy = policy or _policy
    if not policy.max_age_days or user.role not in STAFF_ROLES or user.password_changed_at is None:
        return False
    return (now or utcnow()) - user.password_changed_at > timedelta(days=policy.max_age_days)
