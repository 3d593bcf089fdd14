"""Early answers never leave an unread request body on a kept-alive connection.

A response given before the body is consumed (a tus PATCH at a stale offset answered 409, a 401 on an upload,
a 413 ...) leaves the rest of the body on the socket. If the connection is kept alive, the server (gunicorn
drains at most 64 KiB) or the client then meets those bytes where it expects the next request, and the client's
next request on that connection fails.

``BodyDrainMiddleware`` is the one place that handles it, for every route: it counts what the application read
from ``wsgi.input``; when the response starts and bytes are left, it reads and discards them, up to
``max_bytes`` and ``max_seconds``. If that is not enough, the response says ``Connection: close`` and, under
gunicorn (which ignores an application's Connection header), the server is told to close the connection.
"""
from __future__ import annotations

import time


class _CountingInput:
    def __init__(self, stream):
        self._stream = stream
        self.read_bytes = 0
        self.eof = False

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if not data:
            self.eof = True
        return data

    def read(self, *args):
        return self._count(self._stream.read(*args))

    def readinto(self, buffer) -> int:
        inner = getattr(self._stream, "readinto", None)
        if inner is not None:
            n = inner(buffer) or 0
        else:
            data = self._stream.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self.read_bytes += n
        if not n:
            self.eof = True
        return n

    def read1(self, *args):
        inner = getattr(self._stream, "read1", None)
        return self._count(inner(*args) if inner is not None else self._stream.read(*args))

    def readline(self, *args):
        return self._count(self._stream.readline(*args))

    def readlines(self, *args):
        lines = self._stream.readlines(*args)
        self.read_bytes += sum(len(x) for x in lines)
        self.eof = True
        return lines

    def __iter__(self):
        return iter(self.readline, b"")

    def __getattr__(self, name):
        return getattr(self._stream, name)


class BodyDrainMiddleware:
    def __init__(self, app, *, max_bytes: int, max_seconds: float):
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    def _remaining(self, environ, counter: _CountingInput) -> int | None:
        """Bytes left unread: 0, a number, or None for an unread chunked body of unknown size."""
        length = environ.get("CONTENT_LENGTH")
        if length:
            try:
                return max(int(length) - counter.read_bytes, 0)
            except ValueError:
                return 0
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and environ.get("wsgi.input_terminated") and not counter.eof:
            return None
        return 0

    def _drain(self, counter: _CountingInput, remaining: int | None) -> bool:
        """Read and discard what is left, within the bounds. True when the body is fully consumed."""
        deadline = time.monotonic() + self.max_seconds
        budget = self.max_bytes
        try:
            while remaining is None or remaining > 0:
                if budget <= 0 or time.monotonic() > deadline:
                    return False
                want = 65536 if remaining is None else min(65536, remaining)
                data = counter.read(want)
                if not data:
                    return remaining is None
                budget -= len(data)
                if remaining is not None:
                    remaining -= len(data)
        except (OSError, ValueError):
            return False
        return True

    def __call__(self, environ, start_response):
        counter = _CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = counter

        def _start_response(status, headers, exc_info=None):
            remaining = self._remaining(environ, counter)
            if remaining != 0 and not self._drain(counter, remaining):
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
                server_response = getattr(start_response, "__self__", None)
                force_close = getattr(server_response, "force_close", None)  # gunicorn
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, _start_response)
