"""How long a text field may be: one table for the API schemas, the services and the portal's counters.

Each entry is field -> (the label a user sees, the most characters accepted). Nothing is ever truncated:
longer input is refused with the field named (services/lifecycle/lengths.py).
"""
from __future__ import annotations

REASON = {"reason": ("原因或说明", 2000)}

HAZARD = {"description": ("隐患描述", 5000), "location": ("位置", 300), "basis": ("依据", 2000), **REASON}

NOTICE = {"safety_measures": ("整改期间安全措施要求", 5000), **REASON}

RECTIFICATION = {"description": ("整改情况", 10000), "measures": ("整改措施", 10000),
                 "responsible_person": ("责任人", 100), **REASON}

REVIEW = {"opinion": ("复查意见", 10000), "onsite_check": ("现场核查记录", 10000), **REASON}

PLAN = {"goal": ("治理目标和任务", 5000), "responsibility": ("责任：负责治理的机构和人员", 5000),
        "measures": ("措施：采取的方法和措施", 10000), "contingency": ("预案：安全措施和应急预案", 10000), **REASON}

USER = {"username": ("用户名", 80), "display_name": ("姓名", 100), "certificate_no": ("执法证号", 40),
        "phone": ("联系电话", 40)}

ALL = {"user": USER, "hazard": HAZARD, "notice": NOTICE, "rectification": RECTIFICATION, "review": REVIEW, "plan": PLAN,
       "reason": REASON}


def too_long(data: dict, limits: dict) -> dict:
    """{field: message} for every value longer than its limit (empty when all fit)."""
    errors = {}
    for field, (label, limit) in limits.items():
        value = data.get(field)
        if isinstance(value, str) and len(value) > limit:
            errors[field] = (f"{label}最多 {limit} 字，现为 {len(value)} 字 "
                             f"({field}: at most {limit} characters, got {len(value)})")
    return errors
