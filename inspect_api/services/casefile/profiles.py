"""Filing profiles: per bureau, the order of documents in a file, the documents each file type requires,
the review deadlines and the retention period — data, not code.

The default ships as inspect_api/data/casefile_profile_default.json (its "_source" says where each part
comes from); a bureau's own profile is a row of casefile_profiles, set with ``flask casefile profile-set``.
"""
from __future__ import annotations

import copy
import json
import os

from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import CaseFileProfile, utcnow

DOCUMENT_TITLES = {
    "case_approval": "立案审批表",
    "penalty_decision": "行政处罚决定书",
    "closing_approval": "结案审批表",
    "service_receipt": "文书送达回执",
    "inspection_record": "现场检查记录",
    "rectification_notice": "责令限期整改指令书",
    "review_opinion": "整改复查意见书",
    "photo_evidence": "照片证据",
    "audit_trail": "操作记录（审计日志）",
}
KINDS = ("enforcement", "inspection")
_DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "data", "casefile_profile_default.json")


def default_profile() -> dict:
    with open(_DEFAULT_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def _error(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"fields": {field: [message]}})


def validate_profile(data: dict) -> dict:
    """Check a profile's shape; unknown document types and missing parts are refused."""
    if not isinstance(data, dict):
        raise _error("profile", "档案配置须为 JSON 对象 (a JSON object is required)")
    for part in ("order", "required", "retention"):
        if not isinstance(data.get(part), dict) or set(data[part]) - set(KINDS) or not set(KINDS) <= set(data[part]):
            raise _error(part, f"{part} 须为每种卷宗类型给出 (give {part} for enforcement and inspection)")
    for kind in KINDS:
        for part in ("order", "required"):
            values = data[part][kind]
            if not isinstance(values, list) or any(v not in DOCUMENT_TITLES for v in values):
                raise _error(part, f"{part}.{kind}: 未知的文书类型 (unknown document type)")
            if part == "order" and len(set(values)) != len(values):
                raise _error(part, f"order.{kind}: 文书类型重复 (a type is listed twice)")
        enforcement_only = {"case_approval", "penalty_decision", "closing_approval"} if kind == "inspection" else set()
        missing = set(DOCUMENT_TITLES) - set(data["order"][kind]) - enforcement_only
        if missing:
            raise _error("order", f"order.{kind}: 缺少 {', '.join(sorted(missing))} (every type needs a place)")
    days = (data.get("deadlines") or {}).get("decision_after_filing_days")
    if not isinstance(days, int) or days <= 0:
        raise _error("deadlines", "decision_after_filing_days 须为正整数 (a positive number of days)")
    if not isinstance(data.get("min_officers", 2), int) or data.get("min_officers", 2) < 1:
        raise _error("min_officers", "min_officers 须为正整数")
    return data


def bureau_profile(session: Session, bureau_code: str) -> dict:
    """The bureau's own profile, else the city's (first four digits + 00), else the shipped default."""
    for code in (bureau_code, (bureau_code or "")[:4] + "00"):
        row = session.get(CaseFileProfile, code) if code else None
        if row is not None:
            return copy.deepcopy(row.data)
    return default_profile()


def set_profile(session: Session, bureau_code: str, data: dict, username: str | None) -> CaseFileProfile:
    validate_profile(data)
    row = session.get(CaseFileProfile, bureau_code)
    if row is None:
        row = CaseFileProfile(bureau_code=bureau_code, data=data)
        session.add(row)
    row.data = data
    row.updated_at = utcnow()
    row.updated_by = username
    session.flush()
    return row
