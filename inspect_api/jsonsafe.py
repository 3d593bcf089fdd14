"""JSON at the door and on the way out: the one place request bodies are parsed and responses dumped.

In:
- ``loads_strict`` parses every JSON body of the API (Flask's ``request.get_json``, the webargs parser of every
  flask-smorest ``@blp.arguments``, the sync push): NaN / Infinity are refused (Python's json accepts them by
  default, and they are not JSON), nesting deeper than ``MAX_DEPTH`` is refused before anything recurses over it
  (json itself raises RecursionError near 1000), and text with a NUL character or a lone surrogate is refused
  (PostgreSQL cannot store NUL in text; a lone surrogate cannot be encoded to UTF-8).
- ``loads_lenient`` is for the sync push only: non-finite numbers parse (as float NaN / inf) so that the push
  can reject exactly the records that carry them and name them in ``rejected`` (CONTRACT §2) instead of failing
  every record of the tablet; the depth limit still applies.
- ``check_text`` is the text rule, used for query strings, paths and form fields too (``guard_request``).

Out: ``SafeJSONProvider.dumps`` never writes NaN/Infinity: a non-finite float (say, one planted in the database
by hand) is written as ``null``. The sync pull uses ``dumps_safe`` for the same.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask.json.provider import DefaultJSONProvider

from .errors import ValidationError

MAX_DEPTH = 64


class BadJSON(ValidationError):
    code = "invalid_json"
    message = "请求体不是有效的 JSON (the body is not valid JSON)"


class BadText(ValidationError):
    code = "invalid_text"
    message = "文本含有不允许的字符 (text contains a NUL character or a lone surrogate)"


def text_problem(value: str) -> str | None:
    """Why a string cannot be accepted, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate"
    return None


def check_text(value: str, where: str) -> None:
    problem = text_problem(value)
    if problem:
        raise BadText(details={"fields": {where: [problem]}})


def _refuse_constant(name: str):
    raise BadJSON("请求体含有 NaN 或 Infinity，不是有效的 JSON (NaN/Infinity are not JSON)",
                  details={"constant": name})


def _decode(data) -> str:
    if isinstance(data, (bytes, bytearray)):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise BadJSON("请求体不是 UTF-8 (the body is not UTF-8)") from None
    return data


def _walk(obj: Any, *, texts: bool) -> None:
    """Depth limit, and (texts=True) the text rule for every key and string value. Iterative: never recurses."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise BadJSON(f"JSON 嵌套过深 (nested deeper than {MAX_DEPTH})")
            for k, v in value.items():
                if texts:
                    check_text(k, "body")
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise BadJSON(f"JSON 嵌套过深 (nested deeper than {MAX_DEPTH})")
            stack.extend((v, depth + 1) for v in value)
        elif texts and isinstance(value, str):
            check_text(value, "body")


def _loads(data, **kwargs):
    try:
        return json.loads(_decode(data), **kwargs)
    except RecursionError:
        raise BadJSON(f"JSON 嵌套过深 (nested deeper than {MAX_DEPTH})") from None
    except ValueError as exc:
        raise BadJSON(details={"error": str(exc)[:200]}) from None


def loads_strict(data) -> Any:
    """Parse a request body: valid JSON only, bounded depth, storable text. Raises BadJSON / BadText (422)."""
    obj = _loads(data, parse_constant=_refuse_constant)
    _walk(obj, texts=True)
    return obj


def loads_lenient(data) -> Any:
    """The sync push: NaN/Infinity parse (the push rejects those records by name); depth still bounded."""
    obj = _loads(data)
    _walk(obj, texts=False)
    return obj


def sanitize(obj: Any) -> Any:
    """A copy with every non-finite float replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    return obj


def dumps_safe(obj: Any, **kwargs) -> str:
    """json.dumps that never writes NaN/Infinity (the fast path is plain json; only a failing dump is sanitized)."""
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(sanitize(obj), allow_nan=False, **kwargs)


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON: strict loads (``request.get_json``), dumps without NaN/Infinity (every jsonify)."""

    def loads(self, s, **kwargs):
        return loads_strict(s)

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return dumps_safe(obj, **kwargs)


def guard_request(request) -> None:
    """The text rule for what arrives outside a JSON body: the path, the query string and form fields."""
    check_text(request.path, "path")
    for key, value in request.args.items(multi=True):
        check_text(key, "query")
        check_text(value, key if not text_problem(key) else "query")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            check_text(key, "form")
            check_text(value, key if not text_problem(key) else "form")
