"""The wire format of the sync protocol: columns and tables as the tablets see them, the errors a
tablet branches on, cursors and times in milliseconds."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Callable

from sqlalchemy.orm import Session

from ...errors import AppError, ValidationError
from ...models import Device, utcnow
from ..access.actor import Actor

SYNC_ROLES = ("supervisor", "inspector")
MAX_LIMIT = 50_000
CHUNK = 500  # ids per IN (...) list

# ------------------------------------------------------------------ errors


class SyncConflict(AppError):
    status = 409
    code = "sync_conflict"
    message = "服务器上的记录已在上次同步后被修改，请先拉取再推送 (records changed on the server since last_pulled_at)"


class UnknownTable(AppError):
    status = 422
    code = "unknown_table"
    message = "未知的数据表 (unknown table)"


class UnsupportedSchema(AppError):
    status = 422
    code = "unsupported_schema_version"
    message = "不支持的数据结构版本 (unsupported schema_version)"


# ------------------------------------------------------------------ the wire schema


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # id, str, text, time, float, int, bool, enum
    attr: str | None = None  # model attribute when it differs from the wire name
    choices: tuple = ()
    max_len: int | None = None
    required: bool = False
    default: Any = None
    writable: bool = True
    since: int = 1  # the schema version that added the column (CONTRACT §4)

    @property
    def column(self) -> str:
        return self.attr or self.name


@dataclass(frozen=True)
class TableSpec:
    name: str
    model: type
    cols: tuple[Col, ...]
    writable: bool = False
    since: int = 1  # the schema version that added the table (CONTRACT §4)
    # which rows a puller gets: rows(viewer) -> a WHERE clause; None: the viewer's scope (access/scope.py)
    rows: Callable[[Any], Any] | None = field(default=None, compare=False)

    @cached_property
    def push_cols(self) -> tuple[Col, ...]:
        return tuple(c for c in self.cols if c.writable)


# ------------------------------------------------------------------ small helpers


def to_millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int(value.astimezone(timezone.utc).timestamp() * 1000)


def from_millis(value) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def origin_key(actor: Actor) -> str | None:
    if actor.device_id:
        return f"d:{actor.device_id}"
    if actor.id:
        return f"u:{actor.id}"
    return None


def parse_cursor(value) -> int:
    """``last_pulled_at``: null, "null", "", 0 or absent mean everything."""
    if value is None or value == "" or value == "null" or value == "undefined":
        return 0
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        raise ValidationError("last_pulled_at 须为整数或 null (last_pulled_at must be an integer or null)",
                              details={"fields": {"last_pulled_at": ["Not an integer."]}}) from None
    if cursor < 0:
        raise ValidationError("last_pulled_at 不得为负数 (last_pulled_at must not be negative)",
                              details={"fields": {"last_pulled_at": ["Must be >= 0."]}})
    return cursor



def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


DEVICE_TOUCH_INTERVAL = timedelta(seconds=60)


def touch_device(session: Session, actor: Actor) -> None:
    """Record the device's last sync (to the minute: a tablet pulling in a loop writes nothing). The device
    was loaded with the bearer token, so deciding costs no query."""
    if not actor.device_id:
        return
    now = utcnow()
    device = session.get(Device, actor.device_id)
    if device is not None and (device.last_sync_at is None or device.last_sync_at < now - DEVICE_TOUCH_INTERVAL):
        device.last_sync_at = now
