"""Gathering a file's material from the recorded data: the subject (an enforcement case, or an inspection
with its follow-up), the documents and the data each is made from, the photos, the objects the file
freezes, and their audit events."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import (
    AuditEvent, EnforcementCase, Enterprise, Finding, Hazard, Inspection, Notice, PenaltyDecision, Photo,
    Rectification, Review, ServiceRecord, User,
)
from ..lifecycle import documents as docs
from ..lifecycle.documents import SHANGHAI, DocumentConfig, issuing_bureau
from . import pdfs
from .profiles import DOCUMENT_TITLES

PENALTY_WORDS = {"warning": "警告", "fine": "罚款", "suspend_production": "责令停产停业整顿",
                 "licence_suspension": "暂扣或者吊销有关许可证", "closure": "提请予以关闭"}
SERVICE_WORDS = {"direct": "直接送达", "left": "留置送达", "mail": "邮寄送达", "electronic": "电子送达",
                 "announcement": "公告送达"}
OWNER_WORDS = {"inspections": "现场检查", "findings": "检查项", "hazards": "隐患", "rectifications": "整改"}


@dataclass
class Doc:
    kind: str
    number: str | None
    responsible: str
    date: str | None  # ISO date (Asia/Shanghai)
    order: tuple  # within its type
    data: dict
    render: Callable[[int], bytes]  # first page number -> the numbered PDF
    originals: list = field(default_factory=list)  # [(file name, loader)]
    note: str | None = None
    title: str | None = None

    @property
    def heading(self) -> str:
        return self.title or DOCUMENT_TITLES[self.kind]


@dataclass
class Subject:
    kind: str
    subject_id: str
    enterprise: Enterprise
    region_code: str
    bureau_code: str
    bureau: str
    cover: dict
    officers: list  # [{name, certificate_no}]
    docs: list
    members: set
    audit_events: list
    facts: dict  # what the review checks read


def local_day(moment) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.astimezone(SHANGHAI).date().isoformat()
    return moment.isoformat()


def local_time(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else None


def person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"name": user.display_name or user.username, "certificate_no": user.certificate_no}


def _user(session: Session, user_id: str | None) -> dict | None:
    return person(session.get(User, user_id)) if user_id else None


def party(ent: Enterprise) -> list:
    return [["被检查（处罚）单位", ent.name], ["统一社会信用代码", ent.uscc], ["地址", ent.address],
            ["法定代表人（负责人）", ent.legal_representative], ["联系电话", ent.contact_phone]]


def _form(bureau: str, title: str, number, fields: list, paragraphs=(), signatures=()) -> dict:
    return {"bureau": bureau, "title": title, "number": number, "fields": fields, "paragraphs": list(paragraphs),
            "signatures": list(signatures)}


def _form_doc(kind, number, responsible, day, order, data, note=None) -> Doc:
    return Doc(kind, number, responsible, day, order, data, lambda first: pdfs.render_form(data, first), note=note)


def inspection_doc(session: Session, insp: Inspection, ent: Enterprise, bureau: str) -> Doc:
    lead, co = _user(session, insp.lead_inspector_id), _user(session, insp.co_inspector_id)
    findings = list(session.scalars(select(Finding).where(Finding.inspection_id == insp.id,
                                                          Finding.deleted_at.is_(None)).order_by(Finding.id)))
    hazards = _inspection_hazards(session, insp)
    counts = {r: sum(1 for f in findings if f.result == r) for r in ("pass", "fail", "na")}
    lines = [f"检查项 {len(findings)} 项：符合 {counts['pass']} 项，不符合 {counts['fail']} 项，不适用 {counts['na']} 项。"]
    lines += [f"发现问题 {i}：{h.description}" + (f"（{h.location}）" if h.location else "")
              for i, h in enumerate(hazards, 1)]
    if insp.note:
        lines.append(f"备注：{insp.note}")
    data = _form(bureau, "现场检查记录", None, party(ent) + [
        ["检查场所", ent.address], ["检查开始时间", local_time(insp.started_at)],
        ["检查结束时间", local_time(insp.finished_at)],
        ["检查人员", f"{pdfs.officer_text(lead)}；{pdfs.officer_text(co)}"],
        ["位置（GPS）", f"{insp.latitude}, {insp.longitude}" if insp.latitude is not None else None],
    ], ["检查情况：" + " ".join(lines)], ["检查人员（签名）：__________　__________",
                                     "被检查单位现场负责人（签名）：__________"])
    data["source"] = {"table": "inspections", "id": insp.id}
    return _form_doc("inspection_record", None, bureau, local_day(insp.started_at or insp.created_at),
                     (local_day(insp.started_at) or "", insp.id), data)


def _inspection_hazards(session: Session, insp: Inspection) -> list:
    return list(session.scalars(select(Hazard).where(Hazard.inspection_id == insp.id, Hazard.deleted_at.is_(None))
                                .order_by(Hazard.found_at, Hazard.id)))


def notice_doc(session: Session, notice: Notice, config: DocumentConfig) -> Doc:
    bureau, _ = issuing_bureau(session, notice.bureau_code, config)
    hazards = [h for h in notice.hazards if h.deleted_at is None]
    data = {"source": {"table": "notices", "id": notice.id}, "number": notice.number,
            "issued_at": notice.issued_at.isoformat() if notice.issued_at else None,
            "deadline_at": notice.deadline_at.isoformat() if notice.deadline_at else None,
            "safety_measures": notice.safety_measures, "officers": [person(o) for o in
                                                                    _notice_officers(session, notice)],
            "hazards": [{"id": h.id, "description": h.description, "location": h.location, "grade": h.grade,
                         "basis": h.basis} for h in hazards]}
    return Doc("rectification_notice", notice.number, bureau, local_day(notice.issued_at),
               (local_day(notice.issued_at) or "", notice.number or "", notice.id), data,
               lambda first: pdfs.stamp_page_numbers(
                   _invariant(lambda: docs.render_notice_pdf(session, notice, config)), first))


def _notice_officers(session, notice):
    from ..lifecycle.notices import notice_officers

    return notice_officers(session, notice)


def review_doc(session: Session, review: Review, config: DocumentConfig) -> Doc:
    bureau, _ = issuing_bureau(session, review.bureau_code, config)
    data = {"source": {"table": "reviews", "id": review.id}, "number": review.number, "result": review.result,
            "opinion": review.opinion, "onsite_check": review.onsite_check,
            "reviewed_at": review.reviewed_at.isoformat(), "hazard_id": review.hazard_id,
            "reviewer": _user(session, review.reviewer_id), "co_reviewer": _user(session, review.co_reviewer_id)}
    return Doc("review_opinion", review.number, bureau, local_day(review.reviewed_at),
               (review.reviewed_at.isoformat(), review.id), data,
               lambda first: pdfs.stamp_page_numbers(
                   _invariant(lambda: docs.render_review_pdf(session, review, config)), first))


def _invariant(fn):
    with pdfs.invariant():
        return fn()


def service_docs(session: Session, documents: list[tuple[str, str, str, str | None]], bureau: str,
                 ent: Enterprise) -> list[Doc]:
    """送达回执: recorded service records, and a notice's acknowledgement (签收) in the portal."""
    out = []
    for table, obj_id, title, number in documents:
        for rec in session.scalars(select(ServiceRecord).where(ServiceRecord.document_table == table,
                                                               ServiceRecord.document_id == obj_id)
                                   .order_by(ServiceRecord.served_at, ServiceRecord.id)):
            o1, o2 = _user(session, rec.officer1_id), _user(session, rec.officer2_id)
            data = _form(bureau, "文书送达回执", None, [
                ["送达文书名称及文号", f"{title} {number or ''}"], ["受送达人", ent.name], ["签收人", rec.recipient],
                ["送达时间", local_time(rec.served_at)], ["送达地点", rec.place],
                ["送达方式", SERVICE_WORDS.get(rec.method, rec.method)],
                ["送达人", f"{pdfs.officer_text(o1)}；{pdfs.officer_text(o2)}"], ["备注", rec.note]],
                signatures=["受送达人（签名）：__________", "送达人（签名）：__________　__________"])
            data["source"] = {"table": "service_records", "id": rec.id, "document": {"table": table, "id": obj_id}}
            out.append(_form_doc("service_receipt", None, bureau, local_day(rec.served_at),
                                 (rec.served_at.isoformat(), rec.id), data))
        if table == "notices":
            notice = session.get(Notice, obj_id)
            if notice is not None and notice.acknowledged_at is not None:
                signer = _user(session, notice.acknowledged_by_id)
                data = _form(bureau, "文书送达回执", None, [
                    ["送达文书名称及文号", f"{title} {number or ''}"], ["受送达人", ent.name],
                    ["签收人", (signer or {}).get("name")], ["送达时间", local_time(notice.acknowledged_at)],
                    ["送达方式", "电子送达（企业在平台签收）"]])
                data["source"] = {"table": "notices", "id": notice.id, "event": "acknowledge"}
                out.append(_form_doc("service_receipt", None, bureau, local_day(notice.acknowledged_at),
                                     (notice.acknowledged_at.isoformat(), notice.id), data, note="平台签收"))
    return out


def photo_docs(session: Session, storage, owners: list[tuple[str, str]], bureau: str = "") -> list[Doc]:
    if not owners:
        return []
    clauses = [(Photo.owner_table == t) & (Photo.owner_id == i) for t, i in owners]
    photos = list(session.scalars(select(Photo).where(or_(*clauses), Photo.status == "ready",
                                                      Photo.deleted_at.is_(None))
                                  .order_by(Photo.taken_at, Photo.created_at, Photo.id)))
    out = []
    for photo in photos:
        ext = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}.get(photo.content_type or "", "bin")
        taken = photo.taken_at or photo.exif_taken_at
        lat, lon = photo.latitude if photo.latitude is not None else photo.exif_latitude, \
            photo.longitude if photo.longitude is not None else photo.exif_longitude
        caption = f"{OWNER_WORDS.get(photo.owner_table, photo.owner_table)}照片 {local_time(taken) or ''}"
        data = {"caption": caption, "source": {"table": "photos", "id": photo.id},
                "fields": [["拍摄对象", f"{OWNER_WORDS.get(photo.owner_table, '')}（{photo.owner_id}）"],
                           ["拍摄时间", local_time(taken)], ["拍摄位置", f"{lat}, {lon}" if lat is not None else None],
                           ["拍摄人", (_user(session, photo.created_by_id) or {}).get("name")],
                           ["原件", f"original.{ext}（{photo.size} 字节，{photo.width}×{photo.height}）"],
                           ["原件 SHA-256", photo.sha256]]}
        loader = _once(lambda k=photo.storage_key: storage.read_bytes(k))
        out.append(Doc("photo_evidence", None, bureau, local_day(taken or photo.created_at),
                       ((taken or photo.created_at).isoformat(), photo.id), data,
                       (lambda first, d=data, ld=loader: pdfs.render_photo_page(d, _page_image(ld()), first)),
                       originals=[(f"original.{ext}", loader)], title=f"照片证据：{caption}"))
    return out


def _once(loader):
    """The original is read once for its evidence page and its copy in the package."""
    kept = []

    def load():
        if not kept:
            kept.append(loader())
        return kept[0]

    return load


def _page_image(original: bytes) -> bytes | None:
    """A JPEG copy at most 1600 px for the evidence page (the original ships untouched)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(original)) as im:
            im.draft("RGB", (1600, 1600))
            im = ImageOps.exif_transpose(im).convert("RGB")
            im.thumbnail((1600, 1600))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=85)
            return buf.getvalue()
    except Exception:  # noqa: BLE001 — an unreadable picture still files its original
        return None


def audit_events(session: Session, members: set, ids: list | None = None) -> list[AuditEvent]:
    if ids is not None:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id))) \
            if ids else []
    by_table: dict = {}
    for table, obj_id in members:
        by_table.setdefault(table, []).append(obj_id)
    if not by_table:
        return []
    clauses = [(AuditEvent.object_table == t) & AuditEvent.object_id.in_(sorted(v)) for t, v in by_table.items()]
    return list(session.scalars(select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.id)))


def enforcement_subject_parts(session: Session, case: EnforcementCase):
    """The case's inspection, hazards (its own and its inspection's), notices and reviews."""
    insp = session.get(Inspection, case.inspection_id) if case.inspection_id else None
    hazards = {h.id: h for h in case.hazards if h.deleted_at is None}
    if insp is not None:
        hazards.update({h.id: h for h in _inspection_hazards(session, insp)})
    return insp, sorted(hazards.values(), key=lambda h: (h.found_at, h.id))


def follow_up(session: Session, hazards: list[Hazard]):
    notice_ids = sorted({h.notice_id for h in hazards if h.notice_id})
    notices = [session.get(Notice, i) for i in notice_ids]
    hazard_ids = [h.id for h in hazards]
    rects = list(session.scalars(select(Rectification).where(Rectification.hazard_id.in_(hazard_ids))
                                 .order_by(Rectification.reported_at, Rectification.id))) if hazard_ids else []
    reviews = list(session.scalars(select(Review).where(Review.hazard_id.in_(hazard_ids))
                                   .order_by(Review.reviewed_at, Review.id))) if hazard_ids else []
    return sorted(notices, key=lambda n: (n.issued_at or n.created_at, n.id)), rects, reviews


def date_of(value) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date()
    return value


__all__ = ["Doc", "Subject", "PenaltyDecision", "local_day", "local_time", "person", "party", "_form_doc",
           "_form"]
