"""E-mail through the relay of FIRSTMARK_SMTP_URL: summaries and alerts, as HTML with a plain
text part. The standard library's smtplib blocks, so each message is sent on a worker thread,
never on the event loop. Logs name the relay's host and the number of recipients, never the
login or the addresses.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from firstmark.config import Settings
from firstmark.domain.mail import Relay, parse_relay

log = logging.getLogger("firstmark.mail")
TIMEOUT_S = 30.0


class MailError(Exception):
    """The relay refused or could not be reached; the message says why, without secrets."""


def sender(settings: Settings) -> str:
    return settings.smtp_from or f"firstmark@{urlsplit(settings.base_url).hostname}"


def message(sender: str, to: Sequence[str], subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _send(relay: Relay, msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if relay.tls:
        smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=TIMEOUT_S, context=context)
    else:
        smtp = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT_S)
    with smtp:
        if relay.starttls:
            smtp.starttls(context=context)
        if relay.username:
            smtp.login(relay.username, relay.password)
        smtp.send_message(msg)


async def send(settings: Settings, to: Sequence[str], subject: str, text: str, html: str) -> None:
    """Send one message to `to` through the configured relay; MailError when it fails."""
    relay = parse_relay(settings.smtp_url)
    msg = message(sender(settings), to, subject, text, html)
    try:
        await asyncio.to_thread(_send, relay, msg)
    except (OSError, smtplib.SMTPException) as exc:
        # smtplib's errors carry the server's reply, never the password we sent; the
        # recipients are left out all the same.
        reason = type(exc).__name__
        if isinstance(exc, smtplib.SMTPResponseException):
            reason += f" {exc.smtp_code}"
        raise MailError(f"mail via {relay} failed: {reason}") from None
    log.info("mail %r sent via %s to %d recipient(s)", subject, relay, len(to))
