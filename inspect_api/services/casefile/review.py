"""评查: the checks a legal officer's file review runs before archiving, each a named finding.

A finding is {code, severity, message, details}. Severity "error" blocks archiving unless the legal officer
archives with a written reason (kept on the 备考表 and in the audit log); "warning" is shown only.
Deadlines come from the bureau's profile (profiles.py); the 90-day default is a recalled figure.
"""
from __future__ import annotations

from datetime import date, datetime

from .collect import Subject
from .profiles import DOCUMENT_TITLES


def _finding(code: str, severity: str, message: str, **details) -> dict:
    return {"code": code, "severity": severity, "message": message, "details": details}


def review_file(subject: Subject, profile: dict, entries: list | None = None) -> list[dict]:
    findings = []
    facts = subject.facts
    if facts.get("status") != "closed":
        message = "案件尚未结案 (the case is not closed)" if subject.kind == "enforcement" else \
            "检查发现的隐患尚未全部销号 (hazards of the inspection are still open)"
        findings.append(_finding("not_closed", "error", message, open_hazards=facts.get("open_hazards", [])))
    kinds = {d.kind for d in subject.docs}
    for kind in profile["required"][subject.kind]:
        if kind not in kinds:
            findings.append(_finding("missing_document", "error",
                                     f"缺少{DOCUMENT_TITLES[kind]} (missing {kind})", document=kind))
    served = set(facts.get("served", []))
    for d in subject.docs:
        if d.kind == "penalty_decision" and d.data["source"]["id"] not in served:
            findings.append(_finding("missing_document", "error",
                                     f"行政处罚决定书 {d.number} 没有送达回执 (decision not served)",
                                     document="service_receipt", for_number=d.number))
    minimum = profile.get("min_officers", 2)
    certs = {o.get("certificate_no") for o in subject.officers if o and o.get("certificate_no")}
    if len(certs) < minimum:
        findings.append(_finding("too_few_officers", "error",
                                 f"执法人员少于{minimum}人（持不同执法证号） (fewer than {minimum} officers)",
                                 officers=[o.get("name") for o in subject.officers if o], distinct_certificates=len(certs)))
    limit = profile["deadlines"]["decision_after_filing_days"]
    opened = facts.get("opened_on")
    for decision in facts.get("decisions", []):
        days = (date.fromisoformat(decision["decided_on"]) - date.fromisoformat(opened)).days if opened else 0
        if days > limit:
            findings.append(_finding("decision_late", "error",
                                     f"处罚决定 {decision['number']} 在立案后第{days}日作出，超过{limit}日 (decision late)",
                                     number=decision["number"], days=days, limit=limit))
    for r in facts.get("reviews", []):
        if r.get("notice_issued_at") and datetime.fromisoformat(r["reviewed_at"]) < datetime.fromisoformat(
                r["notice_issued_at"]):
            findings.append(_finding("review_before_notice", "error",
                                     f"复查意见书 {r['number']} 日期早于指令书 {r['notice_number']} (review dated before its notice)",
                                     number=r["number"], notice_number=r["notice_number"]))
    if entries is not None:
        findings += page_gaps(entries)
    return findings


def page_gaps(entries: list) -> list[dict]:
    """Page numbers must run 1, 2, 3 … without a gap or overlap across the documents."""
    out, expected = [], 1
    for e in entries:
        first, last = e["pages"]
        if first != expected or last < first:
            out.append(_finding("page_gap", "error",
                                f"第{e['seq']}件页号 {first}-{last}，应从第{expected}页起 (page-number gap)",
                                seq=e["seq"], first=first, expected=expected))
        expected = max(expected, last + 1)
    return out


def blocking(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["severity"] == "error"]
