"""The two kinds of file: an enforcement case (立案 to 结案) and an inspection with its follow-up."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEvent, EnforcementCase, Enterprise, Finding, Inspection, PenaltyDecision, User
from ..lifecycle.documents import DocumentConfig, issuing_bureau
from . import collect as c
from . import pdfs
from .collect import PENALTY_WORDS, Subject


def _penalty_text(d: PenaltyDecision) -> str:
    word = PENALTY_WORDS.get(d.kind, d.kind)
    return f"{word}{d.amount:.2f}元" if d.kind == "fine" and d.amount is not None else word


def case_officers(session: Session, case: EnforcementCase, insp: Inspection | None) -> list:
    """承办人: the inspection's two officers, the officer who opened the case, those who decided."""
    ids = []
    if insp is not None:
        ids += [insp.lead_inspector_id, insp.co_inspector_id]
    ids += [case.opened_by_id] + [d.decided_by_id for d in case.decisions]
    people = []
    for uid in dict.fromkeys(i for i in ids if i):
        user = session.get(User, uid)
        if user is not None and user.role in ("inspector", "supervisor"):
            people.append(c.person(user))
    return people


def _close_reason(session: Session, case: EnforcementCase) -> str | None:
    event = session.scalars(select(AuditEvent).where(AuditEvent.object_table == "enforcement_cases",
                                                     AuditEvent.object_id == case.id, AuditEvent.action == "case.close")
                            .order_by(AuditEvent.id.desc())).first()
    return event.reason if event else None


def _case_docs(session, case, ent, bureau, officers) -> list:
    opener = c._user(session, case.opened_by_id)  # noqa: SLF001
    who = "；".join(pdfs.officer_text(o) for o in officers)
    docs = [c._form_doc("case_approval", case.number, bureau, c.local_day(case.opened_at),  # noqa: SLF001
                        (case.opened_at.isoformat(), case.id), {**c._form(bureau, "立案审批表", case.number, [  # noqa: SLF001
                            ["案号", case.number], ["案由", case.cause], ["案件来源", case.source]] + c.party(ent) + [
                            ["简要案情及立案理由", case.summary], ["承办人", who],
                            ["立案时间", c.local_time(case.opened_at)],
                            ["立案人", pdfs.officer_text(opener)]],
                            signatures=["承办人意见：__________", "审核意见：__________",
                                        "负责人审批意见：__________　　年　月　日"]),
                            "source": {"table": "enforcement_cases", "id": case.id}})]
    for d in case.decisions:
        decider = c._user(session, d.decided_by_id)  # noqa: SLF001
        paragraphs = [f"违法事实及证据：{case.summary or case.cause}",
                      f"处罚依据：{d.basis or '—'}", f"处罚内容：{_penalty_text(d)}（处罚对象：{'单位' if d.target == 'unit' else '个人'}）"]
        if d.kind == "fine":
            paragraphs.append("罚款自收到本决定书之日起15日内缴至指定银行账户；到期不缴纳的，每日按罚款数额的3%加处罚款。")
        paragraphs.append("如不服本决定，可以依法在60日内申请行政复议，或者在6个月内依法提起行政诉讼，"
                          "但本决定不停止执行，法律另有规定的除外。")
        if d.payment_status == "paid":
            paragraphs.append(f"执行情况：已于{d.paid_on.isoformat()}缴纳罚款{d.paid_amount:.2f}元。")
        data = {**c._form(bureau, "行政处罚决定书", d.number, c.party(ent) + [  # noqa: SLF001
            ["决定日期", d.decided_on.isoformat()], ["决定人", pdfs.officer_text(decider)]], paragraphs,
            ["执法人员（签名）：__________　__________", "当事人或者委托代理人（签名）：__________",
             f"{bureau}（印章）　{d.decided_on.isoformat()}"]), "source": {"table": "penalty_decisions", "id": d.id}}
        docs.append(c._form_doc("penalty_decision", d.number, bureau, d.decided_on.isoformat(),  # noqa: SLF001
                                (d.decided_on.isoformat(), d.number), data))
    if case.status == "closed" and case.closed_at is not None:
        result = "；".join(f"{d.number}：{_penalty_text(d)}" for d in case.decisions)
        paid = "；".join(f"{d.number} 已缴纳 {d.paid_amount:.2f} 元（{d.paid_on.isoformat()}）"
                        for d in case.decisions if d.payment_status == "paid") or "无罚款或不涉及缴纳"
        data = {**c._form(bureau, "结案审批表", case.number, [  # noqa: SLF001
            ["案号", case.number], ["案由", case.cause], ["当事人", ent.name], ["处理结果", result],
            ["执行情况", paid], ["结案理由", _close_reason(session, case)], ["结案时间", c.local_time(case.closed_at)],
            ["承办人", who]], signatures=["承办人意见：__________", "审核意见：__________",
                                        "负责人审批意见：__________　　年　月　日"]),
            "source": {"table": "enforcement_cases", "id": case.id, "event": "close"}}
        docs.append(c._form_doc("closing_approval", case.number, bureau, c.local_day(case.closed_at),  # noqa: SLF001
                                (case.closed_at.isoformat(), case.id), data))
    return docs


def collect_enforcement(session: Session, storage, case: EnforcementCase, config: DocumentConfig) -> Subject:
    ent = session.get(Enterprise, case.enterprise_id)
    bureau, _ = issuing_bureau(session, case.bureau_code, config)
    insp, hazards = c.enforcement_subject_parts(session, case)
    notices, rects, reviews = c.follow_up(session, hazards)
    officers = case_officers(session, case, insp)
    docs = _case_docs(session, case, ent, bureau, officers)
    if insp is not None:
        docs.append(c.inspection_doc(session, insp, ent, bureau))
    docs += [c.notice_doc(session, n, config) for n in notices]
    docs += [c.review_doc(session, r, config) for r in reviews]
    served = [("penalty_decisions", d.id, "行政处罚决定书", d.number) for d in case.decisions]
    served += [("notices", n.id, "责令限期整改指令书", n.number) for n in notices]
    docs += c.service_docs(session, served, bureau, ent)
    findings = _findings(session, insp)
    owners = [("inspections", insp.id)] if insp else []
    owners += [("findings", f.id) for f in findings] + [("hazards", h.id) for h in hazards]
    owners += [("rectifications", r.id) for r in rects]
    docs += c.photo_docs(session, storage, owners, bureau)
    members = {("enforcement_cases", case.id), *(("penalty_decisions", d.id) for d in case.decisions), *owners,
               *(("notices", n.id) for n in notices), *(("reviews", r.id) for r in reviews)}
    members |= {("photos", d.data["source"]["id"]) for d in docs if d.kind == "photo_evidence"}
    members |= {("service_records", d.data["source"]["id"]) for d in docs
                if d.kind == "service_receipt" and d.data["source"]["table"] == "service_records"}
    cover = {"kind": "enforcement", "bureau": bureau, "case_name": f"{ent.name}{case.cause}案", "cause": case.cause,
             "result": "；".join(_penalty_text(d) for d in case.decisions) or "—",
             "opened_on": c.local_day(case.opened_at), "closed_on": c.local_day(case.closed_at),
             "officers": [o["name"] for o in officers], "case_number": case.number}
    facts = {"status": case.status, "opened_on": c.local_day(case.opened_at),
             "decisions": [{"number": d.number, "decided_on": d.decided_on.isoformat()} for d in case.decisions],
             "served": _served(docs), "reviews": _review_facts(reviews, notices, hazards)}
    return Subject("enforcement", case.id, ent, case.region_code, case.bureau_code, bureau, cover, officers, docs,
                   members, [], facts)


def _findings(session: Session, insp: Inspection | None) -> list:
    if insp is None:
        return []
    return list(session.scalars(select(Finding).where(Finding.inspection_id == insp.id).order_by(Finding.id)))


def _served(docs) -> list:
    return [d.data["source"].get("document", {"id": d.data["source"]["id"]})["id"]
            for d in docs if d.kind == "service_receipt"]


def _review_facts(reviews, notices, hazards) -> list:
    by_id = {n.id: n for n in notices}
    hazard_notice = {h.id: h.notice_id for h in hazards}
    out = []
    for r in reviews:
        notice = by_id.get(hazard_notice.get(r.hazard_id))
        out.append({"number": r.number, "reviewed_at": r.reviewed_at.isoformat(),
                    "notice_number": notice.number if notice else None,
                    "notice_issued_at": notice.issued_at.isoformat() if notice and notice.issued_at else None})
    return out


def collect_inspection(session: Session, storage, insp: Inspection, config: DocumentConfig) -> Subject:
    ent = session.get(Enterprise, insp.enterprise_id)
    bureau_code = insp.region_code[:6]
    bureau, _ = issuing_bureau(session, bureau_code, config)
    hazards = c._inspection_hazards(session, insp)  # noqa: SLF001
    notices, rects, reviews = c.follow_up(session, hazards)
    officers = [c._user(session, i) for i in (insp.lead_inspector_id, insp.co_inspector_id) if i]  # noqa: SLF001
    docs = [c.inspection_doc(session, insp, ent, bureau)]
    docs += [c.notice_doc(session, n, config) for n in notices]
    docs += [c.review_doc(session, r, config) for r in reviews]
    docs += c.service_docs(session, [("notices", n.id, "责令限期整改指令书", n.number) for n in notices], bureau, ent)
    findings = _findings(session, insp)
    owners = [("inspections", insp.id)] + [("findings", f.id) for f in findings]
    owners += [("hazards", h.id) for h in hazards] + [("rectifications", r.id) for r in rects]
    docs += c.photo_docs(session, storage, owners, bureau)
    members = {*owners, *(("notices", n.id) for n in notices), *(("reviews", r.id) for r in reviews)}
    members |= {("photos", d.data["source"]["id"]) for d in docs if d.kind == "photo_evidence"}
    members |= {("service_records", d.data["source"]["id"]) for d in docs
                if d.kind == "service_receipt" and d.data["source"]["table"] == "service_records"}
    open_hazards = [h.id for h in hazards if h.status != "closed"]
    day = c.local_day(insp.started_at or insp.created_at)
    cover = {"kind": "inspection", "bureau": bureau, "case_name": f"{ent.name}现场检查（{day}）", "cause": "监督检查",
             "result": f"发现隐患{len(hazards)}项，已销号{len(hazards) - len(open_hazards)}项",
             "opened_on": day, "closed_on": max((c.local_day(h.closed_at) for h in hazards if h.closed_at),
                                               default=c.local_day(insp.finished_at)),
             "officers": [o["name"] for o in officers if o], "case_number": None}
    facts = {"status": "closed" if insp.status == "submitted" and not open_hazards else "open",
             "open_hazards": open_hazards, "opened_on": day, "decisions": [], "served": _served(docs),
             "reviews": _review_facts(reviews, notices, hazards)}
    return Subject("inspection", insp.id, ent, insp.region_code, bureau_code, bureau, cover,
                   [o for o in officers if o], docs, members, [], facts)
