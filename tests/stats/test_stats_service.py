"""Every figure of the statistics service against values computed by hand from tests/stats/dataset.py."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from inspect_api.errors import Forbidden
from inspect_api.services.reporting import stats
from inspect_api.services.access.actor import Actor

from .dataset import PERIOD

D = Decimal
NOW = datetime(2026, 7, 15, 1, 0, tzinfo=timezone.utc)


def _filter(db, user, **kw):
    kw.setdefault("date_from", PERIOD[0])
    kw.setdefault("date_to", PERIOD[1])
    return stats.make_filter(db, Actor(user), now=NOW, **kw)


def hazards(db, user, **kw):
    return stats.hazard_statistics(db, Actor(user), _filter(db, user, **kw))


def enforcement(db, user, **kw):
    return stats.enforcement_statistics(db, Actor(user), _filter(db, user, allowed_groups=stats.ENFORCEMENT_GROUPS,
                                                                 **kw))


def by_key(table):
    return {r["key"]: r for r in table.rows}


def test_period_is_local_calendar_days_and_as_of_is_its_end(db, data):
    f = _filter(db, data.world["supervisor"])
    assert f.start == datetime(2025, 12, 31, 16, 0, tzinfo=timezone.utc)
    assert f.end == datetime(2026, 6, 30, 16, 0, tzinfo=timezone.utc)
    assert f.as_of == f.end  # the period is over: states are judged at its end


def test_hazard_figures_by_county_match_the_hand_count(db, data):
    t = hazards(db, data.world["supervisor"])
    rows = by_key(t)
    # every county of Hengshui is listed, empty ones with zeros
    assert list(rows) == ["131102", "131103", "131121", "131122", "131123", "131124", "131125", "131126",
                          "131127", "131128", "131182"]
    tc, sz = rows["131102"], rows["131182"]
    assert tc["label"] == "桃城区" and sz["label"] == "深州市"
    # 桃城: due ent1, ent2 (the deleted enterprise is not due); inspected ent1 only (ent2's was a draft)
    assert (tc["enterprises_due"], tc["enterprises_inspected"], tc["coverage_rate"]) == (2, 1, D("50.00"))
    # general h1 h2 h3 h12, closed by as_of h1 h12
    assert (tc["general_found"], tc["general_rectified"], tc["general_rate"]) == (4, 2, D("50.00"))
    assert (tc["major_found"], tc["major_closed"], tc["major_rate"]) == (1, 1, D("100.00"))
    assert (tc["major_planned"], tc["major_plan_complete"]) == (1, 1)
    assert (tc["hazards_found"], tc["hazards_closed"], tc["closure_rate"]) == (5, 3, D("60.00"))
    assert (tc["major_listed"], tc["listed_province"], tc["listed_city"], tc["listed_county"]) == (1, 0, 1, 0)
    # funds: h1 1500.00 + h2 1200.25 (its rejected 800 not) + h12 3000.00 (its rejected 400 not) + h4 plan 50000.00
    assert tc["funds_yuan"] == D("55700.25") and tc["funds_wan"] == D("5.5700")
    # open at as_of: h2, h3; overdue: h2 (deadline 02-20); h3's deadline is 08-01
    assert (tc["unrectified"], tc["overdue"]) == (2, 1)
    # closed in the period: h1 5.0, h12 10.0, h8 21.0, h4 30.0 days
    assert tc["closed_in_period"] == 4
    assert tc["closure_days_avg"] == D("16.50")  # 66 / 4
    assert tc["closure_days_median"] == D("15.50")  # rank 1.5: 10 + 0.5 * 11
    assert tc["closure_days_p90"] == D("27.30")  # rank 2.7: 21 + 0.7 * 9

    # 深州: due ent3, ent4; inspected ent3 (03-20) and ent4 (01-01 00:30 local; its 12-31 23:00 one is outside)
    assert (sz["enterprises_due"], sz["enterprises_inspected"], sz["coverage_rate"]) == (2, 2, D("100.00"))
    assert (sz["general_found"], sz["general_rectified"], sz["general_rate"]) == (2, 1, D("50.00"))  # h6 h7 / h6
    assert (sz["major_found"], sz["major_closed"], sz["major_rate"]) == (2, 0, D("0.00"))  # h5 h11
    assert (sz["major_planned"], sz["major_plan_complete"]) == (1, 0)  # h5's contingency is blank
    assert (sz["hazards_found"], sz["hazards_closed"], sz["closure_rate"]) == (4, 1, D("25.00"))
    assert (sz["major_listed"], sz["listed_province"], sz["listed_city"], sz["listed_county"]) == (2, 1, 0, 1)
    assert sz["funds_yuan"] == D("120000.50") and sz["funds_wan"] == D("12.00")  # 12.00005 -> 2 decimals
    assert (sz["unrectified"], sz["overdue"]) == (3, 2)  # h5 h7 h11 / h5 h7 (h11 has no deadline)
    assert sz["closed_in_period"] == 1  # h6; h7 was closed on 07-02
    assert (sz["closure_days_avg"], sz["closure_days_median"], sz["closure_days_p90"]) == (D("2.50"),) * 3

    empty = rows["131121"]
    assert empty["label"] == "枣强县"
    assert (empty["enterprises_due"], empty["general_found"], empty["funds_wan"]) == (0, 0, D("0.0000"))
    assert empty["coverage_rate"] is None and empty["general_rate"] is None and empty["closure_days_median"] is None

    total = t.total
    assert total["label"] == "合计"
    assert (total["enterprises_due"], total["enterprises_inspected"], total["coverage_rate"]) == (4, 3, D("75.00"))
    assert (total["general_found"], total["general_rectified"], total["general_rate"]) == (6, 3, D("50.00"))
    assert (total["major_found"], total["major_closed"], total["major_rate"]) == (3, 1, D("33.33"))
    assert (total["major_planned"], total["major_plan_complete"], total["major_listed"]) == (2, 1, 3)
    assert (total["hazards_found"], total["hazards_closed"], total["closure_rate"]) == (9, 4, D("44.44"))
    assert (total["listed_province"], total["listed_city"], total["listed_county"]) == (1, 1, 1)
    assert total["funds_yuan"] == D("175700.75") and total["funds_wan"] == D("17.57")
    assert (total["unrectified"], total["overdue"]) == (5, 3)
    # closed in the period: 2.5, 5, 10, 21, 30
    assert total["closed_in_period"] == 5
    assert total["closure_days_avg"] == D("13.70")  # 68.5 / 5
    assert total["closure_days_median"] == D("10.00")  # rank 2
    assert total["closure_days_p90"] == D("26.40")  # rank 3.6: 21 + 0.6 * 9


def test_hazard_figures_by_grade(db, data):
    rows = by_key(hazards(db, data.world["supervisor"], group_by="grade"))
    assert list(rows) == ["general", "major"]
    g, m = rows["general"], rows["major"]
    assert (g["label"], m["label"]) == ("一般隐患", "重大隐患")
    assert g["enterprises_due"] is None and g["coverage_rate"] is None  # enterprises have no grade
    assert (g["general_found"], g["general_rectified"], g["major_found"]) == (6, 3, 0)
    assert (m["general_found"], m["major_found"], m["major_closed"], m["major_listed"]) == (0, 3, 1, 3)
    assert g["funds_yuan"] == D("5700.25") and m["funds_yuan"] == D("170000.50")
    assert (g["unrectified"], g["overdue"], m["unrectified"], m["overdue"]) == (3, 2, 2, 1)
    # general closed in the period: 2.5, 5, 10, 21
    assert g["closed_in_period"] == 4
    assert (g["closure_days_avg"], g["closure_days_median"], g["closure_days_p90"]) == (
        D("9.63"), D("7.50"), D("17.70"))  # 38.5/4 = 9.625; rank 1.5; rank 2.7: 10 + 0.7 * 11
    assert (m["closed_in_period"], m["closure_days_median"]) == (1, D("30.00"))


def test_hazard_figures_by_month_use_found_month_and_closed_month(db, data):
    t = hazards(db, data.world["supervisor"], group_by="month")
    rows = by_key(t)
    assert list(rows) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    jan, feb, mar, apr, may, jun = (rows[k] for k in rows)
    # found: h7 on 01-01 00:30 local (2025-12-31 UTC) is January; closed: h8 in January
    assert (jan["general_found"], jan["closed_in_period"], jan["closure_days_median"]) == (1, 1, D("21.00"))
    assert (feb["general_found"], feb["general_rectified"], feb["closed_in_period"]) == (2, 1, 1)  # h1 h2 / h1
    assert (mar["general_found"], mar["major_found"], mar["closed_in_period"]) == (2, 2, 1)  # h3 h6, h4 h5 / h6
    assert (apr["major_found"], apr["closed_in_period"], apr["closure_days_median"]) == (1, 1, D("30.00"))
    assert (may["general_found"], may["closed_in_period"]) == (1, 1)
    assert (jun["general_found"], jun["major_found"], jun["closed_in_period"]) == (0, 0, 0)
    # enterprises inspected per month: Jan ent4, Feb ent1, Mar ent1 + ent3; due is the same every month
    assert [r["enterprises_inspected"] for r in t.rows] == [1, 1, 2, 0, 0, 0]
    assert {r["enterprises_due"] for r in t.rows} == {4}
    assert t.total["enterprises_inspected"] == 3  # distinct over the period, not the sum of the months


def test_industry_group_and_filter(db, data):
    rows = by_key(hazards(db, data.world["supervisor"], group_by="industry"))
    assert list(rows) == ["C26", "C2614", "F51"]
    assert (rows["C26"]["enterprises_due"], rows["C26"]["general_found"], rows["C26"]["major_found"]) == (2, 4, 1)
    assert (rows["C2614"]["general_found"], rows["C2614"]["major_found"]) == (1, 1)  # ent4: h7, h11
    # closed in the period: C26 h1 5.0, h12 10.0, h8 21.0, h4 30.0 days; F51 (ent3) h6 2.5; C2614 none (h7: 07-02)
    assert (rows["C26"]["closed_in_period"], rows["C26"]["closure_days_median"]) == (4, D("15.50"))
    assert (rows["F51"]["closed_in_period"], rows["F51"]["closure_days_median"]) == (1, D("2.50"))
    assert (rows["C2614"]["closed_in_period"], rows["C2614"]["closure_days_median"]) == (0, None)
    # industry filter is a GB/T 4754 prefix: C26 takes ent1, ent2 and ent4 (C2614)
    t = hazards(db, data.world["supervisor"], industry="C26")
    sz = by_key(t)["131182"]
    assert (sz["enterprises_due"], sz["enterprises_inspected"], sz["general_found"], sz["major_found"]) == (1, 1, 1, 1)
    assert (t.total["enterprises_due"], t.total["general_found"], t.total["major_found"]) == (3, 5, 2)


def test_scope_and_region_filter(db, data):
    w = data.world
    taocheng = hazards(db, w["supervisor_taocheng"])
    assert [r["key"] for r in taocheng.rows] == ["131102"]
    assert (taocheng.total["general_found"], taocheng.total["enterprises_due"]) == (4, 2)
    shenzhou = hazards(db, w["inspector3"])  # inspectors read their own subtree
    assert [r["key"] for r in shenzhou.rows] == ["131182"]
    assert shenzhou.total["major_found"] == 2
    city = hazards(db, w["supervisor"], region="131182")
    assert [r["key"] for r in city.rows] == ["131182"] and city.region_label == "深州市"
    assert hazards(db, w["admin"]).total["general_found"] == 6
    with pytest.raises(stats.StatsRegionNotFound):
        _filter(db, w["supervisor_taocheng"], region="131182")
    with pytest.raises(stats.StatsRegionNotFound):
        _filter(db, w["supervisor"], region="999999")
    with pytest.raises(Forbidden):
        _filter(db, w["enterprise1"])
    with pytest.raises(stats.StatsPeriodInvalid):
        _filter(db, w["supervisor"], date_from=date(2026, 5, 1), date_to=date(2026, 4, 1))


def test_current_period_judges_states_now(db, data):
    """A period that has not ended is judged at now: h7, closed on 07-02, counts as rectified by 07-15."""
    f = stats.make_filter(db, Actor(data.world["supervisor"]), date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                          now=NOW)
    assert f.as_of == NOW
    t = stats.hazard_statistics(db, Actor(data.world["supervisor"]), f)
    # found: + h10 (07-01); h7 now closed. general 7 found, closed h1 h6 h7 h12
    assert (t.total["general_found"], t.total["general_rectified"]) == (7, 4)
    # open: h2 h3 h10 h5 h11; overdue at 07-15: h2, h5 (h3's deadline 08-01, h10 none)
    assert (t.total["unrectified"], t.total["overdue"]) == (5, 2)


def test_enforcement_figures_by_county_match_the_hand_count(db, data):
    t = enforcement(db, data.world["supervisor"])
    rows = by_key(t)
    tc, sz = rows["131102"], rows["131182"]
    assert (tc["inspections"], tc["enterprises_inspected"]) == (2, 1)  # ent1 twice; ent2's draft not
    assert (sz["inspections"], sz["enterprises_inspected"]) == (2, 2)  # ent3, ent4 (01-01 00:30 local)
    assert (tc["notices_issued"], sz["notices_issued"]) == (1, 1)  # unissued and 2025 notices not
    assert (tc["reviews"], tc["reviews_accepted"], sz["reviews"], sz["reviews_accepted"]) == (5, 3, 1, 1)
    assert (tc["cases_opened"], sz["cases_opened"]) == (1, 1)  # the 2025 case not
    # 桃城: fine 30000 (03-10) + warning (06-30); the 07-01 fine is outside
    assert (tc["penalties"], tc["penalties_fine"], tc["penalties_warning"]) == (2, 1, 1)
    assert tc["fines_decided_wan"] == D("3.0000") and tc["fines_collected_wan"] == D("3.0000")
    assert tc["suspensions"] == 0
    # 深州: fine 55555.55 + suspension; collected: 10000 paid 2026-01-05 for a 2025 decision
    assert (sz["penalties"], sz["penalties_fine"], sz["penalties_suspend_production"]) == (2, 1, 1)
    assert sz["fines_decided_yuan"] == D("55555.55") and sz["fines_decided_wan"] == D("5.56")
    assert sz["fines_collected_wan"] == D("1.0000")
    assert sz["suspensions"] == 1
    total = t.total
    assert (total["inspections"], total["enterprises_inspected"], total["notices_issued"]) == (4, 3, 2)
    assert (total["reviews"], total["reviews_accepted"], total["cases_opened"]) == (6, 4, 2)
    assert (total["penalties"], total["penalties_fine"], total["penalties_warning"],
            total["penalties_suspend_production"], total["penalties_closure"]) == (4, 2, 1, 1, 0)
    assert total["fines_decided_wan"] == D("8.56")  # 85555.55 yuan
    assert total["fines_collected_wan"] == D("4.0000")
    assert total["suspensions"] == 1


def test_enforcement_by_month(db, data):
    rows = by_key(enforcement(db, data.world["supervisor"], group_by="month"))
    assert [rows[m]["penalties"] for m in rows] == [0, 0, 3, 0, 0, 1]  # 03-10, 03-25 x2; 06-30
    assert [rows[m]["inspections"] for m in rows] == [1, 1, 2, 0, 0, 0]
    assert rows["2026-01"]["fines_collected_wan"] == D("1.0000") and rows["2026-04"]["fines_collected_wan"] == D("3.0000")
    with pytest.raises(stats.StatsGroupInvalid):
        _filter(db, data.world["supervisor"], group_by="grade", allowed_groups=stats.ENFORCEMENT_GROUPS)


def test_closure_percentiles_sqlite_formula_equals_percentile_cont(db, data):
    """On PostgreSQL both definitions run and must agree; on SQLite the window version is the one used."""
    from inspect_api.services.reporting.stats import _closure, _Groups

    from ..conftest import is_postgres

    actor = Actor(data.world["supervisor"])
    f = _filter(db, data.world["supervisor"], group_by="grade")
    g = _Groups(db, f)
    from inspect_api.models import Hazard
    from inspect_api.services.access.scope import scope_clause

    def where(stmt, col):
        return stmt.where(Hazard.deleted_at.is_(None), scope_clause(Hazard, actor.user), col >= f.start, col < f.end)

    native = _closure(db, g, where, Hazard.grade)
    if is_postgres():
        window = _closure(db, g, where, Hazard.grade, native=False)
        for k in ("general", "major"):
            assert round(float(native[k]["median_days"]), 6) == round(float(window[k]["median_days"]), 6)
            assert round(float(native[k]["p90_days"]), 6) == round(float(window[k]["p90_days"]), 6)
    assert round(float(native["general"]["p90_days"]), 6) == 17.7
