"""Warm clicks answered inside the HTTP protocol, before an ASGI request is made.

For each request uvicorn builds a scope, a request/response cycle and an asyncio task, and the
app answers through two `send` messages whose headers are checked and joined one by one. That
is most of the cost of a plain redirect. A warm click on a simple link needs none of it: the
answer is known the moment the headers are parsed.

`click_protocol(app)` returns a subclass of uvicorn's httptools protocol. When the request
line and headers of a request are complete, it asks `RedirectApp.quick` for the whole response;
if there is one (GET or HEAD of a cached simple link), it is written at once and the request
ends there. When the hit buffer is full, such a click no longer moves to the ASGI path (about
40 µs dearer, just when the writer needs the CPU): the connection stops reading, the hit waits
for room, then the response goes out and reading resumes. That needs the request to be the
last thing read on the connection (the usual case without pipelining); else the ASGI path
waits for room as before. Anything else, including every request that arrives while
an ASGI response is still in progress on the connection, goes the usual way, so ordering,
pipelining, back-pressure and shutdown keep uvicorn's behaviour.

`POST /e` takes the same road when its body came in the same read as the end of its head
(what a page's `fetch` or `sendBeacon` sends: a small body, one write): `CollectApp.quick`
gives the whole answer (202, or the same 4xx as the ASGI path), and a full event buffer
pauses the connection the same way. A body still to come, a `Transfer-Encoding`, a site not
in memory yet: the ASGI path, as before.

It also bounds what a request's head may cost (web/headers.py): a head still incomplete after
64 KB stops the connection with 431 while it streams (httptools would buffer it without end),
and once complete a head over 16 KB answers 431, a Host header over 255 bytes 400.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from firstmark.ingest.batch import BatchWriter
from firstmark.web.collect import CollectApp, DeferredEvent
from firstmark.web.headers import HEAD_READ_LIMIT, head_problem, refusal
from firstmark.web.redirect import Deferred, RedirectApp

_HEAD_END = b"\r\n\r\n"

log = logging.getLogger("firstmark")


def click_protocol(app: RedirectApp, collect: CollectApp | None = None) -> type[Any] | str:
    """The protocol class for uvicorn's `http=` option, or "auto" when httptools is missing
    or uvicorn's protocol no longer has the shape this relies on. With `collect`, events
    posted to /e are answered in place too."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without httptools: the ASGI path serves every click
        return "auto"
    needed = (
        "on_headers_complete", "on_body", "on_message_complete", "on_response_complete",
        "connection_lost", "_unset_keepalive_if_required", "timeout_keep_alive_handler",
        "on_message_begin", "data_received", "send_400_response",
    )  # fmt: skip
    if not all(hasattr(HttpToolsProtocol, name) for name in needed):
        log.warning("unexpected uvicorn protocol; clicks take the ASGI path")
        return "auto"

    class ClickProtocol(HttpToolsProtocol):
        """uvicorn's protocol with warm clicks answered in place."""

        _answered = False  # the current request was answered here; ignore its body
        _defaults: Any = None  # uvicorn's default headers (the date), renewed every second
        _defaults_bytes = b""
        _in_head = False  # a request's head has begun and is not complete yet
        _head_read = 0  # bytes received while it was incomplete
        _refused = False
        _data = b""  # the chunk being parsed

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head = True
            self._head_read = 0

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            was_in_head = self._in_head
            self._data = data
            super().data_received(data)
            if was_in_head and self._in_head and not self._refused:
                # All of this chunk was head (it began before it and is still not complete).
                self._head_read += len(data)
                if self._head_read > HEAD_READ_LIMIT:
                    self._refuse(431)

        def _refuse(self, status: int) -> None:
            self._refused = True
            self._in_head = False
            self.transport.write(refusal(status))
            self.transport.close()

        def send_400_response(self, msg: str) -> None:
            if not self._refused:  # else the refusal is sent already
                super().send_400_response(msg)

        def on_headers_complete(self) -> None:
            self._in_head = False
            problem = head_problem(len(self.url), self.headers)
            if problem is not None:
                self._refuse(problem)
                raise ValueError("request head refused")  # stops the parser
            cycle = self.cycle
            parser = self.parser
            if (
                (cycle is None or cycle.response_complete)
                and not self.pipeline
                and not parser.should_upgrade()
            ):
                version = parser.get_http_version()
                keep_alive = version == "1.1" and parser.should_keep_alive()
                defaults = self.server_state.default_headers
                if defaults is not self._defaults:
                    self._defaults = defaults
                    self._defaults_bytes = b"".join(b"%s: %s\r\n" % pair for pair in defaults)
                if collect is not None and self.url == b"/e":
                    if self._event(collect, parser.get_method(), keep_alive):
                        return
                    self._answered = False
                    super().on_headers_complete()
                    return
                response = app.quick(
                    parser.get_method(),
                    self.url,
                    self.headers,
                    self.client,
                    self._defaults_bytes,
                    keep_alive,
                    True,
                )
                if response.__class__ is Deferred:
                    assert isinstance(response, Deferred)
                    if self._alone():
                        self._answered = True
                        self._answer_later(response, keep_alive, app.writer)
                        return
                    response = None  # the ASGI path waits for room, in order
                if response is not None:
                    assert isinstance(response, bytes)
                    self._answered = True
                    self.transport.write(response)
                    if not keep_alive:
                        self.transport.close()
                    return
            self._answered = False
            super().on_headers_complete()

        def _event(self, collect: CollectApp, method: bytes, keep_alive: bool) -> bool:
            """Answer `POST /e` here when its whole body is the rest of this read (the only
            head in it ends just before), so nothing else on the connection is parsed while
            it waits for room; False leaves it to the ASGI path."""
            if method != b"POST":
                return False
            data = self._data
            end = data.find(_HEAD_END)
            if end < 0 or data.find(_HEAD_END, end + 4) >= 0:
                return False
            response = collect.quick(
                self.headers, self.client, data[end + 4 :], self._defaults_bytes, keep_alive
            )
            if response is None:
                return False
            self._answered = True
            if response.__class__ is DeferredEvent:
                assert isinstance(response, DeferredEvent)
                self._answer_later(response, keep_alive, collect.writer)
                return True
            assert isinstance(response, bytes)
            self.transport.write(response)
            if not keep_alive:
                self.transport.close()
            return True

        def _alone(self) -> bool:
            """Whether the head just parsed ends the chunk read and is its only one, so that
            nothing else on this connection is parsed while its click waits."""
            data = self._data
            return data.endswith(_HEAD_END) and data.count(_HEAD_END) == 1

        def _answer_later(
            self, deferred: Deferred | DeferredEvent, keep_alive: bool, writer: BatchWriter[Any]
        ) -> None:
            """The buffer is full: stop reading this connection; once the writer has room,
            it buffers the hit or event and the response goes out (no task per request)."""
            self.transport.pause_reading()
            writer.offer_later(
                deferred.raw, partial(self._answer_now, deferred.response, keep_alive)
            )

        def _answer_now(self, response: bytes, keep_alive: bool) -> None:
            transport = self.transport
            if transport.is_closing():
                return
            transport.write(response)
            if keep_alive:
                transport.resume_reading()
            else:
                transport.close()

        def on_body(self, body: bytes) -> None:
            if not self._answered and not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self._answered:
                super().on_message_complete()
                return
            self._answered = False
            self.server_state.total_requests += 1
            if self.timeout_keep_alive_task is None and not self.transport.is_closing():
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler
                )

        # Keep-alive: uvicorn cancels a timer on every read and starts one after every response.
        # At tens of thousands of clicks a second that churn costs more than the click itself,
        # so one timer per connection notes the last activity and, when it fires, closes the
        # connection only if it has been idle for the whole timeout (else it waits the rest).
        _last_active = 0.0

        def _unset_keepalive_if_required(self) -> None:
            self._last_active = self.loop.time()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.timeout_keep_alive_task is not None:
                self.timeout_keep_alive_task.cancel()
                self.timeout_keep_alive_task = None
            super().connection_lost(exc)

        def timeout_keep_alive_handler(self) -> None:
            self.timeout_keep_alive_task = None
            if self.transport.is_closing():
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a response is under way; its end starts a new timer
            idle = self.loop.time() - self._last_active
            if idle >= self.timeout_keep_alive:
                self.transport.close()
            else:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive - idle, self.timeout_keep_alive_handler
                )

    return ClickProtocol
