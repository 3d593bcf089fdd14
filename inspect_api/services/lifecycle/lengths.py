"""The one length check every path calls (API, portal, sync-free service callers): refuse, never cut."""
from __future__ import annotations

from ...errors import ValidationError
from ...models.limits import too_long


def check_lengths(data: dict, limits: dict) -> None:
    errors = too_long(data, limits)
    if errors:
        first = next(iter(errors.values()))
        label = first.split("最多", 1)[0]
        raise ValidationError(f"{label}超出长度限制，未保存 ({', '.join(errors)} too long; nothing was saved)",
                              details={"fields": {k: [v] for k, v in errors.items()}})
