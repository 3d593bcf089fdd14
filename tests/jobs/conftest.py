"""The statistics data set (tests/stats/dataset.py) for the export jobs."""
from ..stats.conftest import data  # noqa: F401
