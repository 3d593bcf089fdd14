"""Background jobs (/api/v1/jobs): submit, follow, download (resumable with HTTP Range).

A job is answered 202 with its row; ``GET /jobs/<id>`` shows its state and
progress (rows done / total); ``GET /jobs/<id>/download`` serves the stored
file with ``Accept-Ranges: bytes`` (206 for a range, 416 past the end). Only
the owner sees a job (another user's answers 404).
"""
from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from .common import Blueprint  # the strict parser (api/common.py)

from ..extensions import db
from ..schemas.common import ApiErrorSchema
from ..schemas.jobs import JobCreateSchema, JobListQuerySchema, JobPageSchema, JobSchema
from ..services import jobs as job_service
from ..services.jobs.download import file_body
from ..storage import get_storage
from .security import auth_required, current_actor

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs",
                description="Background jobs: exports, bulk notice PDFs, overdue reminders (后台任务)")


def submit_and_dispatch(kind: str, params: dict):
    """Record the job, commit it, then hand it to the queue (the outbox: a queue that does not answer leaves
    it queued for the sweep). Returns the job."""
    actor = current_actor()
    job = job_service.submit_job(db.session, actor, kind, params,
                                 max_attempts=int(current_app.config["JOBS_MAX_ATTEMPTS"]))
    job_id = job.id  # read before the commit expires it (a reload would open a transaction)
    db.session.commit()
    job_service.dispatch(db.session, current_app.extensions["inspect_jobs"]["task"], [job_id])
    db.session.commit()
    return job_service.get_job(db.session, actor, job_id)


def job_accepted(job) -> Response:
    """202 with the job and ``Location`` of its status."""
    resp = current_app.response_class(
        current_app.json.dumps(JobSchema().dump(job)), status=202, mimetype="application/json")
    resp.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return resp


@blp.route("")
class Jobs(MethodView):
    @auth_required
    @blp.arguments(JobListQuerySchema, location="query")
    @blp.response(200, JobPageSchema)
    def get(self, args):
        """Your jobs, newest first, with their progress (and whether any worker is alive)."""
        actor = current_actor()
        # the outbox: a queue that was down when these were submitted may answer now
        pending = job_service.pending_job_ids(db.session, actor.id, limit=20)
        if pending:
            db.session.commit()  # nothing held open while the queue is asked (immediate mode runs the job here)
            job_service.dispatch(db.session, current_app.extensions["inspect_jobs"]["task"], pending)
            db.session.commit()
        items, total = job_service.list_jobs(db.session, actor, page=args["page"], per_page=args["per_page"])
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"],
                "workers_alive": job_service.workers_alive()}

    @auth_required
    @blp.arguments(JobCreateSchema)
    @blp.response(202, JobSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="region_not_found")
    @blp.alt_response(422, schema=ApiErrorSchema,
                      description="unknown_job_kind, invalid_job_params, invalid_period (ten years at most)")
    def post(self, data):
        """Submit a job; it runs on a worker. Follow it at ``Location``."""
        return job_accepted(submit_and_dispatch(data["kind"], data["params"]))


@blp.route("/<job_id>")
class JobById(MethodView):
    @auth_required
    @blp.response(200, JobSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, job_id):
        """One of your jobs: state, progress, attempts, the error, the file's size and checksum."""
        return job_service.get_job(db.session, current_actor(), job_id)


@blp.route("/<job_id>/download")
class JobDownload(MethodView):
    @auth_required
    @blp.doc(responses={
        "200": {"description": "the whole file", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        "206": {"description": "the range asked for (Range: bytes=N-); Content-Range says where it lies"},
    })
    @blp.alt_response(404, schema=ApiErrorSchema, description="not your job, or no such job")
    @blp.alt_response(409, schema=ApiErrorSchema, description="job_not_ready")
    @blp.alt_response(410, schema=ApiErrorSchema, description="job_expired")
    @blp.alt_response(416, schema=ApiErrorSchema, description="range_not_satisfiable")
    def get(self, job_id):
        """The job's file; resumable: send ``Range: bytes=<offset>-`` (and ``If-Range: <ETag>``)."""
        job = job_service.result_of(db.session, current_actor(), job_id)
        body = file_body(get_storage(), job, request.headers.get("Range"), request.headers.get("If-Range"))
        resp = Response(body.chunks, status=body.status, mimetype=job.result_type, direct_passthrough=True)
        for k, v in body.headers.items():
            resp.headers[k] = v
        return resp
