"""flask-smorest blueprints, one module per resource."""
from __future__ import annotations

import importlib

# Each module defines `blp`; registered in this order.
BLUEPRINT_MODULES = [
    "auth", "users", "devices", "regions", "enterprises", "checklists", "audit",
    "sync", "uploads", "photos", "hazards", "notices", "rectifications", "enforcement", "stats",
    "selfcheck", "criteria",
]


def register_blueprints(api) -> None:
    for name in BLUEPRINT_MODULES:
        api.register_blueprint(importlib.import_module(f"{__name__}.{name}").blp)
