"""Helpers for the sync tests: a published checklist, raw WatermelonDB records, pull / push."""
from __future__ import annotations

import json
import secrets
import string

from inspect_api.models import ChecklistItem, ChecklistTemplate

_ALPHABET = string.ascii_letters + string.digits


def wm_id() -> str:
    """A WatermelonDB-shaped id (16 characters of [A-Za-z0-9])."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


def published_checklist(session, code="HC-BASIC", items=3, status="published"):
    tmpl = ChecklistTemplate(code=code, title="危化品企业基础检查表", version=1, status=status)
    session.add(tmpl)
    session.flush()
    for n in range(items):
        session.add(ChecklistItem(template_id=tmpl.id, code=f"{code}-{n + 1}", category="基础管理",
                                  content=f"检查内容 {n + 1}", position=n))
    session.flush()
    return tmpl


def inspection_raw(enterprise_id, template_id=None, **kw):
    raw = {"id": wm_id(), "enterprise_id": enterprise_id, "template_id": template_id or "",
           "lead_inspector_id": "", "co_inspector_id": "", "started_at": 1764547200000, "finished_at": None,
           "latitude": 37.73, "longitude": 115.67, "status": "draft", "note": "现场检查",
           "_status": "created", "_changed": ""}
    raw.update(kw)
    return raw


def finding_raw(inspection_id, item_id=None, result="fail", **kw):
    raw = {"id": wm_id(), "inspection_id": inspection_id, "item_id": item_id or "", "result": result,
           "note": "", "_status": "created", "_changed": ""}
    raw.update(kw)
    return raw


def hazard_raw(inspection_id, enterprise_id, **kw):
    raw = {"id": wm_id(), "inspection_id": inspection_id, "finding_id": "", "enterprise_id": enterprise_id,
           "notice_id": "", "description": "储罐区可燃气体报警器失效", "location": "罐区", "grade": "general",
           "major_criterion_code": "", "deadline_at": None, "rectified_on_spot": False, "status": "found",
           "_status": "created", "_changed": ""}
    raw.update(kw)
    return raw


def notice_raw(inspection_id, enterprise_id, **kw):
    raw = {"id": wm_id(), "inspection_id": inspection_id, "enterprise_id": enterprise_id,
           "deadline_at": 1767225600000, "issued_at": None, "number": "", "status": "",
           "_status": "created", "_changed": ""}
    raw.update(kw)
    return raw


def changes(**tables):
    """A WatermelonDB changes object: every writable table present, most with empty arrays."""
    out = {}
    for name in ("regions", "enterprises", "checklist_templates", "checklist_items", "inspections",
                 "findings", "hazards", "notices", "photos"):
        out[name] = {"created": [], "updated": [], "deleted": []}
    for name, parts in tables.items():
        out[name].update(parts)
    return out


def pull(client, headers, last=None, **params):
    query = {"last_pulled_at": "null" if last is None else last, "schema_version": 1, "migration": "null"}
    query.update(params)
    resp = client.get("/api/v1/sync", query_string=query, headers=headers)
    return resp


def pull_ok(client, headers, last=None, **params):
    resp = pull(client, headers, last, **params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return json.loads(resp.get_data(as_text=True))


def push(client, headers, body, last, **params):
    return client.post("/api/v1/sync", query_string={"last_pulled_at": last, **params}, json=body, headers=headers)


def ids(pulled, table, part):
    return {r["id"] if isinstance(r, dict) else r for r in pulled["changes"][table][part]}
