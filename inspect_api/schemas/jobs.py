"""Schemas of the background-jobs API (/api/v1/jobs)."""
from marshmallow import Schema, fields, validate

from .common import Millis, StrictSchema


class JobCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "ledger_export | hazard_stats_export | enforcement_stats_export | overdue_reminders | "
                       "photo_derivatives | notice_pdfs"})
    params = fields.Dict(load_default=dict, metadata={
        "description": "exports: from, to (YYYY-MM-DD, ten years at most), region, industry, format (xlsx|csv), "
                       "group_by (statistics); notice_pdfs: from, to (one year at most), region; "
                       "overdue_reminders: region; photo_derivatives: none"})


class JobListQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class JobSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String()
    kind = fields.String()
    kind_label = fields.Method("_label")
    params = fields.Dict()
    state = fields.String(metadata={"description": "queued | running | done | failed | expired"})
    progress_done = fields.Integer()
    progress_total = fields.Integer(allow_none=True)
    percent = fields.Integer(allow_none=True)
    attempts = fields.Integer()
    max_attempts = fields.Integer()
    error_code = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    result_name = fields.String(allow_none=True)
    result_size = fields.Integer(allow_none=True)
    result_sha256 = fields.String(allow_none=True)
    summary = fields.Dict(allow_none=True)
    download_url = fields.Method("_download")
    created_at = Millis()
    started_at = Millis(allow_none=True)
    finished_at = Millis(allow_none=True)
    expires_at = Millis(allow_none=True)

    def _label(self, job):
        from ..services.jobs.kinds import KIND_LABELS

        return KIND_LABELS.get(job.kind, job.kind)

    def _download(self, job):
        return f"/api/v1/jobs/{job.id}/download" if job.state == "done" else None


class JobPageSchema(Schema):
    items = fields.List(fields.Nested(JobSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    workers_alive = fields.Boolean(allow_none=True)
