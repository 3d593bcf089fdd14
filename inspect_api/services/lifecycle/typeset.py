"""Chinese typesetting for the PDF documents: line breaking by the 禁则 (kinsoku) rules and joining fields
without doubled punctuation.

reportlab's own CJK wrapping breaks anywhere, so lines began with "，" or "；" and a "《" was left at a line's
end. Here a paragraph is broken into lines first — by the font's own glyph widths — so that

* no line starts with closing punctuation (，。、；：！？）》」』】〕〉”’… and the like): the last character of
  the line before moves down with it;
* no line ends with an opening mark (（《「『【〔〈“‘): it moves down to the next line;
* a run of Latin letters and digits ("12500.50", "GB 30871-2022" without its space) is not split when it
  fits on a line.

Each line then goes to reportlab as one line (``<br/>``), so what is measured is what is drawn.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import escape, unescape

# GB/T 15834 marks that close (may not start a line) and that open (may not end one)
CANNOT_START = set("，。、；：！？）》」』】〕〉〗”’…—·%,.;:!?)]}")
CANNOT_END = set("（《「『【〔〈〖“‘([{")
# marks that end a clause; joining fields must not double them
CLAUSE_END = "。；，、：！？;,.:!?"
SENTENCE_END = "。！？!?"
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/%]*")


_DOUBLED = re.compile(r"[。；，、：！？]{2,}")


def tidy(text: str) -> str:
    """Collapse a run of clause marks to its last one ("警戒区。；专人" → "警戒区；专人")."""
    return _DOUBLED.sub(lambda m: m.group()[-1], text)


def join_clauses(parts, sep: str = "；", end: str = "。") -> str:
    """Join non-empty parts with ``sep`` and close with ``end``, dropping each part's own trailing clause
    punctuation first ("已完成安装。" + "；" + "整改措施…" → "已完成安装；整改措施…。")."""
    cleaned = [tidy(str(p).strip()).rstrip(CLAUSE_END + " \u3000") for p in parts if p and str(p).strip()]
    cleaned = [p for p in cleaned if p]
    if not cleaned:
        return ""
    return sep.join(cleaned) + end


def sentence(text: str | None, end: str = "。") -> str:
    """``text`` ending with one sentence mark (its own clause mark replaced): "" when empty."""
    text = tidy((text or "").strip())
    if not text:
        return ""
    if text[-1] in SENTENCE_END:
        return text
    return text.rstrip(CLAUSE_END + " \u3000") + end


def _tokens(text: str) -> list[str]:
    """Characters, except that a Latin/digit run stays one token."""
    out, i = [], 0
    while i < len(text):
        m = _WORD.match(text, i)
        if m and m.end() - i > 1:
            out.append(m.group())
            i = m.end()
        else:
            out.append(text[i])
            i += 1
    return out


def kinsoku_lines(text: str, width_of, first_width: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than the widths given (``width_of(str) -> points``)."""
    lines: list[str] = []
    for para in text.split("\n"):
        tokens = _tokens(para)
        start = 0
        while start < len(tokens):
            limit = first_width if not lines else width
            end, used = start, 0.0
            while end < len(tokens):
                w = width_of(tokens[end])
                if used + w > limit and end > start:
                    break
                used += w
                end += 1
            if end < len(tokens):
                end = _legal_break(tokens, start, end)
            lines.append("".join(tokens[start:end]))
            start = end
        if not tokens:
            lines.append("")
    return lines


def _legal_break(tokens: list[str], start: int, end: int) -> int:
    """Move the break at ``end`` back until the next line does not start with a closing mark and this one
    does not end with an opening mark (never leaving a line empty)."""
    def illegal(b):
        return tokens[b][0] in CANNOT_START or tokens[b - 1][-1] in CANNOT_END

    b = end
    while b > start + 1 and illegal(b):
        b -= 1
    return end if illegal(b) else b  # nothing legal (a line of marks): break where it was


def make_paragraph_class():
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph
    from reportlab.platypus.flowables import Flowable

    class CJKParagraph(Flowable):
        """A paragraph of (escaped) text broken by kinsoku_lines at the width it is given."""

        def __init__(self, markup: str, style):
            super().__init__()
            self.text = unescape(markup)
            self.style = style
            self._para = None

        def _inner(self, avail_width: float):
            st = self.style

            def width_of(s):
                return stringWidth(s, st.fontName, st.fontSize)

            first = avail_width - st.leftIndent - st.firstLineIndent - st.rightIndent
            rest = avail_width - st.leftIndent - st.rightIndent
            lines = kinsoku_lines(self.text, width_of, first, rest)
            return Paragraph("<br/>".join(escape(line) for line in lines), st)

        def wrap(self, avail_width, avail_height):
            self._para = self._inner(avail_width)
            return self._para.wrap(avail_width, avail_height)

        def split(self, avail_width, avail_height):
            if self._para is None:
                self._para = self._inner(avail_width)
            return self._para.split(avail_width, avail_height)

        def draw(self):
            self._para.drawOn(self.canv, 0, 0)

        def getSpaceBefore(self):
            return self.style.spaceBefore

        def getSpaceAfter(self):
            return self.style.spaceAfter

    return CJKParagraph
