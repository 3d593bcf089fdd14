"""Background jobs (后台任务): heavy work off the request path, on a real queue.

Owns: the jobs table (models/jobs.py) and its lifecycle — submit (validated with
the owner's rights), the outbox dispatch to the queue, the worker's claim /
heartbeat lease / publish, retries and failures with a reason, result files
stored through the storage contract with an expiry, the sweep — and the job
kinds: the hazard-ledger and statistics exports (calling
services/reporting/exports.py), overdue reminders, photo-derivative backfill and
bulk notice PDFs. The queue is Huey (queue.py): Redis in production with
separate worker processes, a SQLite file embedded. docs/scale.md describes it.
"""
from .jobs import (  # noqa: F401
    JobExpired, JobKindUnknown, JobNotReady, export_is_large, get_job, list_jobs, pending_job_ids, result_of,
    submit_job, sweep,
)
from .kinds import KIND_LABELS, KINDS  # noqa: F401
from .queue import dispatch, init_jobs, queue_kind, workers_alive  # noqa: F401
from .runner import JobSettings, run_job  # noqa: F401
