"""A small SMTP server on loopback for mail tests: it speaks enough of RFC 5321 for smtplib
(EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps each message it accepts,
parsed, with the envelope's recipients and the login it was given."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None  # "user:password" when the client authenticated

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None, "no HTML part"
        return str(part.get_content())

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no plain text part"
        return str(part.get_content())


@dataclass
class SmtpServer:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse_login: bool = False

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await reply("220 test ESMTP")
        sender, recipients, login = "", [], None
        while line := (await reader.readline()).decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                await reply("250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                _, _, blob = line.split(" ", 2)
                _, user, password = base64.b64decode(blob).decode().split("\x00")
                if self.refuse_login:
                    await reply("535 authentication failed")
                    continue
                login = f"{user}:{password}"
                await reply("235 ok")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].split()[0].strip("<>")
                await reply("250 ok")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                await reply("250 ok")
            elif verb == "DATA":
                await reply("354 go on")
                data = bytearray()
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                parsed = message_from_bytes(bytes(data), policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                self.received.append(Received(sender, recipients, parsed, login))
                sender, recipients = "", []
                await reply("250 queued")
            elif verb == "QUIT":
                await reply("221 bye")
                break
            else:  # RSET, NOOP
                await reply("250 ok")
        writer.close()


@contextlib.asynccontextmanager
async def smtp_server() -> AsyncIterator[SmtpServer]:
    """A server on a free loopback port, closed afterwards."""
    server = SmtpServer()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        await listening.wait_closed()


@contextlib.contextmanager
def smtp_server_thread() -> Iterator[SmtpServer]:
    """The same server on a thread of its own, for code that runs its own event loop (the
    CLI's `asyncio.run`)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = SmtpServer()

    async def start() -> asyncio.Server:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        server.port = listening.sockets[0].getsockname()[1]
        return listening

    async def stop(listening: asyncio.Server) -> None:
        listening.close()
        await listening.wait_closed()

    listening = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(stop(listening), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
