"""Demo data for the criteria catalogues: the built-in 2017 catalogue (as migration 0007 gives every
install), the demo checklist items that carry an HC2017 code linked to their clause, and one demo hazard
judged major under the clause it plainly matches. No other catalogue is seeded: the clause texts of
AQ 3067—2026 are not in this repository and an admin imports them from the official text."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ChecklistItem, Hazard, User, utcnow
from ..services.access.actor import Actor
from ..services.criteria.builtin import HC2017_CLAUSES, clause_id, insert_builtin

# DemoHazard000003 "成品库内氧化剂与易燃液体未隔离存放" is the 2017 list's item 20 (相互禁配物质混放混存)
DEMO_JUDGEMENTS = (("DemoHazard000003", "HC2017-20", "inspector2"),)


def seed_criteria(session: Session) -> None:
    """Idempotent: a second run writes nothing. Flushes, never commits."""
    insert_builtin(session.connection(), utcnow())
    codes = {code for _, code, _ in HC2017_CLAUSES}
    for item in session.scalars(select(ChecklistItem).where(ChecklistItem.major_criterion_code.in_(codes),
                                                            ChecklistItem.criterion_clause_id.is_(None))):
        item.criterion_clause_id = clause_id(item.major_criterion_code)
    from ..services.lifecycle.hazards import transition

    for hazard_id, code, username in DEMO_JUDGEMENTS:
        hazard = session.get(Hazard, hazard_id)
        inspector = session.scalars(select(User).where(User.username == username)).first()
        if hazard is None or inspector is None or hazard.grade != "general" or hazard.status == "closed":
            continue
        transition(session, Actor(inspector, None, "seed-demo"), hazard, "grade", grade="major",
                   criterion_clause_id=clause_id(code), reason="演示数据：按判定标准第二十项判定为重大隐患")
    session.flush()
