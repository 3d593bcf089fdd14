"""PDF enforcement documents: 责令限期整改指令书 and 整改复查意见书.

Typeset in a CJK TrueType font EMBEDDED in the file (a subset: only the glyphs used), so that the document
prints the same anywhere, years later, and its text extracts (pdftotext, pypdf): by default WenQuanYi Micro
Hei (Debian's fonts-wqy-microhei; Apache-2.0 or GPLv3 with a font-embedding exception), or the TTF/TTC
named by PDF_FONT_PATH. Lines are broken by the Chinese 禁则 (typeset.py) and fields are joined without
doubled punctuation. The fields follow the national form (安全生产监管监察执法文书式样; see
shared/domain/reference.json enforcement_documents). Dates show in Asia/Shanghai.

Who issues (bureau name), who reviews (行政复议机关) and which court hears a suit are configuration per
issuing bureau (ISSUING_BUREAUS), defaulting by the current 行政复议法 (2023 revision, in force 2024-01-01):
the people's government at the bureau's own level reviews its acts (docs/lifecycle.md, "Documents").
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ...models import Enterprise, Hazard, Notice, Rectification, Review, User
from ..criteria.catalogues import criterion_citation
from .typeset import join_clauses, make_paragraph_class, sentence, tidy

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
FONT = "InspectCJK"
FALLBACK_FONT = "STSong-Light"  # a CID font every PDF reader knows; NOT embedded: used only without a TTF
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
# 《中华人民共和国安全生产法》(2021) 第六十五条第一款第三项: 对检查中发现的事故隐患，应当责令立即排除 …
DEFAULT_BASIS = "《中华人民共和国安全生产法》第六十五条第一款第（三）项"

_fonts: dict[str, str] = {}


@dataclass(frozen=True)
class BureauTexts:
    name: str
    review_body: str
    court: str


@dataclass(frozen=True)
class DocumentConfig:
    bureau_name: str
    admin_review_body: str
    litigation_court: str
    bureau_code: str = "131100"
    font_path: str | None = None
    # bureau code -> {"name", "review_body", "court"} (any of them): overrides the defaults per bureau
    bureaus: dict = field(default_factory=dict)
    review_law: str = "《中华人民共和国行政复议法》"
    review_article: str = ""  # e.g. "第二十条": printed only when configured (the article is not confirmed here)
    review_days: int = 60
    litigation_months: int = 6

    @classmethod
    def from_mapping(cls, config) -> "DocumentConfig":
        return cls(config["BUREAU_NAME"], config["ADMIN_REVIEW_BODY"], config["LITIGATION_COURT"],
                   config.get("BUREAU_CODE", "131100"), config.get("PDF_FONT_PATH"),
                   dict(config.get("ISSUING_BUREAUS") or {}),
                   config.get("ADMIN_REVIEW_LAW") or "《中华人民共和国行政复议法》",
                   config.get("ADMIN_REVIEW_ARTICLE") or "", int(config.get("ADMIN_REVIEW_DAYS") or 60),
                   int(config.get("LITIGATION_MONTHS") or 6))


def _county_style_name(session: Session, region) -> str:
    """A county-level unit's full name as documents write it: 衡水市桃城区 (a district carries its city),
    枣强县, 深州市."""
    from ...models import Region

    parent = session.get(Region, region.parent_id) if region.parent_id else None
    if region.kind == "市辖区" and parent is not None and parent.level == 2:
        return parent.name + region.name
    return region.name


def bureau_texts(session: Session, bureau_code: str | None, config: DocumentConfig) -> BureauTexts:
    """Name, review body (行政复议机关) and court of the bureau that numbered the document.

    The configured city bureau uses BUREAU_NAME / ADMIN_REVIEW_BODY / LITIGATION_COURT; a county bureau is
    "<county>应急管理局", reviewed by "<county>人民政府" (行政复议法 2023: the government at its level) and
    sued at "<county>人民法院". ISSUING_BUREAUS overrides any of the three per bureau code.
    """
    from ...models import Region

    code = bureau_code or config.bureau_code
    region = session.get(Region, code) if code != config.bureau_code else None
    if region is None:
        texts = BureauTexts(config.bureau_name, config.admin_review_body, config.litigation_court)
    else:
        full = _county_style_name(session, region)
        texts = BureauTexts(f"{full}应急管理局", f"{full}人民政府", f"{full}人民法院")
    override = config.bureaus.get(code) or {}
    return BureauTexts(override.get("name") or texts.name, override.get("review_body") or texts.review_body,
                       override.get("court") or texts.court)


def issuing_bureau(session: Session, bureau_code: str | None, config: DocumentConfig) -> tuple[str, str]:
    """(bureau name, administrative-review body) for the bureau that numbered the document."""
    t = bureau_texts(session, bureau_code, config)
    return t.name, t.review_body


def remedies_text(texts: BureauTexts, config: DocumentConfig, act: str = "本指令") -> str:
    """The 复议 / 诉讼 notice printed on a document (a sentence of the bureau's texts and the configured law)."""
    article = config.review_article
    return (f"如不服{act}，可以自收到之日起{config.review_days}日内依照{config.review_law}{article}"
            f"向{texts.review_body}申请行政复议，或者在{config.litigation_months}个月内依照"
            f"《中华人民共和国行政诉讼法》向{texts.court}提起行政诉讼。复议或者诉讼期间，{act}不停止执行，"
            "法律另有规定的除外。")


def _ensure_font(path: str | None = None) -> str:
    """Register the CJK TrueType font (embedded as a subset) once; the name to use in styles."""
    key = path or ""
    if key in _fonts:
        return _fonts[key]
    from reportlab.pdfbase import pdfmetrics

    candidates = [path] if path else list(FONT_CANDIDATES)
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            from reportlab.pdfbase.ttfonts import TTFont

            name = f"{FONT}{len(_fonts)}"
            kwargs = {"subfontIndex": 0} if candidate.lower().endswith(".ttc") else {}
            pdfmetrics.registerFont(TTFont(name, candidate, **kwargs))
            _fonts[key] = name
            return name
    log.warning("no CJK TrueType font found (%s): PDFs use the non-embedded %s; install fonts-wqy-microhei "
                "or set INSPECT_PDF_FONT_PATH", ", ".join(c for c in candidates if c), FALLBACK_FONT)
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    _fonts[key] = FALLBACK_FONT
    return FALLBACK_FONT


def cn_date(moment: datetime | None) -> str:
    if moment is None:
        return "    年  月  日"
    local = moment.astimezone(SHANGHAI) if isinstance(moment, datetime) else moment
    return f"{local.year}年{local.month}月{local.day}日"


def _styles(font: str):
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("body", fontName=font, fontSize=11.5, leading=19, wordWrap="CJK")
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


_CJKParagraph = None


def _p(text: str, style):
    """A paragraph of escaped text, broken into lines by the 禁则 (typeset.py)."""
    global _CJKParagraph
    if _CJKParagraph is None:
        _CJKParagraph = make_paragraph_class()
    return _CJKParagraph(text, style)


def _e(value) -> str:
    return escape(str(value or ""))


def _officer_line(label: str, user: User | None) -> str:
    if user is None:
        return f"{label}（签名）：__________　执法证号：__________"
    name = user.display_name or user.username
    return f"{label}（签名）：{_e(name)}　执法证号：{_e(user.certificate_no)}"


def _acknowledgement_line(session: Session, notice: Notice) -> str:
    """The enterprise's signature line: who signed online (签收) and when, or a blank line to sign on paper."""
    if notice.acknowledged_at is None:
        return "被检查单位负责人（签名）：__________　　年　月　日"
    who = session.get(User, notice.acknowledged_by_id) if notice.acknowledged_by_id else None
    name = (who.display_name or who.username) if who is not None else "被检查单位"
    local = notice.acknowledged_at.astimezone(SHANGHAI)
    return (f"被检查单位负责人：{_e(name)}（已于{cn_date(local)} {local:%H:%M} 在网上签收）")


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
    description = tidy((h.description or "").strip()).rstrip("。；，、 ")
    text = f"{i}. {_e(description)}"
    if h.location:
        text += f"（位置：{_e(h.location)}）"
    if h.grade == "major":
        text += "【重大事故隐患"
        text += _e(criterion_citation(h))  # services/criteria: clause number and text
        text += "】"
    if h.basis:
        text += f"；依据：{_e(h.basis)}"
    return text + "。"


def render_notice_pdf(session: Session, notice: Notice, config: DocumentConfig) -> bytes:
    """The 责令限期整改指令书 of a notice, as PDF bytes."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    s = _styles(_ensure_font(config.font_path))
    ent = session.get(Enterprise, notice.enterprise_id)
    hazards = [h for h in notice.hazards if h.deleted_at is None]
    from .notices import notice_officers

    o1, o2 = notice_officers(session, notice)
    texts = bureau_texts(session, notice.bureau_code, config)
    bureau = texts.name
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
           + (f"安全措施要求：{_e(sentence(notice.safety_measures))}" if notice.safety_measures else ""), s["body"]),
        _p(_e(remedies_text(texts, config)), s["body"]),
        Spacer(1, 6 * mm),
        _p(_officer_line("安全生产执法人员", o1), s["body"]),
        _p(_officer_line("安全生产执法人员", o2), s["body"]),
        _p(_acknowledgement_line(session, notice), s["body"]),
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

    s = _styles(_ensure_font(config.font_path))
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
        _p(_e(f"1. {join_clauses([hazard.description if hazard else '', verdict], sep='：', end='。')}"
              f"{sentence(review.opinion)}"), s["item"]),
    ]
    if hazard is not None and hazard.grade == "major":
        story.append(_p("重大事故隐患" + _e(criterion_citation(hazard)) + "。", s["item"]))  # services/criteria
    if rect is not None:
        line = join_clauses([
            f"企业报告的整改情况：{rect.description}",
            f"整改措施：{rect.measures}" if rect.measures else None,
            f"整改资金：{rect.funds:,.2f}元" if rect.funds is not None else None,
            f"整改责任人：{rect.responsible_person}" if rect.responsible_person else None,
            f"完成日期：{cn_date(rect.completed_on)}" if rect.completed_on else None,
        ])
        story.append(_p(_e(line), s["item"]))
    if review.onsite_check:
        story.append(_p(_e(f"现场核查情况：{sentence(review.onsite_check)}"), s["item"]))
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
