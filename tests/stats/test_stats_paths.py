"""The fast paths of the statistics service give the same figures as the plain ones.

* hazards.rectification_funds / plan_funds / plan_complete follow every report and plan written;
* migration 0003 fills them from the rows already there, with RemediationPlan.is_complete's rule;
* on PostgreSQL, the presorted closure aggregate (one FILTER per group) and the per-month UNION ALL equal
  the GROUP BY form, and a group missing from the key list sends it back to the GROUP BY form;
* on PostgreSQL, the figures computed on two connections sharing one snapshot equal those computed on
  the session alone.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from inspect_api.models import (
    ChecklistItem, ChecklistTemplate, Enterprise, Finding, Hazard, Inspection, Rectification, Region, RemediationPlan,
    Review, User,
)
from inspect_api.services.reporting import stats
from inspect_api.services.access.actor import Actor
from inspect_api.services.access.scope import scope_clause

from ..conftest import TEST_CONFIG, is_postgres
from . import dataset
from .dataset import PERIOD

D = Decimal
NOW = datetime(2026, 7, 15, 1, 0, tzinfo=timezone.utc)
pg_only = pytest.mark.skipif(not is_postgres(), reason="PostgreSQL paths (CI runs the suite on PostgreSQL too)")


def rollups(db, hazard):
    return db.execute(select(Hazard.rectification_funds, Hazard.plan_funds, Hazard.plan_complete)
                      .where(Hazard.id == hazard.id)).one()


def test_hazard_rollups_follow_reports_and_plans(db, data):
    h = data.hazards
    assert rollups(db, h["h1"]) == (D("1500.00"), None, None)  # accepted report
    assert rollups(db, h["h2"]) == (D("1200.25"), None, None)  # rejected 800.00 left out, pending counted
    assert rollups(db, h["h12"]) == (D("3000.00"), None, None)
    assert rollups(db, h["h6"]) == (None, None, None)  # an accepted report without funds
    assert rollups(db, h["h4"]) == (D("99999.00"), D("50000.00"), True)
    assert rollups(db, h["h5"]) == (None, D("120000.50"), False)  # blank contingency: not the five points

    pending = db.scalar(select(Rectification).where(Rectification.hazard_id == h["h2"].id,
                                                    Rectification.status == "pending"))
    pending.status = "rejected"
    plan5 = db.scalar(select(RemediationPlan).where(RemediationPlan.hazard_id == h["h5"].id))
    plan5.contingency = "应急预案已备案"
    plan5.funds = D("130000.00")
    db.delete(db.scalar(select(RemediationPlan).where(RemediationPlan.hazard_id == h["h4"].id)))
    db.flush()
    assert rollups(db, h["h2"]) == (None, None, None)
    assert rollups(db, h["h5"]) == (None, D("130000.00"), True)
    assert rollups(db, h["h4"]) == (D("99999.00"), None, None)
    # the hazard's own row did not change for the tablets: same cursor, same version
    before = db.execute(select(Hazard.sync_seq, Hazard.version).where(Hazard.id == h["h1"].id)).one()
    db.add(Rectification(hazard_id=h["h1"].id, enterprise_id=h["h1"].enterprise_id, region_code=h["h1"].region_code,
                         description="再次整改", funds=D("10.00"), status="pending"))
    db.flush()
    assert rollups(db, h["h1"]) == (D("1510.00"), None, None)
    assert db.execute(select(Hazard.sync_seq, Hazard.version).where(Hazard.id == h["h1"].id)).one() == before


def test_last_reviewer_follows_the_latest_review(db, data):
    h, insp1, insp2 = data.hazards, data.world["inspector1"], data.world["inspector2"]

    def last_reviewer(hazard):
        return db.scalar(select(Hazard.last_reviewer_id).where(Hazard.id == hazard.id))

    assert (last_reviewer(h["h1"]), last_reviewer(h["h12"]), last_reviewer(h["h3"])) == (insp1.id, insp2.id, None)
    rect = db.scalar(select(Rectification).where(Rectification.hazard_id == h["h1"].id))
    db.add(Review(rectification_id=_second_report(db, h["h1"]).id, hazard_id=h["h1"].id,
                  enterprise_id=rect.enterprise_id, region_code=rect.region_code, reviewer_id=insp2.id,
                  result="accepted", reviewed_at=datetime(2026, 8, 1, tzinfo=timezone.utc), number="复查〔2026〕99号"))
    db.flush()
    assert last_reviewer(h["h1"]) == insp2.id


def test_hazard_item_follows_its_finding(db, data):
    from inspect_api.models import ChecklistItem, Finding

    h1 = data.hazards["h1"]

    def item_of(hazard):
        return db.scalar(select(Hazard.item_id).where(Hazard.id == hazard.id))

    finding = db.get(Finding, h1.finding_id)
    assert item_of(h1) == finding.item_id and item_of(data.hazards["h2"]) is None
    other = ChecklistItem(template_id=db.get(ChecklistItem, finding.item_id).template_id, code="9.9",
                          category="其他", content="另一检查项", position=99)
    db.add(other)
    db.flush()
    finding.item_id = other.id
    db.flush()
    assert item_of(h1) == other.id
    h2 = data.hazards["h2"]
    h2.finding_id = finding.id
    db.flush()
    assert item_of(h2) == other.id
    h2.finding_id = None
    db.flush()
    assert item_of(h2) is None


def _second_report(db, hazard):
    r = Rectification(hazard_id=hazard.id, enterprise_id=hazard.enterprise_id, region_code=hazard.region_code,
                      description="再次整改", status="accepted")
    db.add(r)
    db.flush()
    return r


def test_migration_0003_fills_the_rollups_from_existing_rows(fresh_database_url, tmp_path):
    from alembic import command

    from inspect_api import create_app
    from inspect_api.extensions import db

    from ..unit.test_migrations import _alembic_config

    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path)})
    with app.app_context():
        cfg = _alembic_config(app)
        command.upgrade(cfg, "0002")
        now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        later = datetime(2026, 3, 5, tzinfo=timezone.utc)
        # the five points (RemediationPlan.is_complete), with blanks Python's strip() removes: U+3000, \t, \n
        tricky = [dict(contingency=" \u3000\t\n"), dict(responsibility="\u3000"), dict(measures="\t\n"),
                  dict(funds=None), dict(time_limit=None), dict(responsibility=None),
                  dict(responsibility=" a ", contingency=" c")]
        base = dict(responsibility="厂长", measures="更换", funds=D("500"), time_limit=date(2026, 4, 1),
                    contingency="预案")
        plans = [(f"H{i}", {**base, **variant}) for i, variant in enumerate([{}, *tricky], start=2)]
        # Core inserts through the model tables, naming only columns that exist at 0002
        with db.engine.begin() as conn:
            conn.execute(Region.__table__.insert(), [{"id": "131102", "name": "桃城区", "level": 3, "sync_seq": 1}])
            conn.execute(Enterprise.__table__.insert(), [{"id": "E1", "name": "甲化工", "uscc": "91131102MA0000000X",
                                                          "region_id": "131102", "sync_seq": 2}])
            conn.execute(ChecklistTemplate.__table__.insert(), [{"id": "T1", "code": "HC", "title": "检查表",
                                                                 "version": 1, "status": "published", "sync_seq": 3}])
            conn.execute(ChecklistItem.__table__.insert(), [{"id": "I1", "template_id": "T1", "code": "1.1",
                                                             "category": "储存", "content": "防火堤", "position": 1,
                                                             "sync_seq": 4}])
            conn.execute(Inspection.__table__.insert(), [{"id": "N1", "enterprise_id": "E1", "region_code": "131102",
                                                          "template_id": "T1", "status": "submitted", "sync_seq": 5}])
            conn.execute(Finding.__table__.insert(), [{"id": "F1", "inspection_id": "N1", "item_id": "I1",
                                                       "enterprise_id": "E1", "region_code": "131102", "result": "fail",
                                                       "sync_seq": 6}])
            conn.execute(Hazard.__table__.insert(), [
                {"id": f"H{i}", "enterprise_id": "E1", "region_code": "131102", "grade": "general" if i < 2 else "major",
                 "found_at": now, "sync_seq": 10 + i, "finding_id": "F1" if i == 1 else None}
                for i in range(2 + len(plans))])
            conn.execute(Rectification.__table__.insert(), [
                {"id": rid, "hazard_id": hid, "enterprise_id": "E1", "region_code": "131102", "description": "整改",
                 "funds": D(funds), "status": status, "sync_seq": 20 + n}
                for n, (rid, hid, status, funds) in enumerate([("R1", "H0", "accepted", "100.50"),
                                                               ("R2", "H0", "rejected", "7.00"),
                                                               ("R3", "H1", "rejected", "9.00"),
                                                               ("R4", "H2", "pending", "30.00")])])
            conn.execute(RemediationPlan.__table__.insert(), [{"id": "P" + hid, "hazard_id": hid, **plan}
                                                              for hid, plan in plans])
            conn.execute(User.__table__.insert(), [{"id": u, "username": u, "password_hash": "x", "role": "inspector"}
                                                   for u in ("U1", "U2")])
            # H0: U1 reviewed the rejected report, U2 the accepted one later; H2: a tie on reviewed_at -> higher id
            conn.execute(Review.__table__.insert(), [
                {"id": vid, "rectification_id": rid, "hazard_id": hid, "enterprise_id": "E1", "region_code": "131102",
                 "reviewer_id": uid, "result": "accepted", "reviewed_at": at}
                for vid, rid, hid, uid, at in [("V1", "R2", "H0", "U1", now), ("V2", "R1", "H0", "U2", later),
                                               ("V4", "R3", "H2", "U2", now), ("V3", "R4", "H2", "U1", now)]])
        command.upgrade(cfg, "head")
        reviewers = dict(db.session.execute(select(Hazard.id, Hazard.last_reviewer_id)).all())
        assert (reviewers["H0"], reviewers["H1"], reviewers["H2"]) == ("U2", None, "U2")
        items = dict(db.session.execute(select(Hazard.id, Hazard.item_id)).all())
        assert (items["H0"], items["H1"]) == (None, "I1")
        got = {r.id: (r.rectification_funds, r.plan_funds, r.plan_complete) for r in db.session.execute(
            select(Hazard.id, Hazard.rectification_funds, Hazard.plan_funds, Hazard.plan_complete))}
        complete = {hid: RemediationPlan(**plan).is_complete for hid, plan in plans}
        assert [hid for hid, ok in complete.items() if ok] == ["H2", "H9"]  # the plain plan and " a " / " c"
        assert got.pop("H0") == (D("100.50"), None, None)  # the rejected 7.00 not counted
        assert got.pop("H1") == (None, None, None)  # only a rejected report
        assert got.pop("H2") == (D("30.00"), D("500.00"), True)
        assert got == {hid: (None, plan["funds"], complete[hid]) for hid, plan in plans if hid != "H2"}
        db.session.remove()
        command.downgrade(cfg, "base")
        db.engine.dispose()


def _closure_setup(db, user, group_by):
    f = stats.make_filter(db, Actor(user), date_from=PERIOD[0], date_to=PERIOD[1], group_by=group_by, now=NOW)
    groups = stats._Groups(db, f, user)

    def where(stmt, col):
        stmt = stmt.where(Hazard.deleted_at.is_(None), scope_clause(Hazard, user), col >= f.start, col < f.end)
        if groups.needs_enterprise():
            from inspect_api.models import Enterprise
            stmt = stmt.join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        return stmt

    key = groups.key(Hazard.region_code, date_column=Hazard.closed_at, grade_column=Hazard.grade)
    return groups, where, key


def _rounded(figures: dict) -> dict:
    return {k: (v["n"], *(round(float(v[name]), 9) if v[name] is not None else None
                          for name in ("avg_days", "median_days", "p90_days"))) for k, v in figures.items()}


@pg_only
@pytest.mark.parametrize("group_by", ["county", "grade", "industry", "month"])
def test_presorted_and_per_month_closure_equal_the_group_by_form(db, data, group_by):
    groups, where, key = _closure_setup(db, data.world["admin"], group_by)
    stats.tune_for_analytics(db)
    plain, plain_total = stats._closure_grouped(db, groups, where, key)
    fast, fast_total = stats._closure_with_total(db, groups, where, key, groups.base_keys())  # [] for industry
    assert plain and _rounded(fast) == _rounded(plain)
    assert _rounded({"t": fast_total}) == _rounded({"t": plain_total})
    if group_by == "county":
        assert (plain["131102"]["n"], plain["131182"]["n"]) == (4, 1)  # h1 h12 h8 h4 in 桃城区; h6 in 深州市


@pg_only
def test_a_group_missing_from_the_keys_falls_back_to_the_group_by_form(db, data):
    groups, where, key = _closure_setup(db, data.world["admin"], "county")
    keys = [k for k in groups.base_keys() if k != "131102"]
    assert stats._closure_presorted(db, groups, where, keys) is None
    fast, _ = stats._closure_with_total(db, groups, where, key, keys)
    assert fast["131102"]["n"] == 4


@pg_only
def test_figures_on_one_shared_snapshot_equal_those_on_the_session(fresh_database_url, tmp_path, monkeypatch):
    from inspect_api import create_app
    from inspect_api.extensions import db

    from .. import factories

    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_database_url, "UPLOAD_ROOT": str(tmp_path)})
    jobs = []
    real_run_job = stats._run_job
    monkeypatch.setattr(stats, "_run_job", lambda conn, job: jobs.append(job) or real_run_job(conn, job))
    with app.app_context():
        db.create_all()
        db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
        world = factories.build_world(db.session)
        dataset.build(db.session, world)
        db.session.commit()  # a real commit: other connections see it
        try:
            for group_by in ("county", "month"):
                supervisor = db.session.get(type(world["supervisor"]), world["supervisor"].id)
                f = stats.make_filter(db.session, Actor(supervisor), date_from=PERIOD[0], date_to=PERIOD[1],
                                      group_by=group_by, now=NOW)
                jobs.clear()
                shared = stats.hazard_statistics(db.session, Actor(supervisor), f).as_dict()
                enforcement = stats.enforcement_statistics(db.session, Actor(supervisor), f).as_dict()
                assert len(jobs) == 4  # two jobs each, on connections of their own
                db.session.rollback()
                db.session.execute(text("SELECT pg_current_xact_id()"))  # this transaction now has an xid
                jobs.clear()
                alone = stats.hazard_statistics(db.session, Actor(supervisor), f).as_dict()
                assert stats.enforcement_statistics(db.session, Actor(supervisor), f).as_dict() == enforcement
                assert jobs == []  # ran on the session
                db.session.rollback()
                assert shared == alone
                assert shared["total"]["general_found"] == alone["total"]["general_found"] > 0
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
