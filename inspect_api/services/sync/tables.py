"""The synced tables of schema version 1 (CONTRACT §2) and the schema versions after it (§4):
which tables and columns a tablet of a given version gets, and which rows of them."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from sqlalchemy import select

from ...errors import ValidationError
from ...jsonsafe import loads_strict
from ...models import (
    ChecklistItem, ChecklistTemplate, Enterprise, Finding, Hazard, Inspection, Notice, Photo, Region, User,
)
from ..access.scope import scope_clause
from .wire import Col, TableSpec, UnsupportedSchema

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("regions", Region, (
        Col("name", "str"), Col("parent_id", "id"), Col("level", "int"))),
    TableSpec("enterprises", Enterprise, (
        Col("name", "str"), Col("uscc", "str"), Col("region_id", "id"), Col("address", "str"),
        Col("industry", "str"), Col("major_hazard_level", "int"), Col("risk_color", "str"),
        Col("latitude", "float"), Col("longitude", "float"))),
    TableSpec("checklist_templates", ChecklistTemplate, (
        Col("code", "str"), Col("title", "str"), Col("version", "int"), Col("status", "str"))),
    TableSpec("checklist_items", ChecklistItem, (
        Col("template_id", "id"), Col("code", "str"), Col("category", "str"), Col("content", "text"),
        Col("basis", "text"), Col("major_criterion_code", "str"), Col("position", "int"))),
    TableSpec("inspections", Inspection, (
        Col("enterprise_id", "id", required=True), Col("template_id", "id"),
        Col("lead_inspector_id", "id"), Col("co_inspector_id", "id"),
        Col("started_at", "time"), Col("finished_at", "time"),
        Col("latitude", "float"), Col("longitude", "float"),
        Col("status", "enum", choices=("draft", "submitted"), default="draft"),
        Col("note", "text")), writable=True),
    TableSpec("findings", Finding, (
        Col("inspection_id", "id", required=True), Col("item_id", "id"),
        Col("result", "enum", choices=("pass", "fail", "na"), default="na"),
        Col("note", "text")), writable=True),
    TableSpec("hazards", Hazard, (
        Col("inspection_id", "id"), Col("finding_id", "id"), Col("enterprise_id", "id"),
        Col("notice_id", "id"), Col("description", "text", default=""),
        Col("location", "str", max_len=300),
        Col("grade", "enum", choices=("general", "major"), default="general"),
        Col("major_criterion_code", "str", max_len=40), Col("deadline_at", "time"),
        Col("rectified_on_spot", "bool", default=False),
        Col("status", "str", writable=False)), writable=True),
    TableSpec("notices", Notice, (
        Col("inspection_id", "id"), Col("enterprise_id", "id"), Col("deadline_at", "time"),
        Col("issued_at", "time"), Col("number", "str", writable=False),
        Col("status", "str", writable=False)), writable=True),
    TableSpec("photos", Photo, (
        Col("owner_table", "enum", choices=("inspections", "findings", "hazards", "rectifications"),
            required=True),
        Col("owner_id", "id", required=True), Col("sha256", "str", max_len=64),
        Col("taken_at", "time"), Col("latitude", "float"), Col("longitude", "float"),
        Col("status", "str", writable=False)), writable=True),
)}
PUSH_ORDER: list[str] = ["inspections", "findings", "notices", "hazards", "photos"]
TEMPLATE_PULL_STATUSES = ("published", "retired")

# Tables and columns of later schema versions are declared where their capability lives, with
# ``register_table`` / ``register_columns`` (CONTRACT §4: each addition is a new version).
SCHEMA_VERSION = 1  # the version a request that names none gets


def latest_version() -> int:
    """The newest schema version this server knows."""
    return max([1] + [t.since for t in TABLES.values()] + [c.since for t in TABLES.values() for c in t.cols])


def register_table(spec: TableSpec, *, push_before: str | None = None) -> None:
    """Add a table of a later schema version (``spec.since`` > 1). A writable one is pushed in
    ``PUSH_ORDER`` before ``push_before`` (or last)."""
    if spec.since < 2 or spec.name in TABLES:
        raise ValueError(f"table {spec.name} needs a new schema version and a new name")
    TABLES[spec.name] = spec
    if spec.writable:
        PUSH_ORDER.insert(PUSH_ORDER.index(push_before) if push_before else len(PUSH_ORDER), spec.name)
    tables_for.cache_clear()


def register_columns(table: str, *cols: Col) -> None:
    """Add columns of a later schema version (each ``col.since`` > 1) to a table."""
    spec = TABLES[table]
    for col in cols:
        if col.since < 2 or any(c.name == col.name for c in spec.cols):
            raise ValueError(f"column {table}.{col.name} needs a new schema version and a new name")
    TABLES[table] = replace(spec, cols=spec.cols + tuple(cols))
    tables_for.cache_clear()


@lru_cache(maxsize=None)
def tables_for(version: int) -> dict[str, TableSpec]:
    """The tables and columns a tablet of schema ``version`` has: nothing newer (CONTRACT §4)."""
    out = {}
    for name, spec in TABLES.items():
        if spec.since > version:
            continue
        cols = tuple(c for c in spec.cols if c.since <= version)
        out[name] = spec if cols == spec.cols else replace(spec, cols=cols)
    return out


def parse_migration(value, schema_version: int) -> set[str]:
    """WatermelonDB's migration sync parameter → the tables to send in full.

    ``{"from": n, "tables": [...], "columns": [{"table", "columns": [...]}]}``: the
    client's local database was migrated from schema ``n``; it needs every record of
    the tables it added, and of the tables it added columns to, whatever
    ``last_pulled_at`` says (watermelondb.dev, Sync/Backend, "migration").
    """
    if value is None or value in ("", "null", "undefined"):
        return set()
    if isinstance(value, str):
        try:
            value = loads_strict(value)
        except ValidationError:
            raise ValidationError("migration 须为 JSON 或 null (migration must be JSON or null)",
                                  details={"fields": {"migration": ["Not valid JSON."]}}) from None
    if value is None:
        return set()
    if not isinstance(value, dict) or not isinstance(value.get("from"), int) \
            or not isinstance(value.get("tables", []), list) or not isinstance(value.get("columns", []), list):
        raise ValidationError("migration 须为 {from, tables, columns} (migration must be {from, tables, columns})",
                              details={"fields": {"migration": ["Invalid shape."]}})
    if value["from"] >= schema_version:
        raise ValidationError("migration.from 须小于 schema_version (migration.from must be lower than schema_version)",
                              details={"fields": {"migration": ["from >= schema_version"]}})
    tables = {t for t in value.get("tables", []) if isinstance(t, str)}
    for entry in value.get("columns", []):
        if isinstance(entry, dict) and isinstance(entry.get("table"), str):
            tables.add(entry["table"])
    return tables & set(tables_for(schema_version))


def check_schema_version(value) -> int:
    """The schema version a request names (none: version 1). A tablet newer than this server gets
    the newest tables and columns the server has; WatermelonDB ignores what it lacks."""
    if value is None:
        return SCHEMA_VERSION
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UnsupportedSchema(details={"supported": list(range(1, latest_version() + 1))})
    return min(value, latest_version())


def pull_filter(spec: TableSpec, user: User):
    """Which rows of a table a puller gets (scope; published checklists only)."""
    model = spec.model
    if spec.rows is not None:
        return spec.rows(user)
    if spec.name == "checklist_templates":
        return ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES)
    if spec.name == "checklist_items":
        return ChecklistItem.template_id.in_(
            select(ChecklistTemplate.id).where(ChecklistTemplate.status.in_(TEMPLATE_PULL_STATUSES)))
    return scope_clause(model, user)
