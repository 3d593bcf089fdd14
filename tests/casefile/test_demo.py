"""The demo seed brings a legal officer and a closed case that archives without findings."""
from __future__ import annotations

from sqlalchemy import select

from inspect_api.cli.demo_casefile import DEMO_CASE_INSPECTION
from inspect_api.cli.demo_data import seed_demo
from inspect_api.models import EnforcementCase, User
from inspect_api.services.casefile import archive as archive_service

from .conftest import legal_actor

PASSWORD = "demo-pass-123"


def test_demo_seed_has_a_legal_officer_and_a_case_ready_to_archive(db, settings, tmp_path):
    seed_demo(db, password=PASSWORD)
    seed_demo(db, password=PASSWORD)  # a rerun changes nothing
    legal = db.scalars(select(User).where(User.role == "legal")).one()
    assert legal.username == "legal" and legal.certificate_no and legal.region_id == "131102"
    case = db.scalars(select(EnforcementCase).where(EnforcementCase.inspection_id == DEMO_CASE_INSPECTION)).one()
    assert case.status == "closed"
    _, _, findings = archive_service.preview(db, settings, legal_actor(legal), "enforcement", case.id)
    assert findings == []
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", case.id)
    assert cf.entry_count >= 8 and cf.findings == []


def test_cli_archive(app, db, closed_case, legal, monkeypatch):
    from .conftest import KEY_LINE

    monkeypatch.setitem(app.config, "CASEFILE_SIGNING_KEY", KEY_LINE)
    db.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["casefile", "archive", "enforcement", closed_case.id, "--as", "inspector1"])
    assert out.exit_code == 1 and "法制审核" in out.output
    out = runner.invoke(args=["casefile", "archive", "enforcement", closed_case.id, "--as", "legal1"])
    assert out.exit_code == 0, out.output
    assert "应急档〔" in out.output and "documents" in out.output
