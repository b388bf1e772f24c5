"""`firstmark serve`: check the database, take the port, then run the server until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import socket
import sys

from firstmark import __version__
from firstmark.cli.common import Commands, with_store
from firstmark.config import Settings
from firstmark.errors import ConfigError
from firstmark.store import Store


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for uvicorn to serve on; a port in use is one clear line
    (ConfigError) before anything says "serving"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot listen on {host}:{port}: {why} (is another server running there? "
            "choose another port with --port or FIRSTMARK_PORT)",
            field="port",
        ) from None
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from firstmark.app import create_app
    from firstmark.domain import devices
    from firstmark.logs import configure
    from firstmark.web.fastpath import click_protocol

    async def preflight(args: argparse.Namespace, settings: Settings, store: Store) -> int:
        return 0

    # Open and migrate before uvicorn starts, so a bad database is one clear line, not a trace
    # (retries while the database is not reachable yet are logged as JSON like the rest).
    configure(settings.log_level, settings.outbound_log_level)
    asyncio.run(with_store(settings, preflight, args))
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    sock = listen(host, port)
    port = sock.getsockname()[1]  # the one chosen, with --port 0
    settings = settings.serving_on(host, port)  # short URLs follow, unless BASE_URL is set
    print(
        f"firstmark {__version__} serving on http://{host}:{port} "
        f"(short links on {settings.base_url})",
        file=sys.stderr,
    )
    # uvicorn drains on SIGTERM, then re-raises it; a drained stop is a clean exit (status 0).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    app = create_app(settings)
    # What start-up built (modules, routes, ua-parser's regexes) lives as long as the process:
    # frozen, the garbage collector's full passes under load no longer walk it.
    devices.warm()
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        http=click_protocol(app, app.state.runtime.collect),
        host=host,
        port=port,
        access_log=False,  # an access log would write client addresses
        proxy_headers=False,  # X-Forwarded-For is honoured only from FIRSTMARK_TRUSTED_PROXIES
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=settings.keep_alive,  # type: ignore[arg-type]  # uvicorn takes float
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0 if server.started else 3


def register(sub: Commands) -> None:
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="default FIRSTMARK_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default FIRSTMARK_PORT (8000)")
    serve.set_defaults(sync=cmd_serve)
