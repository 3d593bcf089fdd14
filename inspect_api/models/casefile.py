"""Case files (卷宗), their members, supplements, proofs of service, filing profiles, and the bureau's
append-only Merkle log (leaves, stored subtree hashes, signed checkpoints, alarms)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import BigIntPK, UTCDateTime, new_id, utcnow

CASEFILE_KINDS = ("enforcement", "inspection")
SERVICE_METHODS = ("direct", "left", "mail", "electronic", "announcement")  # 直接/留置/邮寄/电子/公告
LOG_KINDS = ("audit", "casefile", "supplement")
ALARM_KINDS = ("audit_changed", "audit_vanished", "log_inconsistent")


class CaseFile(db.Model):
    """An archived file: frozen. One subject (a case or an inspection), one file."""

    __tablename__ = "casefiles"
    __table_args__ = (UniqueConstraint("kind", "subject_id", name="uq_casefiles_subject"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(64), nullable=False)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    bureau_code: Mapped[str] = mapped_column(String(12), nullable=False)
    archive_no: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)  # 归档号
    retention: Mapped[str] = mapped_column(String(20), nullable=False)  # 保存期限
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    archived_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    root_sm3: Mapped[str] = mapped_column(String(64), nullable=False)
    root_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_count: Mapped[int] = mapped_column(Integer, nullable=False)
    page_count: Mapped[int] = mapped_column(Integer, nullable=False)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)  # leaf of the root in the bureau log
    checkpoint_size: Mapped[int] = mapped_column(BigInteger, nullable=False)  # checkpoint the package proves in
    findings: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # 评查 findings at archiving
    override_reason: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)  # the filing profile used
    audit_event_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)

    members: Mapped[list[CaseFileMember]] = relationship(back_populates="casefile")
    supplements: Mapped[list[CaseFileSupplement]] = relationship(back_populates="casefile",
                                                                 order_by="CaseFileSupplement.seq")


class CaseFileMember(db.Model):
    """An object whose data is in an archived file: it no longer changes."""

    __tablename__ = "casefile_members"
    __table_args__ = (Index("ix_casefile_members_object", "object_table", "object_id"),)

    casefile_id: Mapped[str] = mapped_column(ForeignKey("casefiles.id"), primary_key=True)
    object_table: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    casefile: Mapped[CaseFile] = relationship(back_populates="members")


class CaseFileSupplement(db.Model):
    """A correction (更正补充材料) appended to an archived file, never an edit of it."""

    __tablename__ = "casefile_supplements"
    __table_args__ = (UniqueConstraint("casefile_id", "seq", name="uq_casefile_supplements_seq"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    casefile_id: Mapped[str] = mapped_column(ForeignKey("casefiles.id"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)

    casefile: Mapped[CaseFile] = relationship(back_populates="supplements")


class ServiceRecord(db.Model):
    """送达回执: a document served on the party (when, how, to whom, by which two officers)."""

    __tablename__ = "service_records"
    __table_args__ = (Index("ix_service_records_document", "document_table", "document_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    document_table: Mapped[str] = mapped_column(String(40), nullable=False)
    document_id: Mapped[str] = mapped_column(String(64), nullable=False)
    document_title: Mapped[str] = mapped_column(String(60), nullable=False)
    document_number: Mapped[str | None] = mapped_column(String(80))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    served_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    place: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(100), nullable=False)
    officer1_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    officer2_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class CaseFileProfile(db.Model):
    """A bureau's filing profile: document order, required documents per file type, deadlines (data)."""

    __tablename__ = "casefile_profiles"

    bureau_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))


class LogEntry(db.Model):
    """A leaf of the bureau's append-only Merkle log (RFC 9162), at 0-based position ``idx``."""

    __tablename__ = "log_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    audit_event_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    leaf_data: Mapped[str | None] = mapped_column(Text)  # kept for casefile / supplement leaves
    leaf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    leaf_sm3: Mapped[str] = mapped_column(String(64), nullable=False)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LogNode(db.Model):
    """The hash of a complete subtree: leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    sm3: Mapped[str] = mapped_column(String(64), nullable=False)


class LogState(db.Model):
    """One row: the log's size. Locked by every appender, so leaves are numbered without gaps."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Checkpoint(db.Model):
    """A signed checkpoint (C2SP tlog-checkpoint) of the log at ``tree_size``."""

    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    root_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    root_sm3: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LogAlarm(db.Model):
    """Raised by the re-check: an audit row logged earlier changed or vanished, or the log itself."""

    __tablename__ = "log_alarms"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    audit_event_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
