"""Structured JSON logs on stderr. Nothing here ever writes a client address or user agent:
the access log is off, and messages name links and counts, not people.

Nothing here writes a credential either. Some ad platforms take theirs in the query string
(GA4's `api_secret`, Snapchat's `access_token`), and an HTTP library or an exception may print
a request URL, so every URL in every log line (message and traceback) has its query values,
fragment values and user:password replaced by `***` before the line is written. Query names
stay, so a line still says which parameters were sent. The outbound HTTP loggers (httpx,
httpcore) are held at WARNING unless FIRSTMARK_OUTBOUND_LOG_LEVEL says otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

HIDDEN = "***"
OUTBOUND_LOGGERS = ("httpx", "httpcore")

# A URL as it appears in running text: a scheme, then anything up to a space or a quote.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s\"'<>`]+")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@")
_VALUE = re.compile(r"=[^&;#]*")


def scrub_url(url: str) -> str:
    """The URL with its user:password and every query and fragment value hidden:
    'https://h/p?api_secret=s&x=1' → 'https://h/p?api_secret=***&x=***'."""
    url = _USERINFO.sub(rf"\1{HIDDEN}@", url)
    head, sep, tail = url.partition("?")
    if not sep:
        head, sep, tail = url.partition("#")
        return head + sep + _VALUE.sub(f"={HIDDEN}", tail) if sep else head
    query, hash_, fragment = tail.partition("#")
    return head + sep + _VALUE.sub(f"={HIDDEN}", query) + hash_ + _VALUE.sub(f"={HIDDEN}", fragment)


def scrub(text: str) -> str:
    """`text` with every URL in it scrubbed (see scrub_url)."""
    return _URL.sub(lambda m: scrub_url(m.group(0)), text) if "://" in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "info", outbound_level: str = "warning") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request URL at INFO; a few platforms carry credentials in it.
    for name in OUTBOUND_LOGGERS:
        logging.getLogger(name).setLevel(outbound_level.upper())
