"""Building a file from its gathered material: documents in the profile's order, page numbers, 卷内目录,
cover and 备考表, the bound PDF, the canonical manifest (RFC 8785) and its Merkle roots, and the package
ZIP (canonical stored layout, the verifier inside)."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass

import rfc8785

from . import pdfs
from .collect import Subject, local_time
from .log import audit_leaf, audit_record
from .verifier import FORMAT, MANIFEST, VERIFIER, canonical_json, entry_leaves, merkle_root, sm3, write_canonical_zip

VERIFIER_SOURCE = os.path.join(os.path.dirname(__file__), "verifier.py")
ACTION_WORDS = {
    "case.open": "立案", "case.decide": "作出处罚决定（案件）", "case.close": "结案", "penalty.decide": "作出处罚决定",
    "penalty.pay": "缴纳罚款", "hazard.create": "登记隐患", "hazard.order": "责令整改", "hazard.report": "报告整改",
    "hazard.accept": "复查合格", "hazard.reject": "复查不合格", "hazard.close": "销号", "notice.issue": "下达指令书",
    "notice.acknowledge": "企业签收", "rectification.report": "报告整改", "review.record": "复查",
    "service.record": "登记送达", "photo.ready": "照片上传",
}


@dataclass
class Built:
    manifest: dict
    manifest_bytes: bytes
    files: dict  # path -> bytes, every file the manifest lists
    roots: dict  # alg -> hex
    page_count: int
    event_ids: list


def file_record(path: str, data: bytes) -> dict:
    import hashlib

    return {"path": path, "size": len(data), "sm3": sm3(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def verifier_bytes() -> bytes:
    with open(VERIFIER_SOURCE, "rb") as fh:
        return fh.read()


def order_docs(docs: list, order: list) -> list:
    rank = {kind: i for i, kind in enumerate(order)}
    return sorted(docs, key=lambda d: (rank.get(d.kind, len(rank)), d.order))


def _audit_doc(events: list, names: dict) -> tuple[dict, bytes]:
    rows = []
    for e in events:
        who = names.get(e.actor_id) or e.actor_username or "系统"
        state = f"{e.from_state or ''}→{e.to_state}" if e.to_state else ""
        rows.append([local_time(e.at) or "", who, ACTION_WORDS.get(e.action, e.action),
                     f"{e.object_table or ''}/{(e.object_id or '')[:8]}", state, e.reason or ""])
    data = {"title": "操作记录（审计日志）", "subtitle": f"共 {len(events)} 条，逐条登记于本局审计日志，证明见 proofs.json",
            "header": ["时间", "操作人", "操作", "对象", "状态", "理由"], "rows": rows,
            "widths": [28, 30, 32, 30, 22, 28]}
    lines = b"".join(audit_leaf(e) + b"\n" for e in events)
    return data, lines


def _entries(subject: Subject, profile: dict, events: list, names: dict, files: dict) -> tuple[list, int]:
    entries, page = [], 1
    docs = order_docs(subject.docs, profile["order"][subject.kind])
    audit_rank = profile["order"][subject.kind].index("audit_trail")
    audit_data, audit_lines = _audit_doc(events, names)
    items = [(d.heading, d.kind, d.number, d.responsible, d.date, d.note, d.render, d.data, d.originals)
             for d in docs]
    position = sum(1 for d in docs if profile["order"][subject.kind].index(d.kind) < audit_rank)
    items.insert(position, ("操作记录（审计日志）", "audit_trail", None, subject.bureau, None, None,
                            lambda first: pdfs.render_table(audit_data, first), None,
                            [("events.jsonl", lambda: audit_lines)]))
    for seq, (title, kind, number, responsible, day, note, render, data, originals) in enumerate(items, 1):
        pdf = render(page)
        count = pdfs.count_pages(pdf)
        folder = f"documents/{seq:04d}-{kind}"
        own = {f"{folder}/document.pdf": pdf}
        if data is not None:
            own[f"{folder}/data.json"] = rfc8785.dumps(data)
        for name, loader in originals:
            own[f"{folder}/{name}"] = loader()
        files.update(own)
        entries.append({"seq": seq, "kind": kind, "title": title, "number": number, "responsible": responsible or "",
                        "date": day, "note": note, "pages": [page, page + count - 1],
                        "files": [file_record(p, b) for p, b in sorted(own.items())]})
        page += count
    return entries, page - 1


def build_file(subject: Subject, profile: dict, archive: dict, events: list, names: dict) -> Built:
    """archive: {archive_no, archived_on, retention, filed_by, checked_by, remarks} (None values before archiving)."""
    files: dict = {}
    entries, pages = _entries(subject, profile, events, names, files)
    photos = sum(1 for e in entries if e["kind"] == "photo_evidence")
    cover = {**subject.cover, "archive_no": archive.get("archive_no"), "archived_on": archive.get("archived_on"),
             "retention": archive.get("retention"), "documents": len(entries), "pages": pages,
             "enterprise": subject.enterprise.name, "uscc": subject.enterprise.uscc}
    toc = [{**e, "pages_text": f"{e['pages'][0]}-{e['pages'][1]}" if e["pages"][1] > e["pages"][0]
            else str(e["pages"][0])} for e in entries]
    note = {"summary": f"本卷共 {len(entries)} 件，{pages} 页（封面、卷内目录和备考表不编页号）；照片证据 {photos} 张，"
                       f"原件随卷；操作记录 {len(events)} 条。本卷由系统依据业务数据生成。",
            "filed_by": archive.get("filed_by"), "checked_by": archive.get("checked_by"),
            "filed_on": archive.get("archived_on"), "remarks": archive.get("remarks") or []}
    front_pdfs = [("front/01-cover.pdf", "封面", pdfs.render_cover(cover, {"documents": len(entries), "pages": pages})),
                  ("front/02-contents.pdf", "卷内目录", pdfs.render_toc(toc))]
    closing = ("front/99-closing-note.pdf", "备考表", pdfs.render_closing_note(note))
    parts = [(title, pdf) for _, title, pdf in front_pdfs]
    parts += [(f"{e['seq']}. {e['title']}", files[f"documents/{e['seq']:04d}-{e['kind']}/document.pdf"])
              for e in entries]
    parts.append((closing[1], closing[2]))
    front = {path: pdf for path, _, pdf in front_pdfs + [closing]}
    front["front/casefile.pdf"] = pdfs.bind(parts)
    files.update(front)
    verifier = verifier_bytes()
    files[VERIFIER] = verifier
    manifest = {
        "format": FORMAT,
        "casefile": {"kind": subject.kind, "subject_id": subject.subject_id, "bureau_code": subject.bureau_code},
        "cover": cover, "entry_count": len(entries), "verifier": file_record(VERIFIER, verifier),
        "front": {"files": [file_record(p, b) for p, b in sorted(front.items())]}, "entries": entries,
    }
    roots = {alg: merkle_root(entry_leaves(manifest, alg), alg).hex() for alg in ("sm3", "sha256")}
    manifest["root"] = roots
    raw = rfc8785.dumps(manifest)
    if raw != canonical_json(manifest):  # the verifier re-derives the same bytes with the standard library
        raise RuntimeError("manifest canonical form differs between rfc8785 and the verifier")
    return Built(manifest, raw, files, roots, pages, [e.id for e in events])


def write_package(out, built: Built, checkpoint_text: str, proofs: dict, supplements: list) -> None:
    """The package ZIP: manifest, every listed file, the checkpoint, the proofs, the supplements."""
    members = [(MANIFEST, built.manifest_bytes), ("checkpoint.txt", checkpoint_text.encode("utf-8")),
               ("proofs.json", rfc8785.dumps(proofs))]
    members += list(built.files.items()) + [(path, data) for path, data in supplements]
    write_canonical_zip(out, members)


def package_bytes(built: Built, checkpoint_text: str, proofs: dict, supplements: list) -> bytes:
    buf = io.BytesIO()
    write_package(buf, built, checkpoint_text, proofs, supplements)
    return buf.getvalue()


__all__ = ["Built", "build_file", "write_package", "package_bytes", "audit_record"]
