"""The AppError family and the one error handler.

Every non-2xx JSON response has the shape
``{"status": int, "code": "snake_case", "message": str, "details": {}}``.
Under /api it is JSON; in the portal it is an HTML page.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "bad_request"
    message = "请求有误 (bad request)"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, details: dict | None = None, headers: dict | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}
        self.headers = headers or {}


class ValidationError(AppError):
    status = 422
    code = "validation_error"
    message = "请求内容无效 (the request is not valid)"


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "未找到 (not found)"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "请先登录 (authentication required)"


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "无权执行此操作 (not allowed)"


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "与当前状态冲突 (conflict)"


class PreconditionFailed(AppError):
    status = 412
    code = "precondition_failed"
    message = "数据已被他人修改，请刷新后重试 (the resource changed since it was read)"


class StorageError(AppError):
    status = 503
    code = "storage_error"
    message = "文件存储暂不可用 (the object store is not available)"


class ObjectMissing(StorageError):
    status = 404
    code = "object_missing"
    message = "存储的文件缺失 (the stored object is missing)"


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 410: "gone",
    411: "length_required", 412: "precondition_failed", 413: "payload_too_large",
    415: "unsupported_media_type", 416: "range_not_satisfiable", 422: "validation_error",
    428: "precondition_required", 429: "too_many_requests", 500: "internal_error",
    501: "not_implemented", 503: "service_unavailable",
}


_HTTP_ZH = {
    400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到", 405: "不支持此请求方法", 406: "无法提供所需格式",
    409: "与当前状态冲突", 410: "已不存在", 411: "缺少请求长度", 412: "数据已被他人修改，请刷新后重试",
    413: "请求内容过大", 415: "不支持的内容类型", 416: "请求的范围无效", 428: "缺少 If-Match 条件",
    429: "尝试次数过多，请稍后再试", 500: "服务器内部错误", 501: "尚未实现", 503: "服务暂不可用",
}


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def error_body(status: int, code: str, message: str, details: dict | None = None) -> dict:
    return {"status": status, "code": code, "message": message, "details": details or {}}


def _wants_json() -> bool:
    path = request.path or ""
    if path.startswith("/api"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def _http_details(exc: HTTPException) -> dict:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs: {"json": {"field": ["msg"]}} -> {"fields": {...}, "location": "json"}
        if isinstance(messages, dict) and len(messages) == 1:
            location, fields = next(iter(messages.items()))
            return {"location": location, "fields": fields}
        return {"fields": messages}
    return {}


def render_error(status: int, code: str, message: str, details: dict | None = None, headers=None):
    body = error_body(status, code, message, details)
    if _wants_json():
        resp = jsonify(body)
    else:
        try:
            html = render_template("error.html", error=body)
        except Exception:  # template missing or broken: plain text, never a traceback
            html = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{message}</p>"
        resp = current_response(html)
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def current_response(html: str):
    from flask import make_response

    return make_response(html)


def handle_app_error(exc: AppError):
    return render_error(exc.status, exc.code, exc.message, exc.details, exc.headers)


def handle_http_exception(exc: HTTPException):
    original = getattr(exc, "original_exception", None)
    if original is not None and not isinstance(original, HTTPException):
        # an exception escaped the request (say, the commit after the view): Flask wraps it in a 500
        return handle_unexpected(original)
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    if status == 422:
        message = "请求内容无效 (the request is not valid)"
    else:
        message = exc.description if isinstance(exc.description, str) else (exc.name or "Error")
    headers = {}
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        headers["Retry-After"] = "60"
        message = "尝试次数过多，请稍后再试 (too many attempts; try again later)"
    return render_error(status, code, message, _http_details(exc), headers)


# How long a client should wait before retrying when the database is unreachable
DB_RETRY_AFTER_SECONDS = 5


def classify_exception(exc: Exception) -> AppError | None:
    """An exception raised from input or from a fault, as the 4xx/503 clients should see; None if unexpected.

    The one place where a driver or runtime error becomes an answer a client can act on:
    - the database connection dropped (restart, failover, an administrator's terminate): 503 + Retry-After,
      the transaction was rolled back, a retry is safe;
    - a unique constraint lost to a concurrent insert (check-then-insert race): 409 conflict;
    - a value the database refuses (NUL in text, a number out of range) or Python cannot handle (an integer
      too large, a lone surrogate, nesting too deep): 422, nothing was written.
    """
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.OperationalError, sa_exc.InterfaceError)) or \
            (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
        return AppError("数据库暂时不可用，请稍后重试 (the database is unavailable; retry later)",
                        status=503, code="database_unavailable",
                        headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)})
    if isinstance(exc, sa_exc.IntegrityError):
        return Conflict("记录已被同时修改或创建，请刷新后重试 (a concurrent change won; reload and retry)",
                        code="concurrent_change")
    if isinstance(exc, sa_exc.DataError):
        return ValidationError("数据库不接受该值 (a value is out of range or not storable)", code="invalid_value")
    if isinstance(exc, RecursionError):
        return ValidationError("请求嵌套过深 (the request is nested too deep)", code="invalid_json")
    if isinstance(exc, OverflowError):
        return ValidationError("数值超出范围 (a number is out of range)", code="invalid_value")
    if isinstance(exc, (UnicodeEncodeError, UnicodeDecodeError)):
        return ValidationError("文本编码无效 (text is not valid UTF-8)", code="invalid_text")
    return None


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    if isinstance(exc, AppError):
        return handle_app_error(exc)
    known = classify_exception(exc)
    if known is not None:
        log.warning("%s on %s %s: %s", known.code, request.method, request.path, type(exc).__name__)
        return handle_app_error(known)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500, "internal_error", "服务器内部错误 (internal server error)")


def register_error_handlers(app: Flask) -> None:
    """Register at app level (after flask-smorest, which installs its own)."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
