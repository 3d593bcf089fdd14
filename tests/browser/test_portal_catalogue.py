"""Every portal text has its English translation (the zh-CN msgids are the source language)."""
from __future__ import annotations

import os

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo

import inspect_api

ROOT = os.path.dirname(inspect_api.__file__)
MO = os.path.join(ROOT, "translations", "en", "LC_MESSAGES", "messages.mo")
# The portal's own modules and templates (the dashboard keeps its own strings up to date)
OWN_DIRS = ("templates/admin", "templates/desk", "templates/enterprise")
OWN_MODULES = ("views.py", "admin.py", "desk.py", "enterprise.py", "files.py", "filters.py",
               "session_auth.py")


def _portal_messages() -> set[str]:
    web = os.path.join(ROOT, "web")
    method_map = [("templates/**.html", "jinja2"), ("*.py", "python")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    found = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            web, method_map, keywords=keywords, options_map={"templates/**.html": {}}):
        norm = filename.replace(os.sep, "/")
        top_template = norm.startswith("templates/") and norm.count("/") == 1 and not norm.startswith(
            "templates/dashboard")
        if norm.startswith(OWN_DIRS) or norm in OWN_MODULES or top_template:
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_portal_text_has_an_english_translation():
    with open(MO, "rb") as f:
        catalogue = read_mo(f)
    messages = _portal_messages()
    assert len(messages) > 300
    missing = sorted(m for m in messages if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []
