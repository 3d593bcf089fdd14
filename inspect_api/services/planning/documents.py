"""The planning PDFs: 检查任务通知书 (the task notice / 检查方案) and 现场检查记录 (the on-site inspection
record, fields of reference.json enforcement_documents), numbered like the other documents and rendered
with the helpers of services/lifecycle/documents.py (embedded CJK font, Asia/Shanghai dates)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, ValidationError
from ...models import ChecklistItem, ChecklistTemplate, Enterprise, Finding, Hazard, Inspection, InspectionTask, Photo, User, utcnow
from ..access.actor import Actor
from ..access.audit import record_event
from ..lifecycle.documents import DocumentConfig, SHANGHAI, _build, _e, _ensure_font, _officer_line, _p, _styles, cn_date, issuing_bureau
from ..lifecycle.numbering import assign_number
from .tasks import KIND_NAMES, format_code

RESULT_NAMES = {"pass": "符合", "fail": "不符合", "na": "不适用"}


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "____年__月__日__时__分"
    t = moment.astimezone(SHANGHAI)
    return f"{t.year}年{t.month}月{t.day}日{t.hour}时{t.minute:02d}分"


def number_notice(session: Session, actor: Actor, task: InspectionTask, default_bureau: str) -> str:
    """The 检查任务通知书 number, taken once (the first time the notice is issued)."""
    if task.notice_number is None:
        _, _, _, task.notice_number = assign_number(session, "task_notice", task.region_code, utcnow(), default_bureau)
        session.flush()
        record_event(session, actor, "task.notice_numbered", task, data={"number": task.notice_number})
    return task.notice_number


def prepare_record(session: Session, actor: Actor, task: InspectionTask, data: dict, default_bureau: str) -> InspectionTask:
    """Number the 现场检查记录 of a done task, with the recorder and the enterprise's representative (or
    their refusal to sign). Once numbered the record's signatures are fixed."""
    if task.status != "done" or not task.inspection_id:
        raise Conflict("检查完成后才能出具现场检查记录 (the task has no submitted inspection yet)",
                       code="invalid_transition", details={"status": task.status})
    if task.record_number:
        raise Conflict("现场检查记录已编号，不能修改 (the record is numbered and fixed)", code="record_numbered",
                       details={"number": task.record_number})
    insp = session.get(Inspection, task.inspection_id)
    recorder = data.get("recorder_id") or insp.lead_inspector_id
    if recorder not in (insp.lead_inspector_id, insp.co_inspector_id):
        raise ValidationError("记录人须为本次检查的执法人员 (the recorder is one of the two inspectors)",
                              details={"fields": {"recorder_id": ["Not an inspector of this inspection."]}})
    refused = bool(data.get("refused_to_sign"))
    rep = (data.get("representative") or "").strip() or None
    if not refused and not rep:
        raise ValidationError("须填写被检查单位现场负责人，或注明拒绝签名 (representative or refusal required)",
                              details={"fields": {"representative": ["Required unless refused_to_sign."]}})
    task.record_recorder_id, task.record_representative, task.record_refused = recorder, rep, refused
    _, _, _, task.record_number = assign_number(session, "insp_record", task.region_code,
                                                insp.finished_at or utcnow(), default_bureau)
    session.flush()
    record_event(session, actor, "task.record_numbered", task,
                 data={"number": task.record_number, "representative": rep, "refused": refused})
    return task


def _items_text(session: Session, task: InspectionTask) -> list[str]:
    titles = dict(session.execute(select(ChecklistTemplate.id, ChecklistTemplate.title)
                                  .where(ChecklistTemplate.id.in_(task.template_ids or []))).all())
    out = [f"检查表：{_e(titles.get(t, t))}" for t in task.template_ids or []]
    if task.item_ids:
        items = session.execute(select(ChecklistItem.code, ChecklistItem.content)
                                .where(ChecklistItem.id.in_(task.item_ids)).order_by(ChecklistItem.code)).all()
        out += [f"{_e(c)} {_e(t)}" for c, t in items]
    return out or ["按现行检查事项清单检查"]


def render_task_notice_pdf(session: Session, task: InspectionTask, config: DocumentConfig) -> bytes:
    """检查任务通知书 / 检查方案: who inspects whom, when, what, under which code."""
    font = _ensure_font()
    s = _styles(font)
    ent = session.get(Enterprise, task.enterprise_id)
    bureau, _ = issuing_bureau(session, task.region_code[:6], config)
    story = [
        _p(_e(bureau), s["bureau"]), _p("检查任务通知书", s["title"]), _p(_e(task.notice_number or "（未编号）"), s["number"]),
        _p(f"被检查单位：{_e(ent.name)}", s["body"]), _p(f"地址：{_e(ent.address)}", s["body"]),
        _p(f"检查类型：{KIND_NAMES.get(task.kind, task.kind)}{'（综合查一次）' if task.is_joint else ''}", s["body"]),
        _p(f"检查时限：{cn_date(task.window_start_at)}至{cn_date(task.window_end_at)}", s["body"]),
        _p(f"检查码：{format_code(task.code)}（入企时出示，企业可在企业端核验）", s["body"]),
        _p("检查事项：", s["body"]),
    ]
    story += [_p(f"{i}. {line}", s["item"]) for i, line in enumerate(_items_text(session, task), 1)]
    if task.approval_reason:
        story.append(_p(f"计划外检查审批理由：{_e(task.approval_reason)}", s["body"]))
    if task.over_cap_reason:
        story.append(_p(f"超出年度检查频次的理由：{_e(task.over_cap_reason)}", s["body"]))
    story += [
        _p(_officer_line("执法人员", task.lead_inspector), s["body"]),
        _p(_officer_line("执法人员", task.co_inspector), s["body"]),
        _p(f"{_e(bureau)}（印章）", s["right"]), _p(cn_date(task.approved_at or task.created_at), s["right"]),
    ]
    return _build(story, f"检查任务通知书 {task.notice_number or ''}")


def render_record_pdf(session: Session, task: InspectionTask, config: DocumentConfig) -> bytes:
    """现场检查记录 of the task's inspection (numbered by prepare_record)."""
    if not task.record_number:
        raise Conflict("现场检查记录尚未编号 (prepare the record first)", code="record_not_prepared")
    font = _ensure_font()
    s = _styles(font)
    insp = session.get(Inspection, task.inspection_id)
    ent = session.get(Enterprise, task.enterprise_id)
    bureau, _ = issuing_bureau(session, task.region_code[:6], config)
    lead, co = session.get(User, insp.lead_inspector_id), session.get(User, insp.co_inspector_id)
    recorder = session.get(User, task.record_recorder_id)
    story = [
        _p(_e(bureau), s["bureau"]), _p("现场检查记录", s["title"]), _p(_e(task.record_number), s["number"]),
        _p(f"被检查单位：{_e(ent.name)}", s["body"]), _p(f"地址：{_e(ent.address)}", s["body"]),
        _p(f"法定代表人（负责人）：{_e(ent.legal_representative)}　职务：__________　联系电话：{_e(ent.contact_phone)}", s["body"]),
        _p(f"检查场所：{_e(ent.address or ent.name)}", s["body"]),
        _p(f"检查时间：{_local(insp.started_at)}至{_local(insp.finished_at)}", s["body"]),
        _p(_officer_line("检查人员", lead), s["body"]), _p(_officer_line("检查人员", co), s["body"]),
        _p(f"记录人：{_e(recorder.display_name or recorder.username) if recorder else '__________'}", s["body"]),
        _p(f"检查任务：{_e(task.title)}（检查码 {format_code(task.code)}）", s["body"]),
        _p("检查情况：", s["body"]),
    ]
    story += [_p(line, s["item"]) for line in _findings_lines(session, insp)]
    sign = "拒绝签名（由执法人员注明）" if task.record_refused else f"{_e(task.record_representative)}（签名）"
    story += [_p(f"被检查单位现场负责人：{sign}", s["body"]),
              _p(f"{_e(bureau)}　{cn_date(insp.finished_at)}", s["right"])]
    return _build(story, f"现场检查记录 {task.record_number}")


def _findings_lines(session: Session, insp: Inspection) -> list[str]:
    rows = session.execute(select(ChecklistItem.code, ChecklistItem.content, Finding.result, Finding.note)
                           .join(ChecklistItem, ChecklistItem.id == Finding.item_id, isouter=True)
                           .where(Finding.inspection_id == insp.id, Finding.deleted_at.is_(None))
                           .order_by(ChecklistItem.code)).all()
    lines = [f"{i}. {_e(code)} {_e(content)}：{RESULT_NAMES.get(result, result)}{('，' + _e(note)) if note else ''}"
             for i, (code, content, result, note) in enumerate(rows, 1)]
    hazards = session.scalars(select(Hazard).where(Hazard.inspection_id == insp.id, Hazard.deleted_at.is_(None))).all()
    lines += [f"发现问题：{_e(h.description)}{('（' + _e(h.location) + '）') if h.location else ''}"
              f"{'，已当场整改' if h.rectified_on_spot else ''}" for h in hazards]
    photos = session.scalar(select(Photo.id).where(Photo.owner_table == "inspections", Photo.owner_id == insp.id).limit(1))
    if insp.note:
        lines.append(f"备注：{_e(insp.note)}")
    if photos:
        lines.append("附：现场照片见系统记录")
    return lines or ["未发现问题。"]
