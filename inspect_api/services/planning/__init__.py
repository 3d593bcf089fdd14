"""Enforcement planning (issue #14): what a bureau plans to inspect and how the work is handed out.

Owns the annual supervision plan (plans.py: capacity, key list, versions, approval), the 双随机 draw
(draw.py: a documented, re-runnable algorithm over recorded inputs), inspection tasks with their 检查码
and state (tasks.py, also the tablets' schema version 2 hooks), the rules every path calls (rules.py),
the PDFs 现场检查记录 / 检查任务通知书 (documents.py) and the planning statistics (stats.py).
docs/planning.md is the legal officer's description of the rules and the draw.
"""
