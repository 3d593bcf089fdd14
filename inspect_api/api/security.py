"""Bearer authentication for /api/v1: sets g.actor, checks roles."""
from __future__ import annotations

import functools

from flask import g, request

from ..errors import Forbidden, Unauthorized
from ..extensions import db
from ..services.access.actor import Actor
from ..services.accounts.auth import resolve_token


def bearer_value() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def load_actor() -> Actor:
    token = resolve_token(db.session, bearer_value())
    g.token = token
    g.actor = Actor(user=token.user, device_id=token.device_id, ip=request.remote_addr)
    return g.actor


def auth_required(*roles: str):
    """Require a live bearer token; with roles, also one of those roles (else 403)."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            actor = load_actor()
            if roles and actor.role not in roles:
                raise Forbidden("此操作不允许当前角色执行 (not allowed for this role)")
            return fn(*args, **kwargs)

        wrapper._auth_roles = roles  # noqa: SLF001 (read by the OpenAPI test)
        return wrapper

    if len(roles) == 1 and callable(roles[0]):
        fn, roles = roles[0], ()
        return decorator(fn)
    return decorator


def current_actor() -> Actor:
    actor = getattr(g, "actor", None)
    if actor is None:
        raise Unauthorized()
    return actor
