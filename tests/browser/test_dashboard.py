"""The dashboard in headless Chromium: ECharts draws the service's figures, filters and exports work."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests import factories
from tests.conftest import start_live_server

from .conftest import DESKTOP, PHONE, ConsoleWatch, fits_width, new_page, sign_in

PASSWORD = factories.PASSWORD
Q = "from=2026-01-01&to=2026-06-30"


@pytest.fixture(scope="module")
def live():
    def seed(session, world):
        from tests.stats import dataset

        d = dataset.build(session, world)
        live_ids.update({k: h.id for k, h in d.hazards.items()})

    live_ids: dict = {}
    server, stop = start_live_server(seed=seed)
    server.hazard_ids = live_ids
    yield server
    stop()


def wait_ready(page):
    page.wait_for_selector("#dashboard[data-ready='1']", timeout=15000)


def series(page, chart_id, index=0):
    return page.evaluate(
        "([id, i]) => echarts.getInstanceByDom(document.getElementById(id)).getOption().series[i].data",
        [chart_id, index])


def kpi(page, key):
    return page.inner_text(f"[data-kpi='{key}']")


def test_supervisor_dashboard_draws_the_figures(browser, live, screens):
    watch = ConsoleWatch()
    page = new_page(browser, live.url, DESKTOP, watch)
    sign_in(page, "supervisor", PASSWORD)
    page.click("nav a:has-text('统计')")
    page.wait_for_url("**/dashboard")
    wait_ready(page)  # the current year: the data set lies in 2026's first half
    page.goto(f"/dashboard?{Q}")
    wait_ready(page)
    # KPI tiles: the hand-computed totals (tests/stats/test_stats_service.py)
    assert kpi(page, "hazards_found") == "9"
    assert kpi(page, "hazards_closed") == "4"
    assert kpi(page, "closure_rate") == "44.44"
    assert kpi(page, "overdue") == "3"
    assert kpi(page, "major_listed") == "3"
    assert kpi(page, "closure_days_median") == "10.00"
    assert kpi(page, "fines_decided_wan") == "8.56"
    assert kpi(page, "fines_collected_wan") == "4.00"
    # the charts are drawn (canvas) from the same figures
    for chart_id in ("chart-monthly", "chart-county", "chart-enforcement"):
        assert page.locator(f"#{chart_id} canvas").count() >= 1, chart_id
    assert series(page, "chart-monthly", 0) == [1, 2, 4, 1, 1, 0]  # found per month (found_at)
    assert series(page, "chart-monthly", 1) == [1, 1, 1, 1, 1, 0]  # closed per month (closed_at)
    county_rates = series(page, "chart-county")
    labels = page.evaluate("echarts.getInstanceByDom(document.getElementById('chart-county')).getOption()"
                           ".yAxis[0].data")
    rates = dict(zip(labels, county_rates))
    assert rates["桃城区"] == 60 and rates["深州市"] == 25 and rates["枣强县"] is None
    # overdue list, longest overdue first; listed major hazards not yet closed
    ids = live.hazard_ids
    overdue = page.locator("#overdue-table tbody tr")
    assert overdue.count() == 3
    assert overdue.nth(0).get_attribute("data-hazard") == ids["h2"]
    assert "131" in overdue.nth(0).inner_text() and "衡水示例化工有限公司" in overdue.nth(0).inner_text()
    listed = page.locator("#listed-table tbody tr")
    assert listed.count() == 2 and "省级" in page.inner_text("#listed-table")
    enf = page.inner_text("#enforcement-table")
    assert "罚款金额(万元)" in enf and "合计" in enf
    screens.shot(page, "dashboard")
    assert watch.real_errors() == []


def test_filters_and_export_buttons(browser, live, tmp_path):
    watch = ConsoleWatch()
    page = new_page(browser, live.url, DESKTOP, watch)
    sign_in(page, "supervisor", PASSWORD)
    page.goto(f"/dashboard?{Q}")
    wait_ready(page)
    page.select_option("select[name=region]", "131182")
    page.select_option("select[name=industry]", "C26")
    page.click("button:has-text('查询')")
    page.wait_for_url("**region=131182**")
    wait_ready(page)
    # 深州 + industry C26: only ent4 (C2614): h7, h11
    assert kpi(page, "hazards_found") == "2"
    assert kpi(page, "major_found") == "1"
    assert page.input_value("input[name=from]") == "2026-01-01"

    with page.expect_download() as info:
        page.click("[data-export='ledger-xlsx']")
    path = tmp_path / "ledger.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A1"].value == "隐患排查治理台账"
    assert [r[0] for r in ws.iter_rows(min_row=4, max_row=5, values_only=True)] == [
        live.hazard_ids["h7"], live.hazard_ids["h11"]]

    with page.expect_download() as info:
        page.click("[data-export='hazards-csv']")
    path = tmp_path / "hazards.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_bytes()[3:].decode("utf-8"))))
    assert rows[1][0] == "深州市" and rows[-1][0] == "合计"
    assert watch.real_errors() == []


def test_dashboard_fits_a_phone(browser, live):
    page = new_page(browser, live.url, PHONE)
    sign_in(page, "supervisor_taocheng", PASSWORD)
    page.goto(f"/dashboard?{Q}")
    wait_ready(page)
    assert kpi(page, "hazards_found") == "5"  # 桃城 only
    assert fits_width(page)


def test_enterprise_user_gets_403(browser, live):
    page = new_page(browser, live.url, DESKTOP)
    sign_in(page, "enterprise1", PASSWORD)
    resp = page.goto("/dashboard")
    assert resp.status == 403
