"""The dashboard's page, JSON and export buttons through the test client (the browser test draws it)."""
from __future__ import annotations

import csv
import io

import openpyxl

from tests.browser.portal_helpers import portal_login

Q = "from=2026-01-01&to=2026-06-30"


def test_dashboard_page_has_filters_charts_and_export_buttons(client, data):
    portal_login(client, "supervisor")
    resp = client.get(f"/dashboard?{Q}&region=131182")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="chart-monthly"' in html and 'id="chart-county"' in html and 'id="chart-enforcement"' in html
    assert "vendor/echarts/echarts.min.js" in html and "dashboard.js" in html
    assert "<script>" not in html  # CSP: no inline script
    assert 'value="2026-01-01"' in html and '<option value="131182" selected>' in html
    assert "/dashboard/export/ledger?format=xlsx" in html and "region=131182" in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_dashboard_json_carries_the_service_figures(client, data):
    portal_login(client, "supervisor")
    body = client.get(f"/dashboard/data.json?{Q}", headers={"Accept": "application/json"}).get_json()
    county = {r["key"]: r for r in body["hazards_by_county"]["rows"]}
    assert county["131102"]["closure_rate"] == 60.0 and county["131182"]["closure_rate"] == 25.0
    months = [r["hazards_found"] for r in body["hazards_by_month"]["rows"]]
    assert months == [1, 2, 4, 1, 1, 0]  # h7 | h1 h2 | h3 h4 h5 h6 | h11 | h12
    assert [r["closed_in_period"] for r in body["hazards_by_month"]["rows"]] == [1, 1, 1, 1, 1, 0]
    assert body["enforcement_by_county"]["total"]["fines_decided_wan"] == 8.56
    h = data.hazards
    # overdue at the period's end, longest first: h2 (02-20), h5 (04-20), h7 (06-30)
    assert [o["id"] for o in body["overdue"]] == [h["h2"].id, h["h5"].id, h["h7"].id]
    assert body["overdue"][0]["days_overdue"] == 131  # 02-20 -> 07-01 (the period's end)
    # listed and not closed at the period's end: h5 (province), h11 (county); h4 was closed
    assert {x["id"]: x["listing_label"] for x in body["listed"]} == {h["h5"].id: "省级", h["h11"].id: "县级"}


def test_dashboard_export_buttons_download_the_files(client, data):
    portal_login(client, "supervisor_taocheng")
    resp = client.get(f"/dashboard/export/ledger?format=csv&{Q}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data()[3:].decode("utf-8"))))
    assert len(rows) == 1 + 5  # 桃城: h1 h2 h3 h4 h12
    resp = client.get(f"/dashboard/export/hazards?format=xlsx&{Q}")
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).worksheets[0]
    assert ws["A4"].value == "桃城区" and ws.cell(row=5, column=1).value == "合计"


def test_enterprise_users_cannot_open_the_dashboard(client, data):
    portal_login(client, "enterprise1")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/data.json", headers={"Accept": "application/json"}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, data):
    resp = client.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
