"""The statistics tests' data set (tests/stats/dataset.py), committed into the test's outer transaction."""
from __future__ import annotations

import pytest

from . import dataset


@pytest.fixture()
def data(db, world):
    d = dataset.build(db, world)
    db.commit()
    return d
