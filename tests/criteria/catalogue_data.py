"""A catalogue MADE UP FOR TESTS. It is not AQ 3067—2026: that standard's clause texts are not in this
repository and must never be invented. Every text below says so; the code TEST-AQ is not a real one.

It replaces the 2017 catalogue from 2026-09-30 (the day AQ 3067—2026 takes effect, so the tests cross
the same boundary) and applies to GB/T 4754 C25 / C26 enterprises only (an F51 trader is out of scope).
"""
from __future__ import annotations

import io
import json

MADE_UP = "【测试用虚构条款，非任何标准原文】"
TEST_META = {
    "code": "TEST-AQ", "title": "测试用虚构判定标准（非标准原文）", "doc_no": "TEST 0000—2026（虚构）",
    "kind": "industry_standard", "industries": "C25,C26", "effective_from": "2026-09-30",
    "source": "测试数据：虚构，仅用于自动化测试",
}
TEST_CLAUSES = [
    ("5.1.1", "测试分组一", "主要负责人未经考核"), ("5.1.2", "测试分组一", "特种作业人员无证"),
    ("5.1.3", "测试分组一", "未开展培训"),
    ("5.2.1", "测试分组二", "储罐未设紧急切断"), ("5.2.2", "测试分组二", "报警装置失效"),
]


def clause_rows():
    return [{"number": n, "group": g, "text": f"{MADE_UP}{t}"} for n, g, t in TEST_CLAUSES]


def catalogue_json(replaces_id: str | None = None, **changes) -> bytes:
    meta = {**TEST_META, **({"replaces_id": replaces_id} if replaces_id else {}), **changes}
    return json.dumps({"catalogue": meta, "clauses": clause_rows()}, ensure_ascii=False).encode()


def catalogue_xlsx(rows=None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["条款号", "分组", "条款内容", "释义"])
    for r in rows if rows is not None else clause_rows():
        ws.append([r.get("number"), r.get("group"), r.get("text"), r.get("guidance")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
