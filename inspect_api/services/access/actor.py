from __future__ import annotations

from dataclasses import dataclass

from ...models import User


@dataclass(frozen=True)
class Actor:
    """Who acts, from which device and address: handed to every service call."""

    user: User | None
    device_id: str | None = None
    ip: str | None = None

    @property
    def id(self) -> str | None:
        return self.user.id if self.user else None

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    @classmethod
    def system(cls, note: str = "cli") -> "Actor":
        return cls(user=None, device_id=None, ip=note)
