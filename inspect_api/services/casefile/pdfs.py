"""The pages of a case file: cover, 卷内目录, the forms the service records but did not print (立案审批表,
行政处罚决定书, 结案审批表, 文书送达回执, 现场检查记录), photo evidence pages, the audit trail, the 备考表;
page numbers stamped at the bottom right; the bound PDF with bookmarks.

Every renderer here draws from a plain dict (the data.json shipped beside the PDF), with reportlab's
invariant mode, so the same data gives the same bytes. Fonts, styles and the paragraph helpers are those
of services/lifecycle/documents.py (imported, not copied).
"""
from __future__ import annotations

import contextlib
import io

from ..lifecycle import documents as docs

PAGE_W, PAGE_H = 595.2756, 841.8898  # A4 in points


@contextlib.contextmanager
def invariant():
    """reportlab without creation dates or random document ids: the same data gives the same bytes."""
    from reportlab import rl_config

    before = rl_config.invariant, rl_config.useA85
    # binary streams: without reportlab's C accelerator ASCII85-encoding a photo costs more than drawing it
    rl_config.invariant, rl_config.useA85 = 1, 0
    try:
        yield
    finally:
        rl_config.invariant, rl_config.useA85 = before


def _build(story, title: str, first_page: int | None = None) -> bytes:
    """Render; with first_page, each page carries the file's page number at the bottom right."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    def number(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 11)
        canvas.drawRightString(doc.pagesize[0] - 40, 28, str(first_page + doc.page - 1))
        canvas.restoreState()

    buf = io.BytesIO()
    with invariant():
        doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=22 * mm, topMargin=22 * mm,
                                bottomMargin=22 * mm, title=title, author="inspect_api", creator="inspect_api")
        if first_page is None:
            doc.build(story)
        else:
            doc.build(story, onFirstPage=number, onLaterPages=number)
    return buf.getvalue()


def _e(value) -> str:
    return docs._e(value)  # noqa: SLF001 (the documents module's escaping helper)


def _styles():
    return docs._styles(docs._ensure_font())  # noqa: SLF001


def _p(text, style):
    return docs._p(text, style)  # noqa: SLF001


def _grid(rows, widths, s, header: bool = False):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    cells = [[c if hasattr(c, "wrap") else _p(_e(c), s["small"]) for c in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("FONTNAME", (0, 0), (-1, -1), docs._ensure_font())]  # noqa: SLF001
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(style))
    return table


def _signatures(lines: list[str], s) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    return [Spacer(1, 5 * mm)] + [_p(_e(line), s["body"]) for line in lines]


def officer_text(o: dict | None) -> str:
    if not o:
        return "__________（执法证号：__________）"
    return f"{o.get('name') or ''}（执法证号：{o.get('certificate_no') or '—'}）"


def render_form(data: dict, first_page: int | None = None) -> bytes:
    """A form document: heading, title, number, a two-column grid of fields, paragraphs, signature lines.

    data: {bureau, title, number, fields: [[label, value]…], paragraphs: [str…], signatures: [str…]}
    """
    from reportlab.lib.units import mm

    s = _styles()
    story = [_p(_e(data.get("bureau")), s["bureau"]), _p(_e(data["title"]), s["title"]),
             _p(_e(data.get("number") or "（无文号）"), s["number"])]
    rows = [[label, value if value not in (None, "") else "—"] for label, value in data.get("fields", [])]
    if rows:
        story.append(_grid(rows, [38 * mm, 110 * mm], s))
    for para in data.get("paragraphs", []):
        story.append(_p(_e(para), s["body"]))
    story += _signatures(data.get("signatures", []), s)
    return _build(story, f"{data['title']} {data.get('number') or ''}", first_page)


def render_photo_page(data: dict, image_bytes: bytes | None, first_page: int | None = None) -> bytes:
    """One photo evidence page: the picture (scaled copy; the original ships untouched beside it) and its facts."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Spacer

    s = _styles()
    story = [_p("照片证据", s["title"]), _p(_e(data.get("caption")), s["number"])]
    if image_bytes:
        picture = Image(io.BytesIO(image_bytes))
        scale = min(150 * mm / picture.imageWidth, 150 * mm / picture.imageHeight, 1.0)
        picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
        story += [picture, Spacer(1, 4 * mm)]
    else:
        story.append(_p("（原始照片不可读，见原件文件）", s["body"]))
    story.append(_grid([[k, v if v not in (None, "") else "—"] for k, v in data.get("fields", [])],
                       [38 * mm, 110 * mm], s))
    return _build(story, f"照片证据 {data.get('caption') or ''}", first_page)


def render_table(data: dict, first_page: int | None = None) -> bytes:
    """A listing (audit trail): title, header row, rows. data: {title, subtitle, header: [...], rows: [[...]…]}"""
    from reportlab.lib.units import mm

    s = _styles()
    story = [_p(_e(data["title"]), s["title"]), _p(_e(data.get("subtitle")), s["number"])]
    widths = [w * mm for w in data.get("widths", [])] or None
    story.append(_grid([data["header"]] + data["rows"], widths, s, header=True))
    return _build(story, data["title"], first_page)


def render_cover(cover: dict, counts: dict) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    s = _styles()
    rows = [["案件名称", cover.get("case_name")], ["案由", cover.get("cause")], ["处理结果", cover.get("result")],
            ["立案时间", cover.get("opened_on")], ["结案时间", cover.get("closed_on")],
            ["承办人", "、".join(cover.get("officers") or [])], ["归档日期", cover.get("archived_on") or "（未归档）"],
            ["归档号", cover.get("archive_no") or "（未归档）"], ["保存期限", cover.get("retention")]]
    story = [Spacer(1, 20 * mm), _p(_e(cover.get("bureau")), s["bureau"]), Spacer(1, 6 * mm),
             _p("行政执法案卷" if cover.get("kind") == "enforcement" else "监督检查案卷", s["title"]),
             Spacer(1, 14 * mm),
             _grid([[k, v or "—"] for k, v in rows], [32 * mm, 116 * mm], s), Spacer(1, 10 * mm),
             _p(f"本卷共 {counts['documents']} 件，{counts['pages']} 页。", s["body"])]
    return _build(story, f"案卷封面 {cover.get('archive_no') or ''}")


def render_toc(rows: list[dict]) -> bytes:
    from reportlab.lib.units import mm

    s = _styles()
    table = [["序号", "文号", "责任者", "题名", "日期", "页号", "备注"]]
    for r in rows:
        table.append([str(r["seq"]), r.get("number") or "", r.get("responsible") or "", r["title"],
                      r.get("date") or "", r.get("pages_text") or "", r.get("note") or ""])
    story = [_p("卷内目录", s["title"]),
             _grid(table, [10 * mm, 36 * mm, 26 * mm, 40 * mm, 20 * mm, 14 * mm, 14 * mm], s, header=True)]
    return _build(story, "卷内目录")


def render_closing_note(note: dict) -> bytes:
    from reportlab.lib.units import mm

    s = _styles()
    story = [_p("备考表", s["title"])]
    story.append(_grid([["本卷情况说明", note.get("summary")], ["立卷人", note.get("filed_by") or "（未归档）"],
                        ["检查人", note.get("checked_by") or "__________"],
                        ["立卷时间", note.get("filed_on") or "（未归档）"]], [32 * mm, 116 * mm], s))
    for line in note.get("remarks", []):
        story.append(_p(_e(line), s["body"]))
    return _build(story, "备考表")


def count_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _stamp(number: int, width: float, height: float):
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    with invariant():
        c = canvas.Canvas(buf, pagesize=(width, height))
        c.setFont("Helvetica", 11)
        c.drawRightString(width - 40, 28, str(number))
        c.showPage()
        c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def stamp_page_numbers(pdf: bytes, first: int) -> bytes:
    """The document with the file's continuous page numbers at the bottom right of each page."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for i, page in enumerate(writer.pages):
        box = page.mediabox
        page.merge_page(_stamp(first + i, float(box.width), float(box.height)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bind(parts: list[tuple[str, bytes]]) -> bytes:
    """One PDF of all parts in order, one bookmark per part."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for title, pdf in parts:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(pdf)))
        writer.add_outline_item(title=title, page_number=start)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
