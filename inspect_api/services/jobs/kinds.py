"""The job kinds: what each one accepts, who may submit it, and how it runs.

Each kind validates its parameters at submission (a bad period, an unknown
region, a role that may not: refused then, with the one error shape, and no job
is recorded) and again at run time with the owner's current rights. Exports call
the existing exporters of services/reporting/exports.py; nothing is copied.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import Forbidden, ValidationError
from ...models import Enterprise, Hazard, Notice, Photo, Region, region_prefix
from ..access.actor import Actor
from ..access.scope import scope_clause
from ..evidence.images import inspect_image
from ..evidence.photos import derived_key
from ..lifecycle.documents import SHANGHAI, render_notice_pdf
from ..lifecycle.hazards import overdue_clause
from ..reporting import exports as export_service
from ..reporting import stats as stats_service

CSV_MIME = export_service.CSV_MIME
ZIP_MIME = "application/zip"
MAX_DOCUMENT_PERIOD_DAYS = 366
STATUS_LABELS = export_service.STATUS_LABELS


class JobParamsInvalid(ValidationError):
    code = "invalid_job_params"
    message = "任务参数无效 (the job's parameters are not valid)"


@dataclass(frozen=True)
class Output:
    name: str  # the file name shown (Chinese)
    ascii_name: str  # the storage key's last segment and the ASCII fallback name
    content_type: str
    summary: dict


def _date(params: dict, key: str) -> date | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise JobParamsInvalid(details={"fields": {key: ["YYYY-MM-DD"]}}) from None


def _stats_filter(session: Session, actor: Actor, params: dict, group_by: str = "county",
                  allowed=stats_service.GROUPS):
    """The statistics filter; the same limits as the API (ten years at most, a region in scope)."""
    return stats_service.make_filter(session, actor, date_from=_date(params, "from"), date_to=_date(params, "to"),
                                     region=params.get("region") or None, group_by=group_by,
                                     industry=params.get("industry") or None, allowed_groups=allowed)


def _fmt(params: dict) -> str:
    fmt = params.get("format", "xlsx")
    if fmt not in export_service.FORMATS:
        raise JobParamsInvalid(details={"fields": {"format": ["xlsx or csv"]}})
    return fmt


def _period_name(f) -> str:
    return f"{f.region or 'all'}_{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}"


def _write(out, chunks, ctx, count_lines: bool = False) -> None:
    for block in chunks:
        out.write(block)
        if count_lines:
            ctx.progress(add=block.count(b"\n"))
        else:
            ctx.progress()


def _known(params: dict, keys: tuple) -> None:
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise JobParamsInvalid(details={"fields": {k: ["unknown field"] for k in unknown}})


# --------------------------------------------------------------------------- exports


class LedgerExport:
    """隐患台账: one row per hazard found in the period (XLSX or CSV)."""

    roles = ("admin", "supervisor", "inspector")
    keys = ("from", "to", "region", "industry", "format")

    def validate(self, session, actor, params):
        _known(params, self.keys)
        f = _stats_filter(session, actor, params)
        return {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "region": f.region,
                "industry": f.industry, "format": _fmt(params)}

    def run(self, ctx, out) -> Output:
        f = _stats_filter(ctx.session, ctx.actor, ctx.params)
        fmt = _fmt(ctx.params)
        stmt = export_service.ledger_statement(ctx.session, ctx.actor, f, fmt)
        total = ctx.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar()
        ctx.progress(0, total)
        counter = [0]
        chunks = export_service.ledger_export(ctx.session, ctx.actor, f, fmt, counter=counter)
        postgres_csv = fmt == "csv" and stats_service.dialect_name(ctx.session) == "postgresql"
        if postgres_csv:  # COPY output: count line ends (the header's is clamped away at the end)
            _write(out, chunks, ctx, count_lines=True)
        else:
            for block in chunks:
                out.write(block)
                ctx.progress(done=counter[0])
        name = _period_name(f)
        return Output(f"隐患台账_{name}.{fmt}", f"hazard-ledger-{name}.{fmt}",
                      export_service.XLSX_MIME if fmt == "xlsx" else CSV_MIME, {"rows": total})


class StatsExport:
    """The hazard or the enforcement statistics table (XLSX or CSV)."""

    roles = ("admin", "supervisor", "inspector")
    keys = ("from", "to", "region", "industry", "format", "group_by")

    def __init__(self, which: str):
        self.which = which
        self.groups = stats_service.GROUPS if which == "hazards" else stats_service.ENFORCEMENT_GROUPS

    def validate(self, session, actor, params):
        _known(params, self.keys)
        f = _stats_filter(session, actor, params, params.get("group_by") or "county", self.groups)
        return {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "region": f.region,
                "industry": f.industry, "format": _fmt(params), "group_by": f.group_by}

    def run(self, ctx, out) -> Output:
        f = _stats_filter(ctx.session, ctx.actor, ctx.params, ctx.params.get("group_by") or "county", self.groups)
        fmt = _fmt(ctx.params)
        ctx.progress(0, 1)
        if self.which == "hazards":
            table = stats_service.hazard_statistics(ctx.session, ctx.actor, f)
            zh, asc = "隐患排查治理统计", "hazard-statistics"
        else:
            table = stats_service.enforcement_statistics(ctx.session, ctx.actor, f)
            zh, asc = "执法工作统计", "enforcement-statistics"
        _write(out, export_service.stats_table_export(table, fmt), ctx)
        ctx.progress(1)
        name = _period_name(f)
        return Output(f"{zh}_{name}.{fmt}", f"{asc}-{name}.{fmt}",
                      export_service.XLSX_MIME if fmt == "xlsx" else CSV_MIME, {"groups": len(table.rows)})


# --------------------------------------------------------------------------- overdue reminders


def _region_param(session, actor, params) -> str | None:
    region = params.get("region") or None
    if region and (session.get(Region, region) is None or not stats_service._region_visible(actor, region)):
        raise stats_service.StatsRegionNotFound()
    return region


class OverdueReminders:
    """逾期未整改隐患催办单: every overdue hazard in scope, with its enterprise, notice and days overdue (CSV)."""

    roles = ("admin", "supervisor")
    keys = ("region",)
    header = ["县(市、区)", "企业名称", "统一社会信用代码", "隐患编号", "隐患描述", "隐患等级", "状态", "文书编号",
              "整改期限", "逾期天数"]

    def validate(self, session, actor, params):
        _known(params, self.keys)
        return {"region": _region_param(session, actor, params)}

    def run(self, ctx, out) -> Output:
        region = _region_param(ctx.session, ctx.actor, ctx.params)
        now = datetime.now(timezone.utc)
        where = [overdue_clause(now), scope_clause(Hazard, ctx.actor.user)]
        if region:
            where.append(Hazard.region_code.like(region_prefix(region) + "%"))
        total = ctx.session.execute(select(func.count()).select_from(Hazard).where(*where)).scalar()
        ctx.progress(0, total)
        names = dict(ctx.session.execute(select(Region.id, Region.name)).all())
        stmt = (select(Hazard.region_code, Enterprise.name, Enterprise.uscc, Hazard.id, Hazard.description,
                       Hazard.grade, Hazard.status, Notice.number, Hazard.deadline_at)
                .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
                .outerjoin(Notice, Notice.id == Hazard.notice_id)
                .where(*where).order_by(Hazard.region_code, Hazard.deadline_at, Hazard.id))

        def chunks():
            for part in ctx.session.execute(stmt.execution_options(yield_per=2000)).partitions(2000):
                rows = []
                for code, ent, uscc, hid, desc, grade, status, number, deadline in part:
                    county = names.get(code[:6], code[:6])
                    rows.append([export_service.csv_safe(v) for v in (
                        county, ent, uscc, hid, desc, stats_service.GRADE_LABELS.get(grade, grade),
                        STATUS_LABELS.get(status, status), number or "",
                        deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d"), (now - deadline).days)])
                ctx.progress(add=len(rows))
                yield rows

        for block in export_service.stream_csv(self.header, chunks()):
            out.write(block)
        stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d")
        return Output(f"逾期隐患催办单_{region or 'all'}_{stamp}.csv", f"overdue-{region or 'all'}-{stamp}.csv",
                      CSV_MIME, {"overdue": total})


# --------------------------------------------------------------------------- photo derivatives


class PhotoDerivatives:
    """照片衍生图补全: regenerate the preview and thumbnail of every ready photo whose derivatives are missing."""

    roles = ("admin",)
    keys = ()

    def validate(self, session, actor, params):
        _known(params, self.keys)
        return {}

    def run(self, ctx, out) -> Output:
        session, storage = ctx.session, ctx.storage
        if ctx.actor.role != "admin":
            raise Forbidden("仅管理员可补全照片 (admins only)")
        ready = [Photo.status == "ready", Photo.sha256.is_not(None), Photo.storage_key.is_not(None)]
        total = session.execute(select(func.count()).select_from(Photo).where(*ready)).scalar()
        ctx.progress(0, total)
        writer_buf = io.StringIO()
        writer = csv.writer(writer_buf, lineterminator="\n")
        out.write(codecs.BOM_UTF8)
        writer.writerow(["照片编号", "sha256", "结果"])
        counts = {"present": 0, "regenerated": 0, "failed": 0}
        after = ""
        while True:
            rows = session.execute(select(Photo.id, Photo.sha256, Photo.storage_key)
                                   .where(*ready, Photo.id > after).order_by(Photo.id).limit(200)).all()
            if not rows:
                break
            for photo_id, sha, key in rows:
                outcome = self._one(storage, sha, key, ctx.settings.limits.max_pixels)
                counts[outcome if outcome in counts else "failed"] += 1
                writer.writerow([photo_id, sha, outcome])
            after = rows[-1][0]
            out.write(writer_buf.getvalue().encode("utf-8"))
            writer_buf.seek(0)
            writer_buf.truncate()
            ctx.progress(add=len(rows))
        return Output("照片衍生图补全.csv", "photo-derivatives.csv", CSV_MIME, counts)

    @staticmethod
    def _one(storage, sha: str, key: str, max_pixels: int) -> str:
        missing = [v for v in ("preview", "thumb") if not storage.exists(derived_key(sha, v))]
        if not missing:
            return "present"
        fd, path = tempfile.mkstemp(prefix="inspect-derive-")
        try:
            with os.fdopen(fd, "wb") as f, storage.open(key) as src:
                for block in iter(lambda: src.read(1024 * 1024), b""):
                    f.write(block)
            info = inspect_image(path, max_pixels)
            for variant in missing:
                storage.save(derived_key(sha, variant), io.BytesIO(getattr(info, variant)), "image/jpeg")
            return "regenerated"
        except Exception as exc:  # one bad original must not stop the backfill: reported in the file
            return f"failed: {type(exc).__name__}"
        finally:
            os.unlink(path)


# --------------------------------------------------------------------------- bulk notice PDFs


class NoticePdfs:
    """责令限期整改指令书 in bulk: every notice in scope issued in the period, one PDF each, in a ZIP."""

    roles = ("admin", "supervisor", "inspector")
    keys = ("from", "to", "region")

    def _where(self, session, actor, params, max_notices: int | None = None):
        d_from, d_to = _date(params, "from"), _date(params, "to")
        if d_from is None or d_to is None:
            raise JobParamsInvalid(details={"fields": {k: ["required"] for k in ("from", "to")
                                                       if _date(params, k) is None}})
        if d_from > d_to:
            raise stats_service.StatsPeriodInvalid("开始日期晚于结束日期 (from is after to)")
        if (d_to - d_from).days >= MAX_DOCUMENT_PERIOD_DAYS:
            raise stats_service.StatsPeriodInvalid(
                f"批量文书期间不能超过 {MAX_DOCUMENT_PERIOD_DAYS} 天 (a bulk document job covers one year at most)",
                details={"max_days": MAX_DOCUMENT_PERIOD_DAYS})
        region = _region_param(session, actor, params)
        where = [scope_clause(Notice, actor.user), Notice.deleted_at.is_(None), Notice.issued_at.is_not(None),
                 Notice.issued_at >= stats_service.local_midnight(d_from),
                 Notice.issued_at < stats_service.local_midnight(d_to + timedelta(days=1))]
        if region:
            where.append(Notice.region_code.like(region_prefix(region) + "%"))
        return {"from": d_from.isoformat(), "to": d_to.isoformat(), "region": region}, where

    def validate(self, session, actor, params):
        _known(params, self.keys)
        if actor.role not in self.roles:
            raise Forbidden()
        return self._where(session, actor, params)[0]

    def run(self, ctx, out) -> Output:
        params, where = self._where(ctx.session, ctx.actor, ctx.params)
        total = ctx.session.execute(select(func.count()).select_from(Notice).where(*where)).scalar()
        if total > ctx.settings.max_notices:
            raise JobParamsInvalid(f"一次最多 {ctx.settings.max_notices} 份文书，本期间有 {total} 份：请缩小期间或区划",
                                   details={"notices": total, "max": ctx.settings.max_notices})
        ctx.progress(0, total)
        ids = ctx.session.scalars(select(Notice.id).where(*where).order_by(Notice.issued_at, Notice.id)).all()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            for notice_id in ids:
                notice = ctx.session.get(Notice, notice_id)
                name = (notice.number or notice.id).replace("/", "-")
                zf.writestr(f"{name}.pdf", render_notice_pdf(ctx.session, notice, ctx.settings.document))
                ctx.session.expunge_all()
                ctx.progress(add=1)
        span = f"{params['from'].replace('-', '')}-{params['to'].replace('-', '')}"
        return Output(f"整改指令书_{span}.zip", f"notices-{span}.zip", ZIP_MIME, {"notices": total})


KINDS = {
    "ledger_export": LedgerExport(),
    "hazard_stats_export": StatsExport("hazards"),
    "enforcement_stats_export": StatsExport("enforcement"),
    "overdue_reminders": OverdueReminders(),
    "photo_derivatives": PhotoDerivatives(),
    "notice_pdfs": NoticePdfs(),
}
KIND_LABELS = {
    "ledger_export": "隐患台账导出", "hazard_stats_export": "隐患统计表导出",
    "enforcement_stats_export": "执法统计表导出", "overdue_reminders": "逾期隐患催办单",
    "photo_derivatives": "照片衍生图补全", "notice_pdfs": "整改指令书批量生成",
}
