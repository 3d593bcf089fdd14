"""The sign-in throttle: one policy and one store for the API (tablets) and the portal.

Policy (docs/security.md):

* Failures are counted per **account + address** pair. The first ``free_attempts`` failures (5) cost
  nothing; the user is told how many remain ("还可尝试 N 次"). Then the pair is locked for a back-off that
  doubles with every further failure (1 min, 2, 4, 8, … at most ``max_lock_seconds``, 15 min). A pair's
  count is forgotten ``window_seconds`` (15 min) after its last failure, and at once on a success.
* An address that fails against many accounts (``address_limit`` failures in the window: a password
  spray) and an account failed from many addresses (``account_limit``: a distributed guess) are slowed
  too — but only for pairs that are not *trusted*. A pair becomes trusted when it signs in successfully
  (kept ``trust_seconds``, 30 days). So the tablets behind a bureau's NAT that have signed in before keep
  working while someone at the same address sprays made-up usernames, and a stranger cannot lock a real
  inspector out of his own tablet.
* Successful sign-ins never count. A locked attempt is refused before the password is checked.

The counters live in the ``limits`` storage named by ``RATELIMIT_STORAGE_URI``: ``memory://`` for one
process, ``redis://…`` so that every app server — API and portal alike — shares one budget.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from limits.storage import Storage, storage_from_string

from ...errors import AppError


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int = 5
    window_seconds: int = 900
    base_lock_seconds: int = 60
    max_lock_seconds: int = 900
    address_limit: int = 100
    account_limit: int = 50
    trust_seconds: int = 30 * 86400

    @classmethod
    def from_config(cls, config) -> "ThrottlePolicy":
        names = ("free_attempts", "window_seconds", "base_lock_seconds", "max_lock_seconds", "address_limit",
                 "account_limit", "trust_seconds")
        values = {n: int(config[f"LOGIN_THROTTLE_{n.upper()}"]) for n in names
                  if config.get(f"LOGIN_THROTTLE_{n.upper()}") is not None}
        return cls(**values)


class SignInThrottled(AppError):
    status = 429
    code = "too_many_requests"
    message = "登录失败次数过多，请稍后再试 (too many failed sign-ins; try again later)"

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试 "
                         f"(too many failed sign-ins; try again in {minutes} min)",
                         details={"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}
        self.retry_after = retry_after


@dataclass
class FailureOutcome:
    """What the sign-in form or the API says after a wrong password."""
    remaining: int          # attempts left before the pair is locked (0: locked now)
    retry_after: int        # seconds of lock (0 when not locked)

    @property
    def warning(self) -> str:
        if self.retry_after:
            minutes = max(1, math.ceil(self.retry_after / 60))
            return f"登录失败次数过多，请 {minutes} 分钟后再试"
        return f"还可尝试 {self.remaining} 次"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:20]


class LoginThrottle:
    def __init__(self, storage: Storage, policy: ThrottlePolicy, prefix: str = ""):
        self.storage = storage
        self.policy = policy
        self.prefix = f"{prefix}:" if prefix else ""

    @classmethod
    def from_config(cls, config) -> "LoginThrottle":
        storage = storage_from_string(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        return cls(storage, ThrottlePolicy.from_config(config), config.get("RATELIMIT_KEY_PREFIX") or "")

    # keys: usernames are case-folded and hashed (no user input in a store key)
    def _key(self, kind: str, *parts: str) -> str:
        return f"{self.prefix}inspect-login:{kind}:" + ":".join(_digest(p) for p in parts)

    @staticmethod
    def _account(username: str) -> str:
        return (username or "").strip().lower()[:150]

    def _lock_left(self, key: str) -> int:
        if self.storage.get(key) <= 0:
            return 0
        return max(1, math.ceil(self.storage.get_expiry(key) - time.time()))

    def check(self, username: str, address: str | None) -> None:
        """Raise SignInThrottled when this attempt must not be evaluated now."""
        account, address = self._account(username), address or "-"
        left = self._lock_left(self._key("lock", account, address))
        if left:
            raise SignInThrottled(left)
        if self.storage.get(self._key("trusted", account, address)) > 0:
            return
        p = self.policy
        for kind, parts, limit in (("addr", (address,), p.address_limit), ("acct", (account,), p.account_limit)):
            key = self._key(kind, *parts)
            if self.storage.get(key) >= limit:
                raise SignInThrottled(max(1, math.ceil(self.storage.get_expiry(key) - time.time())))

    def record_failure(self, username: str, address: str | None) -> FailureOutcome:
        account, address = self._account(username), address or "-"
        p = self.policy
        self.storage.incr(self._key("addr", address), p.window_seconds)
        self.storage.incr(self._key("acct", account), p.window_seconds)
        pair = self._key("pair", account, address)
        # the window runs from the last failure: clear and re-add so the expiry moves on
        count = self.storage.get(pair) + 1
        self.storage.clear(pair)
        self.storage.incr(pair, p.window_seconds, amount=count)
        if count < p.free_attempts:
            return FailureOutcome(remaining=p.free_attempts - count, retry_after=0)
        lock = min(p.max_lock_seconds, p.base_lock_seconds * 2 ** (count - p.free_attempts))
        lock_key = self._key("lock", account, address)
        self.storage.clear(lock_key)
        self.storage.incr(lock_key, lock)
        # the pair's count must outlive its lock, or the back-off would start over
        self.storage.clear(pair)
        self.storage.incr(pair, max(p.window_seconds, lock + p.window_seconds), amount=count)
        return FailureOutcome(remaining=0, retry_after=lock)

    def record_success(self, username: str, address: str | None) -> None:
        account, address = self._account(username), address or "-"
        self.storage.clear(self._key("pair", account, address))
        self.storage.clear(self._key("lock", account, address))
        trusted = self._key("trusted", account, address)
        self.storage.clear(trusted)
        self.storage.incr(trusted, self.policy.trust_seconds)

    def reset(self) -> None:
        """Forget every counter (tests; memory storage only)."""
        self.storage.reset()
