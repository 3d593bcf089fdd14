"""Checklists and criteria: checklist items link to a clause (``criterion_clause_id``, replacing the
free-text ``major_criterion_code`` for new templates; old items keep their code), and a checklist is
generated from a catalogue in one step (one item per clause, in the catalogue's order)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import ValidationError
from ...models import ChecklistTemplate, CriteriaCatalogue, CriteriaClause
from ..access.actor import Actor
from .catalogues import get_clause, require_admin


def check_item_clauses(session: Session, items: list[dict]) -> list[dict]:
    """Checklist items naming a clause: the clause must exist in a published catalogue; the item's
    ``major_criterion_code`` (what version-1 tablets read) becomes the clause's code. An item with only a
    code that names exactly one published clause (HC2017-01 …) is linked to that clause."""
    for index, item in enumerate(items):
        clause_id = item.get("criterion_clause_id") or None
        if clause_id is None and item.get("major_criterion_code"):
            clause_id = _clause_by_code(session, item["major_criterion_code"])
        item["criterion_clause_id"] = clause_id
        if clause_id is None:
            continue
        clause = get_clause(session, clause_id)
        if clause is None or clause.catalogue.status != "published":
            raise ValidationError("检查项关联的判定条款不存在或未发布 (unknown or unpublished clause)",
                                  details={"fields": {"items": {str(index): ["criterion_clause_id: unknown clause"]}}})
        item["major_criterion_code"] = clause.code
    return items


def _clause_by_code(session: Session, code: str) -> str | None:
    ids = list(session.scalars(select(CriteriaClause.id).join(CriteriaCatalogue).where(
        CriteriaClause.code == code, CriteriaClause.deleted_at.is_(None), CriteriaCatalogue.status == "published",
        CriteriaCatalogue.deleted_at.is_(None)).limit(2)))
    return ids[0] if len(ids) == 1 else None


def generate_checklist(session: Session, actor: Actor, catalogue: CriteriaCatalogue, *, code: str | None = None,
                       title: str | None = None, publish: bool = False) -> ChecklistTemplate:
    """A checklist with one item per clause of a published catalogue (category = the clause's group, basis
    = the catalogue and clause number), as a draft or published at once."""
    from ..registry.checklists import create_template, publish_template

    require_admin(actor)
    if catalogue.status != "published":
        raise ValidationError("只能由已发布的判定标准生成检查表 (publish the catalogue first)",
                              details={"fields": {"catalogue_id": ["not published"]}})
    items = []
    for position, clause in enumerate([c for c in catalogue.clauses if c.deleted_at is None], start=1):
        cite = f"第{clause.number}项" if clause.number.isdigit() else f"第{clause.number}条"
        items.append({"code": clause.code, "category": clause.group_title or "重大事故隐患判定",
                      "content": clause.text, "basis": f"{catalogue.doc_no} {cite}",
                      "major_criterion_code": clause.code, "criterion_clause_id": clause.id, "position": position})
    template = create_template(session, actor, {
        "code": code or f"{catalogue.code}-V{catalogue.version}",
        "title": title or f"重大事故隐患判定检查表（{catalogue.doc_no}）",
        "description": f"由判定标准 {catalogue.code} 第{catalogue.version}版生成",
        "source": catalogue.doc_no[:200], "items": items})
    if publish:
        publish_template(session, actor, template)
    return template
