"""PDF enforcement documents: 责令限期整改指令书 and 整改复查意见书.

Rendered with reportlab's built-in CID font STSong-Light (UnicodeCIDFont), so
Chinese text needs no font file and extracts as text (pdftotext, pypdf). The
fields follow the national form (安全生产监管监察执法文书式样; see
shared/domain/reference.json enforcement_documents). Dates show in
Asia/Shanghai. Configuration values (bureau name, review body, court) are
passed in by the caller.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ...models import Enterprise, Hazard, Notice, Rectification, Review, User
from ..criteria.catalogues import criterion_citation

SHANGHAI = ZoneInfo("Asia/Shanghai")
FONT = "STSong-Light"
# 《中华人民共和国安全生产法》(2021) 第六十五条第一款第三项: 对检查中发现的事故隐患，应当责令立即排除 …
DEFAULT_BASIS = "《中华人民共和国安全生产法》第六十五条第一款第（三）项"

_font_ready = False


@dataclass(frozen=True)
class DocumentConfig:
    bureau_name: str
    admin_review_body: str
    litigation_court: str
    bureau_code: str = "131100"

    @classmethod
    def from_mapping(cls, config) -> "DocumentConfig":
        return cls(config["BUREAU_NAME"], config["ADMIN_REVIEW_BODY"], config["LITIGATION_COURT"],
                   config.get("BUREAU_CODE", "131100"))


def issuing_bureau(session: Session, bureau_code: str | None, config: DocumentConfig) -> tuple[str, str]:
    """(bureau name, administrative-review body) for the bureau that numbered the document.

    The configured city bureau uses BUREAU_NAME / ADMIN_REVIEW_BODY; a county bureau is
    "<city><county>应急管理局", reviewed by the county government or the city bureau.
    """
    from ...models import Region

    if not bureau_code or bureau_code == config.bureau_code:
        return config.bureau_name, config.admin_review_body
    region = session.get(Region, bureau_code)
    if region is None:
        return config.bureau_name, config.admin_review_body
    parent = session.get(Region, region.parent_id) if region.parent_id else None
    full = (parent.name if parent is not None and parent.level == 2 else "") + region.name
    return f"{full}应急管理局", f"{full}人民政府或者{config.bureau_name}"


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True


def cn_date(moment: datetime | None) -> str:
    if moment is None:
        return "    年  月  日"
    local = moment.astimezone(SHANGHAI) if isinstance(moment, datetime) else moment
    return f"{local.year}年{local.month}月{local.day}日"


def _styles():
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=19, wordWrap="CJK")
    return {
        "body": base,
        "bureau": ParagraphStyle("bureau", parent=base, fontSize=16, leading=24, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=30, alignment=TA_CENTER,
                                spaceAfter=4),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, spaceAfter=10),
        "item": ParagraphStyle("item", parent=base, leftIndent=18, firstLineIndent=-18),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=15),
    }


def _p(text: str, style):
    from reportlab.platypus import Paragraph

    return Paragraph(text, style)


def _e(value) -> str:
    return escape(str(value or ""))


def _officer_line(label: str, user: User | None) -> str:
    if user is None:
        return f"{label}（签名）：__________　执法证号：__________"
    name = user.display_name or user.username
    return f"{label}（签名）：{_e(name)}　执法证号：{_e(user.certificate_no)}"


def _build(story, title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=22 * mm, topMargin=22 * mm,
                            bottomMargin=20 * mm, title=title, author="inspect_api", creator="inspect_api")
    doc.build(story)
    return buf.getvalue()


def _hazard_line(i: int, h: Hazard) -> str:
    text = f"{i}. {_e(h.description)}"
    if h.location:
        text += f"（位置：{_e(h.location)}）"
    if h.grade == "major":
        text += "【重大事故隐患"
        text += _e(criterion_citation(h))  # services/criteria: clause number and text
        text += "】"
    if h.basis:
        text += f"　依据：{_e(h.basis)}"
    return text


def render_notice_pdf(session: Session, notice: Notice, config: DocumentConfig) -> bytes:
    """The 责令限期整改指令书 of a notice, as PDF bytes."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    _ensure_font()
    s = _styles()
    ent = session.get(Enterprise, notice.enterprise_id)
    hazards = [h for h in notice.hazards if h.deleted_at is None]
    from .notices import notice_officers

    o1, o2 = notice_officers(session, notice)
    bureau, review_body = issuing_bureau(session, notice.bureau_code, config)
    n = len(hazards)
    items = "第1项" if n == 1 else f"第1至第{n}项"
    story = [
        _p(_e(bureau), s["bureau"]),
        _p("责令限期整改指令书", s["title"]),
        _p(_e(notice.number or "（未编号）"), s["number"]),
        _p(f"{_e(ent.name if ent else '')}：", s["body"]),
        _p("经查，你单位存在下列问题：", s["body"]),
    ]
    for i, h in enumerate(hazards, 1):
        story.append(_p(_hazard_line(i, h), s["item"]))
    story += [
        Spacer(1, 3 * mm),
        _p(f"依据{DEFAULT_BASIS}的规定，现责令你单位对上述{items}问题于{cn_date(notice.deadline_at)}前"
           "整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。", s["body"]),
        _p("整改期间，你单位应当采取措施，确保安全生产。"
           + (f"安全措施要求：{_e(notice.safety_measures)}" if notice.safety_measures else ""), s["body"]),
        _p(f"如果不服本指令，可以依法在60日内向{_e(review_body)}申请行政复议，"
           f"或者在6个月内依法向{_e(config.litigation_court)}提起行政诉讼，但本指令不停止执行，"
           "法律另有规定的除外。", s["body"]),
        Spacer(1, 6 * mm),
        _p(_officer_line("安全生产执法人员", o1), s["body"]),
        _p(_officer_line("安全生产执法人员", o2), s["body"]),
        _p("被检查单位负责人（签名）：__________　　年　月　日", s["body"]),
        Spacer(1, 6 * mm),
        _p(f"{_e(bureau)}（印章）", s["right"]),
        _p(cn_date(notice.issued_at), s["right"]),
        Spacer(1, 6 * mm),
        _p("本文书一式两份：一份由安全生产监管部门备案，一份交被检查单位。", s["small"]),
    ]
    return _build(story, f"责令限期整改指令书 {notice.number or ''}")


def render_review_pdf(session: Session, review: Review, config: DocumentConfig) -> bytes:
    """The 整改复查意见书 of one review, as PDF bytes."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    _ensure_font()
    s = _styles()
    ent = session.get(Enterprise, review.enterprise_id)
    hazard = session.get(Hazard, review.hazard_id)
    rect = session.get(Rectification, review.rectification_id)
    notice = session.get(Notice, hazard.notice_id) if hazard and hazard.notice_id else None
    reviewer = session.get(User, review.reviewer_id)
    co = session.get(User, review.co_reviewer_id) if review.co_reviewer_id else None
    if notice is not None:
        origin = (f"本机关于{cn_date(notice.issued_at)}作出了《责令限期整改指令书》"
                  f"（{_e(notice.number)}），")
    else:
        origin = "本机关对你单位存在的事故隐患作出了整改要求，"
    bureau, _ = issuing_bureau(session, review.bureau_code, config)
    verdict = "整改合格" if review.result == "accepted" else "整改不合格"
    story = [
        _p(_e(bureau), s["bureau"]),
        _p("整改复查意见书", s["title"]),
        _p(_e(review.number or "（未编号）"), s["number"]),
        _p(f"{_e(ent.name if ent else '')}：", s["body"]),
        _p(origin + f"经于{cn_date(review.reviewed_at)}对你单位整改情况进行复查，提出如下意见：", s["body"]),
        _p(f"1. {_e(hazard.description if hazard else '')}：{verdict}。{_e(review.opinion)}", s["item"]),
    ]
    if hazard is not None and hazard.grade == "major":
        story.append(_p("重大事故隐患" + _e(criterion_citation(hazard)) + "。", s["item"]))  # services/criteria
    if rect is not None:
        line = f"企业报告的整改情况：{_e(rect.description)}"
        if rect.measures:
            line += f"；整改措施：{_e(rect.measures)}"
        if rect.funds is not None:
            line += f"；整改资金：{rect.funds:.2f}元"
        if rect.responsible_person:
            line += f"；整改责任人：{_e(rect.responsible_person)}"
        if rect.completed_on:
            line += f"；完成日期：{cn_date(rect.completed_on)}"
        story.append(_p(line + "。", s["item"]))
    if review.onsite_check:
        story.append(_p(f"现场核查情况：{_e(review.onsite_check)}", s["item"]))
    if review.result == "rejected":
        if review.new_deadline_at:
            story.append(_p(f"责令你单位于{cn_date(review.new_deadline_at)}前重新整改完毕。", s["body"]))
        else:
            story.append(_p("责令你单位按原整改期限继续整改。", s["body"]))
    elif hazard is not None and hazard.grade == "major":
        story.append(_p("该隐患为重大事故隐患，经复查合格后报请负责人审核销号。", s["body"]))
    story += [
        Spacer(1, 6 * mm),
        _p("被复查单位负责人（签名）：__________　　年　月　日", s["body"]),
        _p(_officer_line("安全生产执法人员", reviewer), s["body"]),
        _p(_officer_line("安全生产执法人员", co), s["body"]),
        Spacer(1, 6 * mm),
        _p(f"{_e(bureau)}（印章）", s["right"]),
        _p(cn_date(review.reviewed_at), s["right"]),
        Spacer(1, 6 * mm),
        _p("本文书一式两份：一份由安全生产监管部门备案，一份交被复查单位。", s["small"]),
    ]
    return _build(story, f"整改复查意见书 {review.number or ''}")
