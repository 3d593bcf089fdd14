"""Supervisor statistics (统计): hazard investigation, enforcement, closure time.

Every figure is counted or summed in SQL over the live rows; Python only
divides counts into rates and rounds (Decimal, half-up). The definitions are
in docs/stats.md; in short:

* a period is ``date_from`` .. ``date_to`` inclusive, calendar days in
  Asia/Shanghai, i.e. the UTC instants ``[start, end)``;
* ``as_of`` = min(end, now): the instant states are judged at ("closed by",
  "overdue"), so a past period's report does not change when rerun;
* found figures count hazards by ``found_at`` in the period; "of which
  closed" (其中:已整改/已整改销号) counts those of them closed by ``as_of``;
  ``closed_in_period`` and the closure-time figures count hazards by
  ``closed_at`` in the period;
* median / 90th percentile closure days are ``percentile_cont`` (linear
  interpolation between the two nearest ranks) on PostgreSQL, and the same
  definition written with window functions on SQLite.

The same ``StatsTable`` feeds the JSON API, the dashboard and the exports.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, cast, case, func, literal, literal_column, null, or_, select, text, true, tuple_, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ...errors import Forbidden, NotFound, ValidationError
from ...models import (
    EnforcementCase, Enterprise, Hazard, Inspection, Notice, PenaltyDecision, Region, Review, region_prefix,
)
from ...models.enforcement import PENALTY_KINDS
from ...models.hazards import LISTING_LEVELS, closure_days
from ..access.actor import Actor
from ..access.scope import Viewer, scope_clause

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LOCAL_OFFSET_HOURS = 8  # Asia/Shanghai has had no DST since 1991
GROUPS = ("county", "industry", "grade", "month")
ENFORCEMENT_GROUPS = ("county", "industry", "month")
MAX_PERIOD_DAYS = 366 * 10
GRADE_LABELS = {"general": "一般隐患", "major": "重大隐患"}
PENALTY_LABELS = {
    "warning": "警告", "fine": "罚款", "suspend_production": "责令停产停业整顿",
    "licence_suspension": "暂扣或吊销许可证", "closure": "提请关闭",
}
STAFF_AND_ADMIN = ("admin", "supervisor", "inspector")


class StatsPeriodInvalid(ValidationError):
    code = "invalid_period"
    message = "统计期间无效 (the period is not valid)"


class StatsGroupInvalid(ValidationError):
    code = "invalid_group_by"
    message = "不支持的分组方式 (group_by not supported here)"


class StatsRegionNotFound(NotFound):
    code = "region_not_found"
    message = "区划不存在或不在管辖范围内 (region not found)"


# --------------------------------------------------------------------------- filter


@dataclass(frozen=True)
class StatsFilter:
    date_from: date
    date_to: date
    as_of: datetime
    region: str | None = None  # a region code: its whole subtree
    group_by: str = "county"
    industry: str | None = None  # GB/T 4754 code prefix, e.g. "C26"

    @property
    def start(self) -> datetime:
        return local_midnight(self.date_from)

    @property
    def end(self) -> datetime:
        return local_midnight(self.date_to + timedelta(days=1))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def make_filter(session: Session, actor: Actor, *, date_from: date | None = None, date_to: date | None = None,
                region: str | None = None, group_by: str = "county", industry: str | None = None,
                now: datetime | None = None, allowed_groups=GROUPS) -> StatsFilter:
    """Validate the caller's filters; an unknown or out-of-scope region answers 404."""
    require_stats_reader(actor)
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(LOCAL_TZ).date()
    date_to = date_to or today
    date_from = date_from or date(date_to.year, 1, 1)
    if date_from > date_to:
        raise StatsPeriodInvalid("开始日期晚于结束日期 (from is after to)", details={"from": str(date_from),
                                                                           "to": str(date_to)})
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise StatsPeriodInvalid("统计期间不能超过十年 (period longer than ten years)")
    if group_by not in allowed_groups:
        raise StatsGroupInvalid(details={"group_by": group_by, "allowed": list(allowed_groups)})
    if region:
        reg = session.get(Region, region)
        if reg is None or not _region_visible(actor, region):
            raise StatsRegionNotFound()
    as_of = min(local_midnight(date_to + timedelta(days=1)), now)
    return StatsFilter(date_from=date_from, date_to=date_to, as_of=as_of, region=region or None,
                       group_by=group_by, industry=(industry or None))


def require_stats_reader(actor: Actor) -> None:
    user = actor.user
    if user is None or not user.is_active or user.role not in STAFF_AND_ADMIN:
        raise Forbidden("统计仅对监管人员开放 (statistics are for supervisors, inspectors and admins)")


def _region_visible(actor: Actor, code: str) -> bool:
    user = actor.user
    if user.role == "admin":
        return True
    if not user.region_id:
        return False
    mine = region_prefix(user.region_id)
    return code.startswith(mine)


# --------------------------------------------------------------------------- SQL helpers


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def month_of(column, dialect: str):
    """The Asia/Shanghai month of a UTC timestamp, as cheap to group by as possible: on PostgreSQL the
    month's first instant (date_trunc over a fixed +08:00 offset: Asia/Shanghai has had no DST since 1991,
    and a named zone or to_char per row costs more than the rest of the scan); 'YYYY-MM' on SQLite.
    ``month_key`` turns either into 'YYYY-MM'."""
    if dialect == "postgresql":
        # as written in the statistics object st_hazards_found_month (models/hazards.py)
        return func.date_trunc(literal_column("'month'"),
                               func.timezone(literal_column(f"INTERVAL '+{LOCAL_OFFSET_HOURS:02d}:00'"), column))
    return func.strftime("%Y-%m", column, f"+{LOCAL_OFFSET_HOURS} hours")



def month_key(value):
    """'YYYY-MM' of what month_of / month_of_date gave (other keys unchanged)."""
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    return value


def month_of_date(column, dialect: str):
    if dialect == "postgresql":
        return func.date_trunc("month", cast(column, DateTime()))  # a timestamp: no session time zone
    return func.strftime("%Y-%m", column)


def days_between(later, earlier, dialect: str):
    """Elapsed days (fractional) between two timestamps."""
    if dialect == "postgresql":
        # date_part is double precision (EXTRACT is numeric since PostgreSQL 14: 5-10x slower to sum and sort)
        return func.date_part("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


# Per-transaction settings for the statistics and export queries on PostgreSQL: in-memory hash joins and
# sorts for ~1M-row aggregates, no JIT (it costs 0.1-0.3 s of compilation per query and gains nothing),
# ISO date output (the CSV ledger casts local timestamps to text), and plans made for the actual period and
# region: psycopg prepares a statement run five times on a connection, and the generic plan PostgreSQL may
# then switch to knows neither (seen: 0.8 s -> 1.4 s in the benchmark's repeated calls).
PG_ANALYTICS_SETTINGS = (("work_mem", "64MB"), ("jit", "off"), ("datestyle", "ISO, YMD"),
                         ("plan_cache_mode", "force_custom_plan"))


def tune_for_analytics(session: Session) -> None:
    """SET LOCAL the PG_ANALYTICS_SETTINGS (PostgreSQL only; they end with the transaction)."""
    if dialect_name(session) != "postgresql":
        return
    conn = session.connection()
    for name, value in PG_ANALYTICS_SETTINGS:
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")


def on_one_snapshot(session: Session, jobs: list) -> list:
    """Run each job (a function of a Session returning figures) and return their results in order.

    On PostgreSQL, when the session's transaction has written nothing yet, the jobs run at the same time,
    each on a connection of its own, all on one snapshot (REPEATABLE READ READ ONLY: the first exports its
    snapshot, the others import it): the figures agree with each other as if read in one statement, and the
    two cores share the work. Otherwise (SQLite; a transaction holding its own uncommitted rows, which
    other connections cannot see) they run one after another on the session."""
    if len(jobs) < 2 or dialect_name(session) != "postgresql" or session.new or session.dirty or session.deleted \
            or session.execute(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")).scalar():
        tune_for_analytics(session)
        return [job(session) for job in jobs]
    engine = session.get_bind()
    conns = []
    try:
        snapshot = None
        for _ in jobs:
            conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
            conns.append(conn)
            if snapshot is None:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                if not _SNAPSHOT_ID.fullmatch(snapshot or ""):
                    raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
            else:
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="stats") as pool:
            futures = [pool.submit(_run_job, conn, job) for conn, job in zip(conns, jobs)]
            return [future.result() for future in futures]
    finally:
        for conn in conns:
            conn.rollback()
            conn.close()


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def _run_job(conn, job):
    session = Session(bind=conn)
    try:
        tune_for_analytics(session)
        return job(session)
    finally:
        session.close()


def closed_by(as_of):
    return and_(Hazard.status == "closed", Hazard.closed_at.is_not(None), Hazard.closed_at < as_of)


def not_closed_by(as_of):
    return or_(Hazard.status != "closed", Hazard.closed_at.is_(None), Hazard.closed_at >= as_of)


def overdue_clause(as_of):
    """Past its deadline and not closed at ``as_of`` (services/hazards.overdue_clause for as_of=now)."""
    return and_(Hazard.deleted_at.is_(None), Hazard.deadline_at.is_not(None), Hazard.deadline_at < as_of,
                not_closed_by(as_of))


def _count(cond):
    return func.count(case((cond, 1)))


def _sum(cond, value):
    return func.sum(case((cond, value)))


def _region_filter(region_column, f: StatsFilter):
    if not f.region:
        return true()
    return region_column.like(region_prefix(f.region) + "%")


def _industry_filter(f: StatsFilter):
    if not f.industry:
        return true()
    return Enterprise.industry.like(f.industry + "%")


def _county_key(region_column):
    return func.substr(region_column, 1, 6)


# --------------------------------------------------------------------------- the table


@dataclass
class Column:
    key: str
    label: str  # the Chinese header used in the portal and exports
    kind: str  # int | rate | wan | days | text


@dataclass
class StatsTable:
    title: str
    filter: StatsFilter
    region_label: str
    group_label: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    total: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        f = self.filter
        return {
            "title": self.title,
            "group_by": f.group_by,
            "group_label": self.group_label,
            "region": {"code": f.region, "name": self.region_label},
            "industry": f.industry,
            "from": f.date_from.isoformat(),
            "to": f.date_to.isoformat(),
            "as_of": f.as_of.isoformat(),
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [_jsonable(r) for r in self.rows],
            "total": _jsonable(self.total),
        }


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        out[k] = float(v) if isinstance(v, Decimal) else v
    return out


HAZARD_COLUMNS = [
    Column("enterprises_due", "应排查治理事故隐患的生产经营单位(家)", "int"),
    Column("enterprises_inspected", "实际排查治理事故隐患的生产经营单位(家)", "int"),
    Column("coverage_rate", "覆盖率(%)", "rate"),
    Column("general_found", "排查一般事故隐患(项)", "int"),
    Column("general_rectified", "其中:已整改(项)", "int"),
    Column("general_rate", "整改率(%)", "rate"),
    Column("major_found", "排查重大事故隐患(项)", "int"),
    Column("major_closed", "其中:已整改销号(项)", "int"),
    Column("major_rate", "重大隐患整改率(%)", "rate"),
    Column("hazards_found", "排查隐患合计(项)", "int"),
    Column("hazards_closed", "其中:已整改销号合计(项)", "int"),
    Column("closure_rate", "隐患整改率(%)", "rate"),
    Column("major_planned", "列入治理计划的重大事故隐患(项)", "int"),
    Column("major_plan_complete", "其中:达到“五到位”要求的(项)", "int"),
    Column("major_listed", "挂牌督办的重大事故隐患(项)", "int"),
    Column("listed_province", "其中:省级挂牌督办(项)", "int"),
    Column("listed_city", "其中:地市级挂牌督办(项)", "int"),
    Column("listed_county", "其中:县级挂牌督办(项)", "int"),
    Column("funds_wan", "累计落实隐患治理资金(万元)", "wan"),
    Column("unrectified", "未整改隐患(项)", "int"),
    Column("overdue", "其中:逾期未整改(项)", "int"),
    Column("closed_in_period", "本期销号隐患(项)", "int"),
    Column("closure_days_avg", "平均整改天数", "days"),
    Column("closure_days_median", "整改天数中位数", "days"),
    Column("closure_days_p90", "整改天数90分位", "days"),
]

ENFORCEMENT_COLUMNS = [
    Column("inspections", "执法检查(次)", "int"),
    Column("enterprises_inspected", "检查企业(家)", "int"),
    Column("notices_issued", "下达整改指令书(份)", "int"),
    Column("reviews", "整改复查(次)", "int"),
    Column("reviews_accepted", "其中:复查通过(次)", "int"),
    Column("cases_opened", "立案(起)", "int"),
    Column("penalties", "行政处罚决定(份)", "int"),
    *[Column(f"penalties_{k}", f"其中:{PENALTY_LABELS[k]}(份)", "int") for k in PENALTY_KINDS],
    Column("fines_decided_wan", "罚款金额(万元)", "wan"),
    Column("fines_collected_wan", "实际收缴罚款(万元)", "wan"),
    Column("suspensions", "责令停产停业整顿(家)", "int"),
]

_INT_HAZARD = [c.key for c in HAZARD_COLUMNS if c.kind == "int"]
_INT_ENFORCEMENT = [c.key for c in ENFORCEMENT_COLUMNS if c.kind == "int"]


def rate(numerator: int | None, denominator: int | None) -> Decimal | None:
    """numerator / denominator in per cent, 2 decimals half-up; None when nothing to divide."""
    if not denominator or numerator is None:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def to_wan(yuan) -> Decimal:
    """元 -> 万元, 2 decimals half-up (as 万元 are written in the bureau's reports; ``*_yuan`` stays exact)."""
    value = Decimal(yuan or 0) / Decimal(10000)
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _days(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --------------------------------------------------------------------------- grouping


class _Groups:
    """The group key expression for each source table, and the row labels."""

    def __init__(self, session: Session, f: StatsFilter, user=None):
        self.session = session
        self.f = f
        # the subtree whose counties are listed: the region asked for, else the caller's jurisdiction
        self.region = f.region or (user.region_id if user is not None and user.role != "admin" else None)
        self.dialect = dialect_name(session)

    def key(self, region_column, *, date_column=None, date_kind="timestamp", grade_column=None):
        expr = self._key(region_column, date_column=date_column, date_kind=date_kind, grade_column=grade_column)
        if expr is not None and self.dialect == "postgresql" and self.f.group_by != "month":  # month: a timestamp
            # byte order: the sorts behind GROUPING SETS and percentile_cont compare with memcmp, not strcoll
            expr = expr.collate("C")
        return expr

    def _key(self, region_column, *, date_column=None, date_kind="timestamp", grade_column=None):
        g = self.f.group_by
        if g == "county":
            return _county_key(region_column)
        if g == "industry":
            return func.coalesce(Enterprise.industry, "")
        if g == "grade":
            return grade_column  # None: this source has no grade
        if g == "month":
            if date_column is None:
                return None
            if date_kind == "date":
                return month_of_date(date_column, self.dialect)
            return month_of(date_column, self.dialect)
        raise StatsGroupInvalid()

    def raw_found_dimension(self):
        """The column the found-hazard cells are grouped by before ``found_key_mapper`` makes it the
        group key: cheaper to group by than the key itself (no substr or to_char per row)."""
        H = Hazard
        g = self.f.group_by
        if g == "county":
            return H.region_code
        if g == "industry":
            return func.coalesce(Enterprise.industry, "")  # _found_figures joins the enterprises
        if g == "month":
            return month_of(H.found_at, self.dialect)
        return None  # grade: a dimension of every cell anyway

    def found_key_mapper(self):
        """(raw value, grade) -> group key, for the values ``raw_found_dimension`` gave."""
        g = self.f.group_by
        if g == "county":
            return lambda v, grade: v[:6]
        if g == "grade":
            return lambda v, grade: grade
        if g == "month":
            return lambda v, grade: month_key(v)
        return lambda v, grade: v  # industry

    def needs_enterprise(self) -> bool:
        return self.f.group_by == "industry" or bool(self.f.industry)

    def base_keys(self) -> list[str]:
        """Rows always shown, also when empty (every county, both grades, every month)."""
        f = self.f
        if f.group_by == "grade":
            return ["general", "major"]
        if f.group_by == "month":
            keys, y, m = [], f.date_from.year, f.date_from.month
            while (y, m) <= (f.date_to.year, f.date_to.month):
                keys.append(f"{y:04d}-{m:02d}")
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            return keys
        if f.group_by == "county":
            stmt = select(Region.id).where(Region.level == 3)
            if self.region:
                reg = self.session.get(Region, self.region)
                if reg is not None and reg.level >= 3:
                    stmt = select(Region.id).where(Region.id == self.region[:6])
                else:
                    stmt = stmt.where(Region.id.like(region_prefix(self.region) + "%"))
            return list(self.session.scalars(stmt.order_by(Region.id)))
        return []

    def labels(self, keys) -> dict:
        g = self.f.group_by
        if g == "grade":
            return {k: GRADE_LABELS.get(k, k) for k in keys}
        if g == "industry":
            return {k: (k or "未填写行业") for k in keys}
        if g == "county":
            names = dict(self.session.execute(select(Region.id, Region.name).where(Region.id.in_(list(keys)))).all())
            return {k: names.get(k, k) for k in keys}
        return {k: k for k in keys}


def region_label(session: Session, actor: Actor, f: StatsFilter) -> str:
    code = f.region or (actor.user.region_id if actor.user.role != "admin" else None)
    if not code:
        return "全部辖区"
    reg = session.get(Region, code)
    return reg.name if reg else code


def _grouped_with_total(session: Session, stmt, key, dialect: str) -> tuple[dict, dict]:
    """({key: row}, total row): one GROUPING SETS scan on PostgreSQL, two queries elsewhere."""
    if key is None:
        row = _grouped(session, stmt, None)[None]
        return {None: row}, row
    if dialect == "postgresql":
        stmt = stmt.add_columns(key.label("group_key"), func.grouping(key).label("is_total")).group_by(
            func.grouping_sets(key, tuple_()))
        groups, total = {}, {}
        for r in session.execute(stmt).mappings():
            if r["is_total"]:
                total = dict(r)
            else:
                groups[month_key(r["group_key"])] = dict(r)
        return groups, total
    return _grouped(session, stmt, key), _grouped(session, stmt, None)[None]


def _grouped(session: Session, stmt, key) -> dict:
    """{key: row mapping}; with key None, one row under the key None."""
    if key is None:
        row = session.execute(stmt).mappings().one()
        return {None: dict(row)}
    stmt = stmt.add_columns(key.label("group_key")).group_by(key)
    return {month_key(r["group_key"]): dict(r) for r in session.execute(stmt).mappings()}


# --------------------------------------------------------------------------- hazard statistics

FOUND_FIGURES = ("general_found", "general_rectified", "major_found", "major_closed", "major_planned",
                 "major_plan_complete", "major_listed", "listed_province", "listed_city", "listed_county",
                 "unrectified", "overdue")


def hazard_statistics(session: Session, actor: Actor, f: StatsFilter) -> StatsTable:
    """The national hazard form's columns, plus overdue and closure time, per group and in total.

    Three scans on PostgreSQL: hazards found in the period (one pass, no join: counted by cell, see
    ``_found_figures``), hazards closed in it (``_closure_with_total``, read in closure-time order) and the
    inspections; plus the small count of enterprises due."""
    require_stats_reader(actor)
    groups = _Groups(session, f, actor.user)
    user = Viewer.of(actor.user)  # the jobs may run in other threads
    H = Hazard

    def hazards_where(stmt, date_column):
        stmt = stmt.where(H.deleted_at.is_(None), scope_clause(H, user), _region_filter(H.region_code, f),
                          date_column >= f.start, date_column < f.end)
        if groups.needs_enterprise():
            stmt = stmt.join(Enterprise, Enterprise.id == H.enterprise_id).where(_industry_filter(f))
        return stmt

    keys = groups.base_keys()  # every county, grade or month; what the data adds comes after
    closed_key = groups.key(H.region_code, date_column=H.closed_at, grade_column=H.grade)
    ent_key = groups.key(Enterprise.region_id, grade_column=None) if f.group_by in ("county", "industry") else None
    insp_key = groups.key(Inspection.region_code, date_column=_inspection_date(), grade_column=None)

    def found_and_enterprises(s: Session):
        # hazards found in the period (by found_at), their plans and funds; enterprises due and inspected
        return (_found_figures(s, user, f, groups), _enterprises_due(s, user, f, ent_key),
                _enterprises_inspected_with_total(s, user, f, groups, insp_key))

    def closure(s: Session):
        # hazards closed in the period (by closed_at): count and closure time
        return _closure_with_total(s, groups, hazards_where, closed_key, keys)

    (found, due, (inspected, inspected_total)), (closed, closed_total) = on_one_snapshot(
        session, [found_and_enterprises, closure])
    due_total = sum((r["n"] or 0) for r in due.values()) if ent_key is not None else due[None]["n"]
    for k in found:
        if k is not None and k not in keys:
            keys.append(k)
    for source in (closed, due if ent_key is not None else {}, inspected if insp_key is not None else {}):
        for k in source:
            if k is not None and k not in keys:
                keys.append(k)
    if f.group_by == "industry":
        keys.sort()
    labels = groups.labels(keys)

    rows = []
    for k in keys:
        row = {"key": k, "label": labels[k]}
        fr = found.get(k, {})
        for name in FOUND_FIGURES:
            row[name] = int(fr.get(name) or 0)
        row["funds_yuan"] = Decimal(fr.get("funds_yuan") or 0)
        cr = closed.get(k, {})
        row["closed_in_period"] = int(cr.get("n") or 0)
        row["closure_days_avg"] = _days(cr.get("avg_days"))
        row["closure_days_median"] = _days(cr.get("median_days"))
        row["closure_days_p90"] = _days(cr.get("p90_days"))
        if f.group_by == "grade":
            row["enterprises_due"] = row["enterprises_inspected"] = None
        else:
            row["enterprises_due"] = int(due.get(k, {}).get("n") or 0) if ent_key is not None else int(due_total or 0)
            row["enterprises_inspected"] = int(inspected.get(k, {}).get("n") or 0)
        rows.append(row)

    total = {"key": None, "label": "合计"}
    for name in FOUND_FIGURES:
        total[name] = sum(r[name] for r in rows)
    total["funds_yuan"] = sum((r["funds_yuan"] for r in rows), Decimal(0))
    total["closed_in_period"] = int(closed_total.get("n") or 0)
    total["closure_days_avg"] = _days(closed_total.get("avg_days"))
    total["closure_days_median"] = _days(closed_total.get("median_days"))
    total["closure_days_p90"] = _days(closed_total.get("p90_days"))
    total["enterprises_due"] = int(due_total or 0)
    total["enterprises_inspected"] = int(inspected_total.get("n") or 0)

    for row in [*rows, total]:
        row["coverage_rate"] = rate(row["enterprises_inspected"], row["enterprises_due"])
        row["general_rate"] = rate(row["general_rectified"], row["general_found"])
        row["major_rate"] = rate(row["major_closed"], row["major_found"])
        row["hazards_found"] = row["general_found"] + row["major_found"]
        row["hazards_closed"] = row["general_rectified"] + row["major_closed"]
        row["closure_rate"] = rate(row["hazards_closed"], row["hazards_found"])
        row["funds_wan"] = to_wan(row["funds_yuan"])
        row["funds_yuan"] = Decimal(row["funds_yuan"]).quantize(Decimal("0.01"))

    return StatsTable(title="隐患排查治理情况统计表", filter=f, region_label=region_label(session, actor, f),
                      group_label=_GROUP_LABELS[f.group_by], columns=HAZARD_COLUMNS, rows=rows, total=total)


_GROUP_LABELS = {"county": "县(市、区)", "industry": "行业", "grade": "隐患等级", "month": "月份"}


def _found_figures(session: Session, user, f: StatsFilter, groups: _Groups) -> dict:
    """Hazards found in the period: {group key: FOUND_FIGURES + funds_yuan}.

    One scan of hazards, joined only to the enterprises by industry. SQL counts the hazards per cell — the
    group's raw column (region code, industry, found month; none for grades), grade, listing level, plan state (hazards.plan_complete:
    none / not the five points / the five points) — and of them those closed by ``as_of`` and those open
    past their deadline at ``as_of``, and sums their funds (hazards.rectification_funds and plan_funds, kept
    by models/hazards.py). Python adds the cells up into the figures: exact integer and Decimal sums."""
    H = Hazard
    as_of = f.as_of
    dim = groups.raw_found_dimension()
    # plain columns only in GROUP BY: the planner knows how few cells there are (and aggregates in parallel)
    dims = ([dim] if dim is not None else []) + [H.grade, H.listing_level, H.plan_complete]
    is_closed = closed_by(as_of)
    stmt = (select(*dims, func.count(), func.count().filter(is_closed),
                   func.count().filter(and_(not_closed_by(as_of), H.deadline_at.is_not(None), H.deadline_at < as_of)),
                   func.sum(H.rectification_funds), func.sum(H.plan_funds))
            .where(H.deleted_at.is_(None), scope_clause(H, user), _region_filter(H.region_code, f),
                   H.found_at >= f.start, H.found_at < f.end)
            .group_by(*dims))
    if f.group_by == "industry":  # the industry of each hazard's enterprise: a hash join with a small table
        stmt = stmt.join(Enterprise, Enterprise.id == H.enterprise_id).where(_industry_filter(f))
    elif f.industry:
        stmt = stmt.where(H.enterprise_id.in_(select(Enterprise.id).where(_industry_filter(f))))
    cells = session.execute(stmt).all()
    if dim is None:
        cells = [(None, *c) for c in cells]
    to_key = groups.found_key_mapper()
    figures: dict = {}
    for value, grade, listing, complete, n, closed, overdue, rect_funds, plan_funds in cells:
        key = to_key(value, grade)
        r = figures.get(key)
        if r is None:
            r = figures[key] = dict.fromkeys(FOUND_FIGURES, 0)
            r["funds_yuan"] = Decimal(0)
        if grade == "general":
            r["general_found"] += n
            r["general_rectified"] += closed
            r["funds_yuan"] += Decimal(rect_funds or 0)
        elif grade == "major":
            r["major_found"] += n
            r["major_closed"] += closed
            if complete is not None:
                r["major_planned"] += n
                r["major_plan_complete"] += n if complete else 0
            r["funds_yuan"] += Decimal(plan_funds or 0)
            if listing is not None:
                r["major_listed"] += n
                if listing in LISTING_LEVELS:
                    r[f"listed_{listing}"] += n
        r["unrectified"] += n - closed
        r["overdue"] += overdue
    return figures


def _closure(session: Session, groups: _Groups, hazards_where, key, native: bool | None = None) -> dict:
    """Hazards closed in the period: count, mean, median and 90th percentile of days found -> closed.

    ``native``: percentile_cont (PostgreSQL; the default there) or the window-function formula.
    """
    H = Hazard
    d = days_between(H.closed_at, H.found_at, groups.dialect)
    where_closed = [H.status == "closed", H.closed_at.is_not(None)]
    if native is None:
        native = groups.dialect == "postgresql"
    if native:
        cols = [func.count().label("n"), func.avg(d).label("avg_days"), func.sum(d).label("total_days"),
                _percentiles(d).label("pcts")]
        stmt = hazards_where(select(*cols).select_from(H).where(*where_closed), H.closed_at)
        result = _grouped(session, stmt, key)
        for row in result.values():
            _split_percentiles(row)
        return result
    # SQLite: the same percentile_cont definition with window functions.
    k = key if key is not None else literal("")
    base = hazards_where(select(k.label("k"), d.label("d")).select_from(H).where(*where_closed),
                         H.closed_at).subquery()
    ranked = select(
        base.c.k, base.c.d,
        (func.row_number().over(partition_by=base.c.k, order_by=base.c.d) - 1).label("i"),
        func.count().over(partition_by=base.c.k).label("n"),
    ).subquery()

    def pct(num: int, den: int):
        # position p * (n - 1) = lo + frac, in exact integer arithmetic
        scaled = num * (ranked.c.n - 1)
        lo = scaled // den
        frac = (scaled % den) * 1.0 / den
        return func.sum(case((ranked.c.i == lo, ranked.c.d * (1.0 - frac)),
                             (ranked.c.i == lo + 1, ranked.c.d * frac), else_=0.0))

    stmt = select(ranked.c.k.label("group_key"), func.count().label("n"), func.avg(ranked.c.d).label("avg_days"),
                  func.sum(ranked.c.d).label("total_days"), pct(1, 2).label("median_days"),
                  pct(9, 10).label("p90_days")).group_by(ranked.c.k)
    result = {month_key(r["group_key"]): dict(r) for r in session.execute(stmt).mappings()}
    if key is None:
        return {None: result.get("", {"n": 0})}
    return result


def _percentiles(d):
    """percentile_cont(ARRAY[0.5, 0.9]): both percentiles from one sort (PostgreSQL)."""
    return func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(d)


def _split_percentiles(row: dict) -> None:
    pcts = row.pop("pcts", None) or [None, None]
    row["median_days"], row["p90_days"] = pcts[0], pcts[1]


def _closure_with_total(session: Session, groups: _Groups, hazards_where, key, keys=()) -> tuple[dict, dict]:
    """Hazards closed in the period, per group and in total: {key: {n, avg_days, median_days, p90_days}}."""
    if groups.dialect == "postgresql" and groups.f.group_by == "month":
        _, total = _closure_presorted(session, groups, hazards_where, None)
        return _closure_by_month(session, groups, hazards_where), total
    if groups.dialect == "postgresql":
        presorted = _closure_presorted(session, groups, hazards_where, list(keys) if key is not None else None)
        if presorted is not None:
            return presorted
    if groups.dialect == "postgresql" and key is not None:
        return _closure_grouped(session, groups, hazards_where, key)
    grouped = _closure(session, groups, hazards_where, key)
    if key is None:
        return grouped, grouped[None]
    return grouped, _closure(session, groups, hazards_where, None)[None]


def _closure_grouped(session: Session, groups: _Groups, hazards_where, key) -> tuple[dict, dict]:
    """PostgreSQL, the GROUP BY form: percentile_cont per group and for the total in one GROUPING SETS scan."""
    H = Hazard
    d = days_between(H.closed_at, H.found_at, groups.dialect)
    stmt = hazards_where(select(
        func.count().label("n"), func.avg(d).label("avg_days"), func.sum(d).label("total_days"),
        _percentiles(d).label("pcts"),
    ).select_from(H).where(H.status == "closed", H.closed_at.is_not(None)), H.closed_at)
    grouped, total = _grouped_with_total(session, stmt, key, groups.dialect)
    for row in [*grouped.values(), total]:
        _split_percentiles(row)
    return grouped, total


def _closure_presorted(session: Session, groups: _Groups, hazards_where, keys: list | None
                       ) -> tuple[dict, dict] | None:
    """PostgreSQL: the closure figures of every group and of the total in one plain aggregate (no GROUP BY,
    so no sort of the rows by group) over the closed hazards read in closure-time order from
    ix_hazards_closure_days: one percentile_cont … FILTER (WHERE key = …) per group key, each of which gets
    its values already in order (the same percentile_cont as the GROUP BY form, whatever order the rows come
    in: the order only makes it fast); counts and means per group by a hash GROUP BY. ``keys`` None: the
    total only. None when a closed hazard's key is none of ``keys``: the caller then runs the GROUP BY
    form."""
    H = Hazard
    d = closure_days()
    g = groups.f.group_by
    db_keys: list = []
    k = None  # keys None: the total only
    if keys is not None:
        if g == "county":
            k, db_keys = _county_key(H.region_code), list(keys)
        elif g == "grade":
            k, db_keys = H.grade, list(keys)
        elif g == "month":
            k = month_of(H.closed_at, "postgresql")
            db_keys = [datetime(int(m[:4]), int(m[5:7]), 1) for m in keys]
        elif g == "industry":
            k = func.coalesce(Enterprise.industry, "")
            db_keys = sorted(set(keys) | set(session.scalars(select(func.coalesce(Enterprise.industry, "")).distinct())))
            keys = db_keys
    columns = [d.label("d")] + ([k.label("k")] if k is not None else [])
    closed = hazards_where(select(*columns).select_from(H).where(H.status == literal_column("'closed'"),
                                                                 H.closed_at.is_not(None)), H.closed_at)
    inner = closed.order_by(d).subquery("closed")
    days = inner.c.d
    aggs = [func.count(), func.avg(days), _percentiles(days)]
    aggs += [_percentiles(days).filter(inner.c.k == value) for value in db_keys]
    row = session.execute(select(*aggs)).one()
    total = _closure_row(*row[0:3])
    grouped: dict = {}
    if k is None:
        return grouped, total
    # the count and mean of each group: a hash GROUP BY (as FILTER aggregates these cost more than a scan)
    sub = closed.subquery("closed_keys")
    counts = dict((key, (n, avg)) for key, n, avg in session.execute(
        select(sub.c.k, func.count(), func.avg(sub.c.d)).group_by(sub.c.k)))
    if set(counts) - set(db_keys):
        return None
    for key, value, pcts in zip(keys, db_keys, row[3:]):
        if value in counts:
            grouped[key] = _closure_row(*counts[value], pcts)
    return grouped, total


def _closure_by_month(session: Session, groups: _Groups, hazards_where) -> dict:
    """PostgreSQL, by month: one aggregate per month of the period over that month's closed_at range
    (ix_hazards_stats_closed), all in one UNION ALL: each sorts only its month's values (the months'
    boundaries are Asia/Shanghai midnights, as ``month_of`` draws them)."""
    H = Hazard
    f = groups.f
    d = days_between(H.closed_at, H.found_at, groups.dialect)
    branches = []
    for i, month in enumerate(groups.base_keys()):
        y, m = int(month[:4]), int(month[5:7])
        lo = max(local_midnight(date(y, m, 1)), f.start)
        hi = min(local_midnight(date(y + m // 12, m % 12 + 1, 1)), f.end)
        branch = hazards_where(select(literal(i).label("i"), func.count(), func.avg(d), _percentiles(d))
                               .select_from(H).where(H.status == "closed", H.closed_at.is_not(None),
                                                     H.closed_at >= lo, H.closed_at < hi), H.closed_at)
        branches.append(branch)
    months = groups.base_keys()
    grouped = {}
    for i, n, avg, pcts in session.execute(union_all(*branches)) if branches else []:
        if n:
            grouped[months[i]] = _closure_row(n, avg, pcts)
    return grouped


def _closure_row(n, avg, pcts) -> dict:
    pcts = pcts or [None, None]
    return {"n": n, "avg_days": avg, "median_days": pcts[0], "p90_days": pcts[1]}


def _enterprises_inspected_with_total(session: Session, user, f: StatsFilter, groups: _Groups, key):
    """Inspections and distinct enterprises inspected, per group and in total, from one scan: inspections
    counted per (group, enterprise) by hash, then those few rows counted (count(DISTINCT) over the
    inspections would sort them all)."""
    I = Inspection
    if f.group_by == "industry":
        return _enterprises_inspected_by_industry(session, user, f, groups)
    dims = ([key.label("k")] if key is not None else []) + [I.enterprise_id]
    per = _inspections_where(select(*dims, func.count().label("c")).select_from(I), user, f, groups)
    per = per.group_by(*([key] if key is not None else []), I.enterprise_id).cte("per_enterprise")
    total = select(literal(1).label("is_total"), *([null().label("k")] if key is not None else []),
                   func.count(func.distinct(per.c.enterprise_id)).label("n"), func.sum(per.c.c).label("inspections"))
    if key is None:
        row = dict(session.execute(total).mappings().one())
        return {None: row}, row
    grouped = select(literal(0).label("is_total"), per.c.k, func.count().label("n"),
                     func.sum(per.c.c).label("inspections")).group_by(per.c.k)
    out, tot = {}, {}
    for r in session.execute(union_all(grouped, total)).mappings():
        if r["is_total"]:
            tot = dict(r)
        else:
            out[month_key(r["k"])] = dict(r)
    return out, tot


def _enterprises_inspected_by_industry(session: Session, user, f: StatsFilter, groups: _Groups):
    """By industry: inspections counted per enterprise (no join), then each enterprise's industry looked up."""
    I = Inspection
    per = _inspections_where(select(I.enterprise_id, func.count()).select_from(I), user, f, groups, join=False)
    counts = dict(session.execute(per.group_by(I.enterprise_id)).all())
    industry_of: dict = {}
    ids = sorted(counts)
    for i in range(0, len(ids), 5000):
        industry_of.update(session.execute(select(Enterprise.id, func.coalesce(Enterprise.industry, ""))
                                           .where(Enterprise.id.in_(ids[i:i + 5000]))).all())
    out: dict = {}
    for enterprise_id, n in counts.items():
        row = out.setdefault(industry_of.get(enterprise_id, ""), {"n": 0, "inspections": 0})
        row["n"] += 1
        row["inspections"] += n
    return out, {"n": len(counts), "inspections": sum(counts.values())}


def _inspection_date():
    return func.coalesce(Inspection.started_at, Inspection.created_at)


def _enterprises_due(session: Session, user, f: StatsFilter, key) -> dict:
    stmt = select(func.count().label("n")).select_from(Enterprise).where(
        Enterprise.deleted_at.is_(None), scope_clause(Enterprise, user), _region_filter(Enterprise.region_id, f),
        _industry_filter(f))
    return _grouped(session, stmt, key)


def _inspections_where(stmt, user, f: StatsFilter, groups: _Groups, join: bool = True):
    d = _inspection_date()
    stmt = stmt.where(Inspection.deleted_at.is_(None), Inspection.status == "submitted",
                      scope_clause(Inspection, user), _region_filter(Inspection.region_code, f),
                      d >= f.start, d < f.end)
    if join and groups.needs_enterprise():
        stmt = stmt.join(Enterprise, Enterprise.id == Inspection.enterprise_id).where(_industry_filter(f))
    elif f.industry:
        stmt = stmt.where(Inspection.enterprise_id.in_(select(Enterprise.id).where(_industry_filter(f))))
    return stmt


# --------------------------------------------------------------------------- enforcement statistics


def enforcement_statistics(session: Session, actor: Actor, f: StatsFilter) -> StatsTable:
    """Inspections, notices, reviews, cases, penalty decisions by kind, fines (万元), suspensions."""
    require_stats_reader(actor)
    if f.group_by not in ENFORCEMENT_GROUPS:
        raise StatsGroupInvalid(details={"group_by": f.group_by, "allowed": list(ENFORCEMENT_GROUPS)})
    groups = _Groups(session, f, actor.user)
    user = Viewer.of(actor.user)  # the jobs may run in other threads

    def where(stmt, model, region_column, date_column, *extra):
        stmt = stmt.where(scope_clause(model, user), _region_filter(region_column, f), *extra)
        if date_column is not None:
            stmt = stmt.where(date_column >= f.start, date_column < f.end)
        if groups.needs_enterprise():
            stmt = stmt.join(Enterprise, Enterprise.id == model.enterprise_id).where(_industry_filter(f))
        return stmt

    def field_work(s: Session):
        # inspections, notices and reviews
        N, V = Notice, Review
        return (
            _enterprises_inspected_with_total(s, user, f, groups,
                                              groups.key(Inspection.region_code, date_column=_inspection_date())),
            _grouped(s, where(select(func.count().label("n")).select_from(N), N, N.region_code,
                              N.issued_at, N.deleted_at.is_(None), N.issued_at.is_not(None)),
                     groups.key(N.region_code, date_column=N.issued_at)),
            _grouped(s, where(select(func.count().label("n"), _count(V.result == "accepted").label("acc"))
                              .select_from(V), V, V.region_code, V.reviewed_at),
                     groups.key(V.region_code, date_column=V.reviewed_at)),
        )

    def cases_and_penalties(s: Session):
        C, D = EnforcementCase, PenaltyDecision
        decided_cols = [func.count().label("n"), func.sum(D.amount).label("amount"),
                        func.count(func.distinct(case((D.kind == "suspend_production", D.enterprise_id)))).label("susp")]
        decided_cols += [_count(D.kind == k).label(f"k_{k}") for k in PENALTY_KINDS]
        return (
            _grouped(s, where(select(func.count().label("n")).select_from(C), C, C.region_code, C.opened_at),
                     groups.key(C.region_code, date_column=C.opened_at)),
            _grouped(s, where(select(*decided_cols).select_from(D), D, D.region_code, None,
                              D.decided_on >= f.date_from, D.decided_on <= f.date_to),
                     groups.key(D.region_code, date_column=D.decided_on, date_kind="date")),
            _grouped(s, where(select(func.sum(D.paid_amount).label("paid")).select_from(D), D, D.region_code,
                              None, D.payment_status == "paid", D.paid_on.is_not(None),
                              D.paid_on >= f.date_from, D.paid_on <= f.date_to),
                     groups.key(D.region_code, date_column=D.paid_on, date_kind="date")),
            s.execute(where(select(func.count(func.distinct(D.enterprise_id))).select_from(D), D, D.region_code,
                            None, D.kind == "suspend_production", D.decided_on >= f.date_from,
                            D.decided_on <= f.date_to)).scalar(),
        )

    ((inspections, inspections_total), notices, reviews), (cases, decided, paid, susp_total) = on_one_snapshot(
        session, [field_work, cases_and_penalties])

    keys = groups.base_keys()
    for source in (inspections, notices, reviews, cases, decided, paid):
        for k in source:
            if k is not None and k not in keys:
                keys.append(k)
    if f.group_by == "industry":
        keys.sort()
    labels = groups.labels(keys)
    rows = []
    for k in keys:
        ins, dec = inspections.get(k, {}), decided.get(k, {})
        row = {"key": k, "label": labels[k],
               "inspections": int(ins.get("inspections") or 0),
               "enterprises_inspected": int(ins.get("n") or 0),
               "notices_issued": int(notices.get(k, {}).get("n") or 0),
               "reviews": int(reviews.get(k, {}).get("n") or 0),
               "reviews_accepted": int(reviews.get(k, {}).get("acc") or 0),
               "cases_opened": int(cases.get(k, {}).get("n") or 0),
               "penalties": int(dec.get("n") or 0),
               "fines_decided_yuan": Decimal(dec.get("amount") or 0),
               "fines_collected_yuan": Decimal(paid.get(k, {}).get("paid") or 0),
               "suspensions": int(dec.get("susp") or 0)}
        for kind in PENALTY_KINDS:
            row[f"penalties_{kind}"] = int(dec.get(f"k_{kind}") or 0)
        rows.append(row)
    total = {"key": None, "label": "合计"}
    for name in _INT_ENFORCEMENT:
        total[name] = sum(r[name] for r in rows)
    total["fines_decided_yuan"] = sum((r["fines_decided_yuan"] for r in rows), Decimal(0))
    total["fines_collected_yuan"] = sum((r["fines_collected_yuan"] for r in rows), Decimal(0))
    # distinct counts do not add up across groups: counted again over the whole period
    total["enterprises_inspected"] = int(inspections_total.get("n") or 0)
    total["suspensions"] = int(susp_total or 0)
    for row in [*rows, total]:
        row["fines_decided_wan"] = to_wan(row["fines_decided_yuan"])
        row["fines_collected_wan"] = to_wan(row["fines_collected_yuan"])
        row["fines_decided_yuan"] = row["fines_decided_yuan"].quantize(Decimal("0.01"))
        row["fines_collected_yuan"] = row["fines_collected_yuan"].quantize(Decimal("0.01"))
    return StatsTable(title="执法工作情况统计表", filter=f, region_label=region_label(session, actor, f),
                      group_label=_GROUP_LABELS[f.group_by], columns=ENFORCEMENT_COLUMNS, rows=rows, total=total)


# --------------------------------------------------------------------------- dashboard lists


def overdue_hazards(session: Session, actor: Actor, f: StatsFilter, limit: int = 20) -> list[dict]:
    """The hazards overdue now (found in the period), longest overdue first."""
    require_stats_reader(actor)
    H = Hazard
    stmt = (select(H.id, H.description, H.grade, H.deadline_at, H.status, Enterprise.name, H.region_code)
            .join(Enterprise, Enterprise.id == H.enterprise_id)
            .where(overdue_clause(f.as_of), scope_clause(H, actor.user), _region_filter(H.region_code, f),
                   _industry_filter(f), H.found_at >= f.start, H.found_at < f.end)
            .order_by(H.deadline_at, H.id).limit(limit))
    rows = session.execute(stmt).all()
    names = dict(session.execute(select(Region.id, Region.name).where(
        Region.id.in_({r.region_code[:6] for r in rows}))).all()) if rows else {}
    out = []
    for r in rows:
        out.append({"id": r.id, "enterprise": r.name, "county": names.get(r.region_code[:6], r.region_code[:6]),
                    "description": r.description, "grade": r.grade, "grade_label": GRADE_LABELS.get(r.grade, r.grade),
                    "deadline": r.deadline_at.astimezone(LOCAL_TZ).date().isoformat(),
                    "days_overdue": (f.as_of.astimezone(LOCAL_TZ).date() - r.deadline_at.astimezone(LOCAL_TZ).date()).days,
                    "status": r.status})
    return out


def listed_major_hazards(session: Session, actor: Actor, f: StatsFilter, limit: int = 50) -> list[dict]:
    """Major hazards under supervised listing (挂牌督办) and not closed at as_of."""
    require_stats_reader(actor)
    H = Hazard
    stmt = (select(H.id, H.description, H.listing_level, H.listed_at, H.deadline_at, H.status, Enterprise.name)
            .join(Enterprise, Enterprise.id == H.enterprise_id)
            .where(H.deleted_at.is_(None), H.grade == "major", H.listing_level.is_not(None),
                   not_closed_by(f.as_of), scope_clause(H, actor.user), _region_filter(H.region_code, f),
                   _industry_filter(f))
            .order_by(H.listed_at, H.id).limit(limit))
    level = {"province": "省级", "city": "市级", "county": "县级"}
    return [{"id": r.id, "enterprise": r.name, "description": r.description,
             "listing_level": r.listing_level, "listing_label": level.get(r.listing_level, r.listing_level),
             "deadline": r.deadline_at.astimezone(LOCAL_TZ).date().isoformat() if r.deadline_at else None,
             "status": r.status} for r in session.execute(stmt)]
