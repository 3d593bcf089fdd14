"""Criteria: the major-hazard judgement standards (重大事故隐患判定标准) as versioned catalogues.

Owns: the catalogues and their clauses (catalogues.py: drafts, publishing, succession, what is in force
on a day for an industry), the built-in 2017 catalogue (builtin.py), imports from XLSX / CSV / JSON with a
row-by-row report (imports.py), the ONE judging rule every grading path calls — REST, portal, sync push —
(rules.py), re-grading open major hazards under a new standard (regrade.py), the statistics by catalogue
and clause (stats.py), checklists generated from a catalogue (checklists.py), and the version-3 sync
tables (sync.py, registered in services/sync/versions.py).
"""
