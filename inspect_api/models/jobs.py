"""Background jobs (导出、批量文书、提醒、照片补全): one row per job, the source of truth.

The queue (Huey: Redis in production, a SQLite file embedded) only carries job ids;
everything a user sees — state, progress, attempts, the error, the stored result —
is here. See services/jobs/ and docs/scale.md for the lifecycle.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "failed", "expired")


def new_job_id() -> str:
    import secrets

    return secrets.token_hex(12)


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    # the owner's jurisdiction when the job was submitted (the scope the job reads), or None (admin)
    region_code: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    progress_done: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    # the attempt's claim: a worker writes only while it holds the lease of this token
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(120))
    # outbox: None = not handed to the queue yet (or to be handed again)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_key: Mapped[str | None] = mapped_column(String(400))
    result_name: Mapped[str | None] = mapped_column(String(200))
    result_type: Mapped[str | None] = mapped_column(String(120))
    result_size: Mapped[int | None] = mapped_column(BigInteger)
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    # written by the attempt before it stores anything: what a sweep removes if the attempt dies
    partial_key: Mapped[str | None] = mapped_column(String(400))
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
        Index("ix_jobs_state_lease", "state", "lease_until"),
        Index("ix_jobs_state_enqueued", "state", "enqueued_at"),
    )

    @property
    def percent(self) -> int | None:
        if self.state == "done":
            return 100
        if not self.progress_total:
            return None
        return min(100, int(self.progress_done * 100 / self.progress_total))
