"""Small shared pieces of the self-inspection services: the local day, field errors, enterprise access."""
from __future__ import annotations

from datetime import date, datetime

from ...errors import Forbidden, ValidationError
from ...models import User, utcnow
from ..lifecycle.numbering import SHANGHAI


def local_today(now: datetime | None = None) -> date:
    """Today's calendar day in Asia/Shanghai."""
    return (now or utcnow()).astimezone(SHANGHAI).date()


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def text(data: dict, key: str, *, required: bool = False, max_len: int = 200) -> str | None:
    """A trimmed text field; refused (never cut) when too long."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise field_error(key, "此项必填 (required)")
        return None
    if not isinstance(value, str):
        raise field_error(key, "须为文字 (must be text)")
    value = value.strip()
    if len(value) > max_len:
        raise field_error(key, f"不能超过 {max_len} 个字符，当前 {len(value)} 个 (at most {max_len} characters)")
    return value


def require_enterprise_user(user: User) -> str:
    """The enterprise of an enterprise user; anyone else is refused."""
    if user is None or user.role != "enterprise" or not user.enterprise_id:
        raise Forbidden("仅企业用户可以操作 (enterprise users only)")
    return user.enterprise_id


def require_role(user: User, *roles: str) -> None:
    if user is None or user.role not in roles:
        raise Forbidden("无权执行此操作 (not allowed for your role)")
