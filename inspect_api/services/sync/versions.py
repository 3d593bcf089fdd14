"""The schema versions after 1 (CONTRACT §4), in one place: each version is one block that registers
its tables (``register_table``) and columns (``register_columns``) with ``since=<version>``, and names
the change that added it. A version-1 pull never carries any of them (tests/sync/test_schema_versions.py).

Blocks are added by the capability that needs them; the tables' models and pull scopes live with that
capability. docs/sync.md lists every version with its tables, columns, writable columns and scope rules.
"""
from __future__ import annotations

from .tables import register_columns, register_table

# version 2 — planning: inspection tasks on the tablets (issue #14)
# version 3 — criteria catalogues (issue #15): services/criteria/sync.py
from ..criteria import sync as _criteria  # noqa: E402

register_table(_criteria.CATALOGUES)
register_table(_criteria.CLAUSES)
register_columns("hazards", *_criteria.HAZARD_COLUMNS)
register_columns("checklist_items", *_criteria.CHECKLIST_ITEM_COLUMNS)
# version 4 — working-set sync (issue #17)
