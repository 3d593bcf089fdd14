"""Small helpers shared by the API modules."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db


def paginate(stmt, pagination_parameters):
    """Run a select with flask-smorest's pagination parameters (X-Pagination header)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    return list(db.session.scalars(stmt.limit(size).offset((page - 1) * size)))
