"""Rough figures: notice PDF rendering and transitions per second. Run: python -m tests.lifecycle.bench_lifecycle
(BENCH_DB=postgresql://… for PostgreSQL; default a fresh SQLite file)."""
import os
import tempfile
import time
from datetime import timedelta
from inspect_api import create_app
from inspect_api.extensions import db
from inspect_api.models import utcnow
from sqlalchemy import text
from tests import factories
from tests.lifecycle import helpers
from inspect_api.services.lifecycle import documents
from inspect_api.services.lifecycle import notices
from inspect_api.services.lifecycle.hazards import transition

url = os.environ.get("BENCH_DB") or "sqlite:///" + tempfile.mkdtemp() + "/b.sqlite3"
app = create_app({"TESTING": True, "DATABASE_URL": url, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                  "ARGON2_PARALLELISM": 1})
with app.app_context():
    db.drop_all(); db.create_all(); db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
    w = factories.build_world(db.session); db.session.commit()
    insp = helpers.inspection(db.session, w)
    hs = [helpers.hazard(db.session, w, inspection=insp, description=f"隐患描述第{i}项：储罐区可燃气体报警器失效，未接入DCS")
          for i in range(10)]
    a = helpers.actor(w["inspector1"])
    n = notices.issue_notice(db.session, a, {"hazard_ids": [h.id for h in hs], "deadline_at": utcnow() + timedelta(days=9),
                                             "officer2_id": w["inspector2"].id}, "131100")
    db.session.commit()
    cfg = documents.DocumentConfig.from_mapping(app.config)
    documents.render_notice_pdf(db.session, n, cfg)
    t = time.perf_counter(); N = 30
    for _ in range(N):
        data = documents.render_notice_pdf(db.session, n, cfg)
    print(f"notice PDF (10 hazards): {(time.perf_counter()-t)/N*1000:.1f} ms each, {len(data)} bytes")
    # transitions: grade toggles, one commit each
    h = hs[0]; t = time.perf_counter(); N = 200
    for i in range(N):
        transition(db.session, a, h, "grade", grade="major" if i % 2 == 0 else "general")
        db.session.commit()
    print(f"transition + commit: {N/(time.perf_counter()-t):.0f} per second ({db.engine.dialect.name})")
