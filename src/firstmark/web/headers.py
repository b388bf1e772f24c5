"""Limits on a request's head, checked before anything reads it: a Host header of at most
255 bytes (the longest DNS name) and a head (request line and headers) of at most 16 KB.

The HTTP protocol (web/fastpath.py) applies them while the head streams in; the ASGI edge
(web/redirect.py) applies them again for servers that run without that protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

HOST_LIMIT = 255
HEAD_LIMIT = 16 * 1024
# The protocol stops reading a head that is still incomplete past this many bytes (its
# exact size is checked against HEAD_LIMIT once it is complete).
HEAD_READ_LIMIT = 64 * 1024

REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}
MESSAGES = {
    400: b"The Host header is longer than 255 bytes.",
    431: b"The request headers are larger than 16 KB.",
}


def head_problem(target_length: int, headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    """431 when the head is over HEAD_LIMIT, 400 when a Host header is over HOST_LIMIT."""
    size = target_length
    for name, value in headers:
        size += len(name) + len(value) + 4
        if name == b"host" and len(value) > HOST_LIMIT:
            return 400
    return 431 if size > HEAD_LIMIT else None


def refusal(status: int) -> bytes:
    """A whole HTTP/1.1 response that refuses the request and closes the connection."""
    body = MESSAGES[status]
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status]),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
    )
