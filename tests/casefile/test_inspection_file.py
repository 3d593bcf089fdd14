"""An inspection with its follow-up is a file of its own: archivable once every hazard is closed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from inspect_api.models import Hazard, Inspection
from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.lifecycle.hazards import create_hazard

from .conftest import VKEY, legal_actor
from .helpers import read_zip, verify_bytes


def test_an_inspection_file_archives_when_its_hazards_are_closed(db, closed_case, legal, settings, storage,
                                                                 tmp_path, world):
    insp = db.get(Inspection, closed_case.inspection_id)
    hazard = db.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)).one()
    assert hazard.status == "closed"
    _, built, findings = archive_service.preview(db, settings, legal_actor(legal), "inspection", insp.id)
    assert findings == []
    kinds = [e["kind"] for e in built.manifest["entries"]]
    assert kinds[0] == "inspection_record" and "rectification_notice" in kinds and "review_opinion" in kinds
    assert "penalty_decision" not in kinds and kinds[-1] == "audit_trail"
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "inspection", insp.id)
    assert cf.retention == "30年"
    package = storage.read_bytes(archive_service.package_key(cf))
    assert verify_bytes(package, VKEY, tmp_path) == 0
    cover = json.loads(read_zip(package)["manifest.json"])["cover"]
    assert cover["case_name"].startswith(world.ent1.name) and cover["result"] == "发现隐患1项，已销号1项"


def test_an_inspection_with_an_open_hazard_is_not_archived(db, world, legal, settings):
    from tests.lifecycle import helpers

    insp = helpers.inspection(db, world)
    create_hazard(db, legal_actor(world["inspector1"]), {"inspection_id": insp.id, "description": "未整改的隐患"})
    _, _, findings = archive_service.preview(db, settings, legal_actor(legal), "inspection", insp.id)
    assert findings[0]["code"] == "not_closed" and findings[0]["details"]["open_hazards"]
    with pytest.raises(Exception) as exc:
        archive_service.archive_file(db, settings, legal_actor(legal), "inspection", insp.id, "理由")
    assert exc.value.code == "casefile_not_closed"
