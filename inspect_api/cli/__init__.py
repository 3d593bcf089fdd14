"""flask commands (``flask --app wsgi …``). Each module here defines register(app)."""
from __future__ import annotations

import importlib

CLI_MODULES = ["users", "demo", "imports", "uploads", "hazards"]


def register_cli(app) -> None:
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        module.register(app)
