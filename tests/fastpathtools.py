"""The click and collect fast paths driven without sockets: a protocol connected to a
transport that keeps what was written and whether the protocol still reads."""

from __future__ import annotations

import asyncio
from typing import Any


class FakeTransport(asyncio.Transport):
    """What the protocol writes, and whether it reads."""

    def __init__(self, peer: tuple[str, int]) -> None:
        super().__init__()
        self.peer = peer
        self.written = b""
        self.reading = True
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": self.peer, "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def open_connection(
    protocol_class: Any, app: Any, peer: tuple[str, int]
) -> tuple[Any, FakeTransport]:
    """A connection from `peer` made on `protocol_class` (what click_protocol returned), as
    uvicorn makes it, with a fixed Date header."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    assert isinstance(protocol_class, type)
    state = ServerState()
    state.default_headers = [(b"date", b"Wed, 25 Nov 2026 12:00:00 GMT")]
    protocol = protocol_class(Config(app=app, lifespan="off"), state, {})
    transport = FakeTransport(peer)
    protocol.connection_made(transport)
    return protocol, transport
