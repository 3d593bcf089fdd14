"""Hazards (隐患), their remediation plans, rectifications (整改) and reviews (复查)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL, Boolean, Date, ForeignKey, Index, Numeric, String, Text, event, func, inspect, literal_column, select, text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from .base import SyncMixin, TimestampMixin, UTCDateTime, new_id, utcnow

HAZARD_GRADES = ("general", "major")
# found -> ordered -> acknowledged -> reported -> (accepted) closed | rejected -> rectifying ...
# "verified": a major hazard whose fix was accepted on review, awaiting a supervisor's closure
HAZARD_STATUSES = ("found", "ordered", "acknowledged", "reported", "rejected", "verified", "closed")
LISTING_LEVELS = ("province", "city", "county")
CLOSURE_DAYS_SQL = "date_part('epoch', closed_at - found_at) / 86400.0"


class Hazard(SyncMixin, TimestampMixin, db.Model):
    __tablename__ = "hazards"
    # Statistics (services/stats.py): period scans by found_at / closed_at; on PostgreSQL the INCLUDE
    # columns make them index-only scans over 1M+ hazards (SQLite: plain indexes).
    __table_args__ = (
        Index("ix_hazards_stats_found", "found_at", postgresql_include=[
            "region_code", "grade", "status", "closed_at", "deadline_at", "listing_level", "deleted_at", "id",
            "enterprise_id"]),
        Index("ix_hazards_stats_closed", "closed_at", postgresql_include=[
            "found_at", "region_code", "grade", "status", "deleted_at"]),
        # Closed hazards in order of their closure time, with what the statistics filter on: percentile_cont
        # reads its input presorted (PostgreSQL only: the expression is PostgreSQL's; migration 0003).
        Index("ix_hazards_closure_days", text(f"({CLOSURE_DAYS_SQL})"),
              postgresql_include=["closed_at", "found_at", "region_code", "enterprise_id", "grade", "deleted_at"],
              postgresql_where=text("status = 'closed' AND closed_at IS NOT NULL")).ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    finding_id: Mapped[str | None] = mapped_column(ForeignKey("findings.id"))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("notices.id"), index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    location: Mapped[str | None] = mapped_column(String(300))
    grade: Mapped[str] = mapped_column(String(10), nullable=False, default="general")
    major_criterion_code: Mapped[str | None] = mapped_column(String(40))
    # the clause (of one catalogue version) a major hazard was judged by; checked by services/criteria/rules.py
    # on every path (no FOREIGN KEY, like item_id: SQLite cannot drop a referencing column in a downgrade)
    criterion_clause_id: Mapped[str | None] = mapped_column(String(64), index=True)
    basis: Mapped[str | None] = mapped_column(Text)  # legal basis shown on the notice
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    rectified_on_spot: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="found", index=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    found_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # 挂牌督办
    listing_level: Mapped[str | None] = mapped_column(String(10))
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # Optimistic concurrency for lifecycle transitions (compare-and-set)
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    # Kept by the after_flush hook below for the statistics and the ledger (one scan of hazards, no join
    # with the big tables); never synced:
    # 整改资金 (元) of its rectification reports not rejected (pending or accepted);
    rectification_funds: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # its remediation plan's funds (元), and whether the plan meets the five points (None: no plan);
    plan_funds: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    plan_complete: Mapped[bool | None] = mapped_column(Boolean)
    # the reviewer of its latest review (by reviewed_at, then id), for the ledger (复查人);
    last_reviewer_id: Mapped[str | None] = mapped_column(String(64))
    # its finding's checklist item (检查项目), for the ledger; the sync push writes it with the hazard.
    item_id: Mapped[str | None] = mapped_column(String(64))
    # Who found it: "inspection" (an inspector) or "self" (the enterprise's own check, 企业自查,
    # services/selfcheck); with the self-check it came from. Not on the sync wire.
    origin: Mapped[str] = mapped_column(String(12), nullable=False, server_default="inspection")
    self_check_id: Mapped[str | None] = mapped_column(String(64), index=True)

    enterprise = relationship("Enterprise")
    inspection = relationship("Inspection")
    criterion_clause = relationship("CriteriaClause", viewonly=True,
                                    primaryjoin="foreign(Hazard.criterion_clause_id) == CriteriaClause.id")
    notice: Mapped[Notice | None] = relationship(back_populates="hazards")
    plan: Mapped[RemediationPlan | None] = relationship(back_populates="hazard", uselist=False)
    rectifications: Mapped[list[Rectification]] = relationship(
        back_populates="hazard", order_by="Rectification.reported_at"
    )

    __mapper_args__ = {"version_id_col": version}


class RemediationPlan(TimestampMixin, db.Model):
    """The plan a major hazard needs: the five points (五落实: 责任、措施、资金、时限、预案)."""

    __tablename__ = "remediation_plans"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), nullable=False, unique=True)
    responsibility: Mapped[str | None] = mapped_column(Text)  # 责任: 负责治理的机构和人员
    measures: Mapped[str | None] = mapped_column(Text)  # 措施
    funds: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 资金 (元)
    time_limit: Mapped[date | None] = mapped_column(Date)  # 时限
    contingency: Mapped[str | None] = mapped_column(Text)  # 预案: 安全措施和应急预案
    goal: Mapped[str | None] = mapped_column(Text)  # 治理的目标和任务
    submitted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    hazard: Mapped[Hazard] = relationship(back_populates="plan")

    @property
    def is_complete(self) -> bool:
        return bool(
            (self.responsibility or "").strip() and (self.measures or "").strip()
            and self.funds is not None and self.time_limit is not None and (self.contingency or "").strip()
        )


class Rectification(SyncMixin, TimestampMixin, db.Model):
    """An enterprise's report that a hazard is fixed (整改完成)."""

    __tablename__ = "rectifications"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    measures: Mapped[str | None] = mapped_column(Text)
    funds: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    completed_on: Mapped[date | None] = mapped_column(Date)
    reported_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # pending (awaiting review) / accepted / rejected
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")

    hazard: Mapped[Hazard] = relationship(back_populates="rectifications")
    review: Mapped[Review | None] = relationship(back_populates="rectification", uselist=False)


class Review(TimestampMixin, db.Model):
    """A review (复查) of a reported rectification, with its opinion document number."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    rectification_id: Mapped[str] = mapped_column(ForeignKey("rectifications.id"), nullable=False, unique=True)
    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), nullable=False, index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    co_reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str] = mapped_column(String(10), nullable=False)  # accepted / rejected
    opinion: Mapped[str] = mapped_column(Text, nullable=False, default="")
    onsite_check: Mapped[str | None] = mapped_column(Text)  # 现场核查记录
    new_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    bureau_code: Mapped[str | None] = mapped_column(String(12))
    year: Mapped[int | None] = mapped_column()
    seq_no: Mapped[int | None] = mapped_column()
    number: Mapped[str | None] = mapped_column(String(80), unique=True)

    rectification: Mapped[Rectification] = relationship(back_populates="review")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    co_reviewer = relationship("User", foreign_keys=[co_reviewer_id])


from .notices import Notice  # noqa: E402  (relationship target)


def closure_days(model=Hazard):
    """Days from found to closed (double precision, PostgreSQL): CLOSURE_DAYS_SQL as an expression, with
    inline literals so that the statistics query matches ix_hazards_closure_days whatever the plan cache does."""
    return func.date_part(literal_column("'epoch'"), model.closed_at - model.found_at) / literal_column("86400.0")


# How many months the hazards were found in: without it PostgreSQL guesses one group per row for the
# statistics' GROUP BY month and aggregates in one process (migration 0003 creates it too).
FOUND_MONTH_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS st_hazards_found_month "
    "ON (date_trunc('month', timezone(INTERVAL '+08:00', found_at))) FROM hazards"
)
event.listen(Hazard.__table__, "after_create", DDL(FOUND_MONTH_STATISTICS).execute_if(dialect="postgresql"))

LIVE_REPORT_STATUSES = ("pending", "accepted")


def rectification_funds_of(hazard_ids):
    """The UPDATE that sets hazards.rectification_funds from their live reports."""
    R = Rectification
    total = (select(func.sum(R.funds)).where(R.hazard_id == Hazard.id, R.status.in_(LIVE_REPORT_STATUSES),
                                             R.deleted_at.is_(None)).scalar_subquery())
    return Hazard.__table__.update().where(Hazard.id.in_(hazard_ids)).values(rectification_funds=total)


def last_reviewer_of(hazard_ids):
    """The UPDATE that sets hazards.last_reviewer_id from their reviews."""
    V = Review
    latest = (select(V.reviewer_id).where(V.hazard_id == Hazard.id)
              .order_by(V.reviewed_at.desc(), V.id.desc()).limit(1).scalar_subquery())
    return Hazard.__table__.update().where(Hazard.id.in_(hazard_ids)).values(last_reviewer_id=latest)


def hazard_items_of(hazard_ids):
    """The UPDATE that sets hazards.item_id from their findings."""
    from .inspections import Finding

    item = select(Finding.item_id).where(Finding.id == Hazard.finding_id).scalar_subquery()
    return Hazard.__table__.update().where(Hazard.id.in_(hazard_ids)).values(item_id=item)


def hazard_items_of_findings(finding_ids):
    """The UPDATE that sets hazards.item_id for the hazards of these findings."""
    from .inspections import Finding

    item = select(Finding.item_id).where(Finding.id == Hazard.finding_id).scalar_subquery()
    return Hazard.__table__.update().where(Hazard.finding_id.in_(finding_ids)).values(item_id=item)


def _changed(obj, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


@event.listens_for(Session, "after_flush")
def _keep_hazard_rollups(session, flush_context):
    """Every rectification, review or remediation plan written through the ORM refreshes the statistics and
    ledger columns of its hazard, and a hazard's finding (or a finding's checklist item) its item_id (Core
    UPDATEs: the hazard's sync cursor and version stay as they are)."""
    from .inspections import Finding

    reports, reviews, plans, items, finding_items = set(), set(), {}, set(), set()
    for obj in session.deleted:  # first: a plan replaced in the same flush ends with the new one's values
        if isinstance(obj, Rectification) and obj.hazard_id:
            reports.add(obj.hazard_id)
        elif isinstance(obj, Review) and obj.hazard_id:
            reviews.add(obj.hazard_id)
        elif isinstance(obj, RemediationPlan) and obj.hazard_id:
            plans[obj.hazard_id] = (None, None)
    for obj in session.new | session.dirty:
        if isinstance(obj, Hazard):
            if (obj.finding_id and obj in session.new) or (obj in session.dirty and _changed(obj, "finding_id")):
                items.add(obj.id)
        elif isinstance(obj, Finding):
            if obj in session.dirty and _changed(obj, "item_id"):
                finding_items.add(obj.id)
        elif isinstance(obj, Rectification) and obj.hazard_id:
            reports.add(obj.hazard_id)
        elif isinstance(obj, Review) and obj.hazard_id:
            reviews.add(obj.hazard_id)
        elif isinstance(obj, RemediationPlan) and obj.hazard_id:
            plans[obj.hazard_id] = (obj.funds, obj.is_complete)
    if not (reports or reviews or plans or items or finding_items):
        return
    conn = session.connection()
    if items:
        conn.execute(hazard_items_of(sorted(items)))
    if finding_items:
        conn.execute(hazard_items_of_findings(sorted(finding_items)))
    if reports:
        conn.execute(rectification_funds_of(sorted(reports)))
    if reviews:
        conn.execute(last_reviewer_of(sorted(reviews)))
    table = Hazard.__table__
    for hazard_id, (funds, complete) in sorted(plans.items()):
        conn.execute(table.update().where(table.c.id == hazard_id).values(plan_funds=funds, plan_complete=complete))
