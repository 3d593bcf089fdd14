"""flask commands (``flask --app wsgi …``). Each module here defines register(app)."""
from __future__ import annotations

import importlib

CLI_MODULES = ["users", "demo", "imports", "uploads", "hazards", "selfcheck", "criteria"]


def register_cli(app) -> None:
    for name in CLI_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(app)
