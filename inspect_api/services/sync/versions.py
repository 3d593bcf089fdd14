"""The schema versions after 1 (CONTRACT §4), in one place: each version is one block that registers
its tables (``register_table``) and columns (``register_columns``) with ``since=<version>``, and names
the change that added it. A version-1 pull never carries any of them (tests/sync/test_schema_versions.py).

Blocks are added by the capability that needs them; the tables' models and pull scopes live with that
capability. docs/sync.md lists every version with its tables, columns, writable columns and scope rules.
"""
from __future__ import annotations

from sqlalchemy import or_

from ...models import InspectionTask
from ..access.scope import scope_clause
from ..criteria import sync as _criteria
from .tables import register_columns, register_table
from .wire import Col, TableSpec
from .working_set import register_version as _register_v4


# version 2 — planning: inspection tasks on the tablets (issue #14, docs/planning.md)
def _task_rows(viewer):
    """An inspector pulls the tasks assigned to them (lead or co); a supervisor those of the jurisdiction."""
    if viewer.role == "inspector":
        return or_(InspectionTask.lead_inspector_id == viewer.id, InspectionTask.co_inspector_id == viewer.id)
    return scope_clause(InspectionTask, viewer)


register_table(TableSpec("inspection_tasks", InspectionTask, (
    Col("enterprise_id", "id"), Col("plan_id", "id"), Col("kind", "str"), Col("status", "str"),
    Col("title", "str"), Col("lead_inspector_id", "id"), Col("co_inspector_id", "id"),
    Col("window_start_at", "time"), Col("window_end_at", "time"),
    Col("template_ids", "str", attr="template_ids_json"), Col("item_ids", "str", attr="item_ids_json"),
    Col("is_joint", "bool"), Col("code", "str"), Col("note", "text")), since=2, rows=_task_rows))
register_columns("inspections", Col("task_id", "id", since=2))

# version 3 — criteria catalogues (issue #15): services/criteria/sync.py
register_table(_criteria.CATALOGUES)
register_table(_criteria.CLAUSES)
register_columns("hazards", *_criteria.HAZARD_COLUMNS)
register_columns("checklist_items", *_criteria.CHECKLIST_ITEM_COLUMNS)

# version 4 — working-set sync (issue #17): hazards.closed_at; the working set instead of the whole
# jurisdiction, enterprise_summaries for supervisors (services/sync/working_set.py, docs/scale.md)
_register_v4()
