"""Case-file fixtures: a closed case built through the lifecycle services, a legal officer, settings."""
from __future__ import annotations

import pytest

from inspect_api.cli.demo_casefile import build_closed_case
from inspect_api.services.access.actor import Actor
from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.casefile.keys import generate_key

from .. import factories

KEY_LINE, VKEY = generate_key("test.inspect/131100/casefile-log")


@pytest.fixture()
def legal(db, world):
    user = factories.user(db, "legal1", "legal", region="131102", certificate_no="T131102LEGAL",
                          display_name="法制股 陈静")
    world.users["legal1"] = user
    return user


@pytest.fixture()
def settings(app, storage):
    config = dict(app.config)
    config["CASEFILE_SIGNING_KEY"] = KEY_LINE
    return archive_service.settings_from(config, app.instance_path, storage)


@pytest.fixture()
def closed_case(db, world, storage):
    case = build_closed_case(db, world["inspector1"], world["inspector2"], world.ent1, world["enterprise1"],
                             storage=storage, photos=2)
    db.flush()
    return case


def legal_actor(user) -> Actor:
    return Actor(user=user, ip="127.0.0.1")
