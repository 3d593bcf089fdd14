"""A small, fully known data set for the statistics tests.

Every expected figure in tests/stats is computed by hand from this file (the
comments show the arithmetic). Times are written in Asia/Shanghai wall-clock
time (``cst(...)``) and stored as UTC.

Period used by the tests: 2026-01-01 .. 2026-06-30 (Asia/Shanghai), so the
period is [2025-12-31 16:00 UTC, 2026-06-30 16:00 UTC) and, since it lies in
the past, as_of = its end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from inspect_api.models import (
    ChecklistItem, ChecklistTemplate, EnforcementCase, Finding, Hazard, Inspection, Notice, PenaltyDecision,
    Rectification, RemediationPlan, Review,
)

from .. import factories

CST = timezone(timedelta(hours=8))
PERIOD = (date(2026, 1, 1), date(2026, 6, 30))
# "now" for the ledger's days overdue in service tests
LEDGER_NOW = datetime(2026, 7, 15, 9, 0, tzinfo=CST)


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CST).astimezone(timezone.utc)


@dataclass
class Data:
    world: object
    ent4: object
    hazards: dict = field(default_factory=dict)


_seq = [0]


def _number(prefix):
    _seq[0] += 1
    return f"{prefix}-{_seq[0]:06d}"


def build(session, world) -> Data:
    w = world
    ent1, ent2, ent3 = w.ent1, w.ent2, w.ent_shenzhou  # 桃城 C26, 桃城 C26, 深州 F51
    ent4 = factories.enterprise(session, "深州精细化工有限公司", "131182", seed=104, industry="C2614")
    gone = factories.enterprise(session, "已注销化工厂", "131102", seed=105, industry="C26")
    gone.deleted_at = cst(2026, 1, 5, 9, 0)  # not due
    d = Data(world=w, ent4=ent4)
    insp1, insp2, insp3 = w["inspector1"], w["inspector2"], w["inspector3"]

    tpl = ChecklistTemplate(code="WHP-STATS", title="危化品企业检查表", version=1, status="published")
    session.add(tpl)
    session.flush()
    item = ChecklistItem(template_id=tpl.id, code="1.1", category="储存", content="储罐区防火堤完好、无破损", position=1)
    session.add(item)
    session.flush()

    def inspection(ent, started, status="submitted"):
        i = Inspection(enterprise_id=ent.id, region_code=ent.region_id, lead_inspector_id=insp1.id,
                       co_inspector_id=insp2.id, started_at=started, status=status)
        session.add(i)
        session.flush()
        return i

    i1 = inspection(ent1, cst(2026, 2, 10, 8, 30))
    inspection(ent1, cst(2026, 3, 5, 9, 0))
    i3 = inspection(ent3, cst(2026, 3, 20, 8, 0))
    inspection(ent2, cst(2026, 2, 11, 9, 0), status="draft")  # a draft is not an inspection yet
    inspection(ent4, cst(2025, 12, 31, 23, 0))  # the day before the period (local time)
    inspection(ent4, cst(2026, 1, 1, 0, 30))  # 2025-12-31 16:30 UTC: inside the period

    finding = Finding(inspection_id=i1.id, item_id=item.id, enterprise_id=ent1.id, region_code=ent1.region_id,
                      result="fail")
    session.add(finding)
    session.flush()

    def hazard(name, ent, grade, found, *, deadline=None, status="ordered", closed=None, listing=None, **kw):
        h = Hazard(enterprise_id=ent.id, region_code=ent.region_id, grade=grade, found_at=found,
                   deadline_at=deadline, status=status, closed_at=closed, listing_level=listing,
                   description=kw.pop("description", f"隐患 {name}"), **kw)
        session.add(h)
        session.flush()
        d.hazards[name] = h
        return h

    h1 = hazard("h1", ent1, "general", cst(2026, 2, 10, 9, 0), deadline=cst(2026, 2, 20, 18, 0), status="closed",
                closed=cst(2026, 2, 15, 9, 0), finding_id=finding.id, inspection_id=i1.id,
                description="储罐区防火堤破损")  # 5.0 days
    h2 = hazard("h2", ent1, "general", cst(2026, 2, 10, 10, 0), deadline=cst(2026, 2, 20, 18, 0), status="reported")
    hazard("h3", ent2, "general", cst(2026, 3, 1, 8, 0), deadline=cst(2026, 8, 1, 18, 0), status="ordered",
           description='=HYPERLINK("http://evil.example","点击")')
    h4 = hazard("h4", ent1, "major", cst(2026, 3, 5, 10, 0), deadline=cst(2026, 5, 1, 18, 0), status="closed",
                closed=cst(2026, 4, 4, 10, 0), listing="city")  # 30.0 days
    h5 = hazard("h5", ent3, "major", cst(2026, 3, 20, 9, 0), deadline=cst(2026, 4, 20, 18, 0), status="rejected",
                listing="province", description="液氯储罐 <紧急切断> & 联锁未投用", inspection_id=i3.id)
    h6 = hazard("h6", ent3, "general", cst(2026, 3, 20, 9, 30), status="closed",
                closed=cst(2026, 3, 22, 21, 30))  # 2.5 days, no deadline
    hazard("h7", ent4, "general", cst(2026, 1, 1, 0, 30), deadline=cst(2026, 6, 30, 12, 0), status="closed",
                closed=cst(2026, 7, 2, 10, 0))  # closed after the period: open at as_of, overdue
    h8 = hazard("h8", ent1, "general", cst(2025, 12, 20, 9, 0), status="closed",
                closed=cst(2026, 1, 10, 9, 0))  # found before the period, closed in it: 21.0 days
    hazard("h9", ent2, "general", cst(2026, 6, 30, 23, 59), status="ordered",
           deleted_at=cst(2026, 7, 1, 9, 0))  # deleted: nowhere
    hazard("h10", ent1, "general", cst(2026, 7, 1, 0, 0), status="found")  # first instant after the period
    hazard("h11", ent4, "major", cst(2026, 4, 10, 9, 0), status="found", listing="county")  # no plan, no deadline
    h12 = hazard("h12", ent2, "general", cst(2026, 5, 5, 9, 0), deadline=cst(2026, 5, 10, 18, 0), status="closed",
                 closed=cst(2026, 5, 15, 9, 0))  # 10.0 days, closed late

    # remediation plans of the major hazards
    session.add(RemediationPlan(hazard_id=h4.id, responsibility="厂长张三负责", measures="更换紧急切断阀",
                                funds=Decimal("50000.00"), time_limit=date(2026, 4, 30), contingency="应急预案已备案"))
    session.add(RemediationPlan(hazard_id=h5.id, responsibility="安全部", measures="恢复联锁",
                                funds=Decimal("120000.50"), time_limit=date(2026, 4, 20),
                                contingency=" \u3000\t"))  # blank contingency: not the five points
    session.flush()

    def rect(h, status, funds, reported, **fix):
        r = Rectification(hazard_id=h.id, enterprise_id=h.enterprise_id, region_code=h.region_code,
                          description="已整改", funds=funds, status=status, reported_at=reported, **fix)
        session.add(r)
        session.flush()
        return r

    r1 = rect(h1, "accepted", Decimal("1500.00"), cst(2026, 2, 14, 9, 0), measures="修补防火堤破损处并做防渗",
              responsible_person="张三", completed_on=date(2026, 2, 13))
    r2a = rect(h2, "rejected", Decimal("800.00"), cst(2026, 2, 16, 9, 0))
    rect(h2, "pending", Decimal("1200.25"), cst(2026, 2, 25, 9, 0))
    r12a = rect(h12, "rejected", Decimal("400.00"), cst(2026, 5, 11, 9, 0))
    r12b = rect(h12, "accepted", Decimal("3000.00"), cst(2026, 5, 14, 9, 0))
    r6 = rect(h6, "accepted", None, cst(2026, 3, 22, 9, 0))
    rect(h4, "accepted", Decimal("99999.00"), cst(2026, 4, 1, 9, 0))  # major: the plan's funds count instead
    r8 = rect(h8, "accepted", Decimal("700.00"), cst(2026, 1, 9, 9, 0))  # found before the period

    def review(r, result, reviewer, at, opinion=""):
        v = Review(rectification_id=r.id, hazard_id=r.hazard_id, enterprise_id=r.enterprise_id,
                   region_code=r.region_code, reviewer_id=reviewer.id, result=result, reviewed_at=at,
                   number=_number("复查"), opinion=opinion)
        session.add(v)
        session.flush()

    review(r1, "accepted", insp1, cst(2026, 2, 15, 9, 0), opinion="经复查，整改合格")
    review(r2a, "rejected", insp1, cst(2026, 2, 18, 9, 0))
    review(r12a, "rejected", insp1, cst(2026, 5, 12, 9, 0))
    review(r12b, "accepted", insp2, cst(2026, 5, 15, 9, 0), opinion="=合格")  # the latest review of h12
    review(r6, "accepted", insp3, cst(2026, 3, 22, 21, 0))
    review(r8, "accepted", insp1, cst(2026, 1, 10, 9, 0))

    def notice(ent, issued):
        n = Notice(enterprise_id=ent.id, region_code=ent.region_id, issued_at=issued, number=_number("责改"))
        session.add(n)
        session.flush()

    notice(ent1, cst(2026, 2, 10, 11, 0))
    notice(ent3, cst(2026, 3, 20, 11, 0))
    notice(ent2, None)  # not issued
    notice(ent1, cst(2025, 12, 1, 11, 0))  # before the period

    def case_(ent, opened, seq):
        c = EnforcementCase(enterprise_id=ent.id, region_code=ent.region_id, bureau_code="131100", year=opened.year,
                            seq_no=seq, number=_number("立"), cause="未落实隐患整改", opened_at=opened,
                            opened_by_id=insp1.id)
        session.add(c)
        session.flush()
        return c

    c1 = case_(ent1, cst(2026, 3, 6, 9, 0), 1)
    c2 = case_(ent3, cst(2026, 3, 21, 9, 0), 2)
    c3 = case_(ent3, cst(2025, 11, 1, 9, 0), 3)

    def penalty(c, kind, decided, amount=None, paid=None, paid_on=None, seq=0):
        p = PenaltyDecision(case_id=c.id, enterprise_id=c.enterprise_id, region_code=c.region_code, kind=kind,
                            amount=amount, decided_on=decided,
                            payment_status="paid" if paid is not None else ("unpaid" if amount else "not_applicable"),
                            paid_amount=paid, paid_on=paid_on, bureau_code="131100", year=decided.year,
                            seq_no=seq, number=_number("罚"))
        session.add(p)
        session.flush()

    penalty(c1, "fine", date(2026, 3, 10), Decimal("30000.00"), Decimal("30000.00"), date(2026, 4, 1), seq=1)
    penalty(c2, "fine", date(2026, 3, 25), Decimal("55555.55"), seq=2)
    penalty(c2, "suspend_production", date(2026, 3, 25), seq=3)
    penalty(c3, "fine", date(2025, 11, 10), Decimal("10000.00"), Decimal("10000.00"), date(2026, 1, 5), seq=4)
    penalty(c1, "warning", date(2026, 6, 30), seq=5)  # the last day of the period
    penalty(c1, "fine", date(2026, 7, 1), Decimal("5000.00"), seq=6)  # after it
    return d
