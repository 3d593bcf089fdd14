"""Lifecycle test helpers: an API driver over the test client."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from inspect_api.models import AuditEvent, Hazard

from . import helpers


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def days_from_now(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


class Api:
    """Thin driver: one signed-in header set per username, JSON in, (status, body) out."""

    def __init__(self, client, auth, db, world):
        self.client, self.auth, self.db, self.world = client, auth, db, world
        self._headers = {}

    def h(self, username):
        if username not in self._headers:
            self._headers[username] = self.auth.headers(username)
        return self._headers[username]

    def call(self, method, username, path, json=None, query=None):
        resp = self.client.open(f"/api/v1{path}", method=method, headers=self.h(username), json=json,
                                query_string=query)
        body = resp.get_json(silent=True)
        return resp.status_code, body

    def get(self, username, path, query=None):
        return self.call("GET", username, path, query=query)

    def post(self, username, path, json=None):
        return self.call("POST", username, path, json=json if json is not None else {})

    def put(self, username, path, json):
        return self.call("PUT", username, path, json=json)

    # ---- lifecycle shortcuts (each asserts its own success)

    def new_hazard(self, inspection, description="储罐区可燃气体报警器失效", **extra):
        status, body = self.post("inspector1", "/hazards", {"inspection_id": inspection.id,
                                                            "description": description, **extra})
        assert status == 201, body
        return body

    def issue(self, hazard_ids, deadline=None, officer="inspector1", officer2="inspector2", **extra):
        status, body = self.post(officer, "/notices", {
            "hazard_ids": hazard_ids, "deadline_at": iso(deadline or days_from_now(15)),
            "officer2_id": self.world[officer2].id, **extra})
        assert status == 201, body
        return body

    def hazard(self, hazard_id, username="inspector1"):
        status, body = self.get(username, f"/hazards/{hazard_id}")
        assert status == 200, body
        return body

    def events(self, hazard_id):
        self.db.expire_all()
        return [e.action for e in self.db.query(AuditEvent).filter_by(object_table="hazards", object_id=hazard_id)
                .order_by(AuditEvent.id)]

    def row(self, hazard_id) -> Hazard:
        self.db.expire_all()
        return self.db.get(Hazard, hazard_id)


@pytest.fixture()
def api(client, auth, db, world):
    return Api(client, auth, db, world)


@pytest.fixture()
def inspection(db, world):
    insp = helpers.inspection(db, world)
    db.commit()
    return insp
