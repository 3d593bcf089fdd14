"""Small helpers shared by the API modules, and the Blueprint every API module uses."""
from __future__ import annotations

import flask_smorest
from marshmallow import missing
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser, is_json_request

from ..errors import ValidationError
from ..extensions import db
from ..jsonsafe import loads_strict

# page * page_size must stay an OFFSET both databases take (PostgreSQL: bigint; SQLite: 64-bit)
MAX_PAGE = 1_000_000


class StrictParser(FlaskParser):
    """webargs parser whose JSON bodies go through jsonsafe.loads_strict (no NaN/Infinity, bounded depth,
    no NUL or lone surrogates); webargs itself calls the stdlib's json.loads, which takes NaN."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        return loads_strict(data)

    def load_form_and_files(self, req, schema):
        """A multipart body's text fields and files together (one OpenAPI requestBody, multipart/form-data)."""
        from werkzeug.datastructures import CombinedMultiDict
        from webargs.multidictproxy import MultiDictProxy

        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the strict parser. Every API module uses this one
    (tests/security/test_request_parsing.py checks that every registered blueprint does)."""

    ARGUMENTS_PARSER = StrictParser()
    PAGINATION_ARGUMENTS_PARSER = StrictParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "form_and_files": "multipart/form-data",
    }


def paginate(stmt, pagination_parameters):
    """Run a select with flask-smorest's pagination parameters (X-Pagination header)."""
    page, size = pagination_parameters.page, pagination_parameters.page_size
    if page > MAX_PAGE:
        raise ValidationError(details={"location": "query", "fields": {"page": [f"Must be <= {MAX_PAGE}."]}})
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pagination_parameters.item_count = total
    return list(db.session.scalars(stmt.limit(size).offset((page - 1) * size)))
