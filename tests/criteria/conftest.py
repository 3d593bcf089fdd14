from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inspect_api.services.criteria.builtin import HC2017_ID, insert_builtin


@pytest.fixture()
def hc2017(db, world):
    """The 2017 catalogue every install gets (migration 0007), in the test's transaction."""
    insert_builtin(db.connection(), datetime.now(timezone.utc))
    db.commit()
    return HC2017_ID
