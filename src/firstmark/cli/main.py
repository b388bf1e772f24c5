"""The `firstmark` command: serve, migrate, copy, init, keys, link, links, domain, qr, site, goal,
costs, demo, destination, outbox.

Errors print one line to stderr and exit non-zero: 1 for a refused request, 2 for bad usage or
settings, 3 when the database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firstmark import __version__
from firstmark.cli import destinations, numbers, qr
from firstmark.cli.common import bool_flag, open_store, print_json, with_store
from firstmark.config import Settings, from_env
from firstmark.domain import costs, goals, links, phones, sites, times
from firstmark.domain.costs import PRESETS, parse_costs
from firstmark.domain.dimensions import LINK_FILTERS
from firstmark.domain.keys import new_key, parse_scopes
from firstmark.domain.passwords import hash_password
from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import (
    ConfigError,
    FirstmarkError,
    InvalidField,
    InvalidFile,
    StoreUnavailable,
)
from firstmark.services import links as links_service
from firstmark.services import qr as qr_service
from firstmark.store.protocol import Domain, LinkQuery, Store

# --- serve / migrate / init / keys ----------------------------------------------------------


async def cmd_demo(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.services import demo as demo_service

    if await store.count_links() and not args.force:
        print(
            "firstmark: the database already has links; the demo fills a fresh one "
            "(point FIRSTMARK_DATABASE_URL at a new file, or pass --force)",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    summary = await demo_service.seed(
        store, now.date(), phones.hash_key(settings.secret_key), now=now.timestamp()
    )
    print(summary)
    return 0


async def cmd_costs_import(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    path: Path = args.file
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        print(f"firstmark: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    parsed = parse_costs(
        data, args.preset, source=args.source, medium=args.medium, currency=args.currency
    )
    replaced, _ = await store.replace_costs(parsed.rows)
    summary = costs.to_json(parsed, replaced)
    if args.json:
        print_json(summary)
        return 0
    spend = ", ".join(f"{amount} {currency}" for currency, amount in summary["spend"].items())
    print(
        f"imported {summary['imported']} rows ({summary['preset']}): {spend}"
        + (f"; replaced {replaced} earlier rows of the same period" if replaced else "")
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from firstmark.app import create_app
    from firstmark.logs import configure
    from firstmark.web.fastpath import click_protocol

    async def preflight(args: argparse.Namespace, settings: Settings, store: Store) -> int:
        return 0

    # Open and migrate before uvicorn starts, so a bad database is one clear line, not a trace
    # (retries while the database is not reachable yet are logged as JSON like the rest).
    configure(settings.log_level)
    asyncio.run(with_store(settings, preflight, args))
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"firstmark {__version__} serving on http://{host}:{port}", file=sys.stderr)
    # uvicorn drains on SIGTERM, then re-raises it; a drained stop is a clean exit (status 0).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    app = create_app(settings)
    uvicorn.run(
        app,
        http=click_protocol(app),
        host=host,
        port=port,
        access_log=False,  # an access log would write client addresses
        proxy_headers=False,  # X-Forwarded-For is honoured only from FIRSTMARK_TRUSTED_PROXIES
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=settings.keep_alive,  # type: ignore[arg-type]  # uvicorn takes float
    )
    return 0


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    """Move an install to another database: every table, ids kept, counts verified."""
    from firstmark.services.transfer import copy_store

    async def run() -> int:
        source, target = open_store(settings, args.source), open_store(settings, args.target)
        await source.open()
        try:
            await target.open()
            try:
                await source.migrate()
                await target.migrate()
                copied = await copy_store(source, target)
            finally:
                await target.close()
        finally:
            await source.close()
        for item in copied:
            print(f"{item.table:16} {item.target:>12,} rows")
        print(f"copied {sum(c.target for c in copied):,} rows; counts match", file=sys.stderr)
        return 0

    return asyncio.run(run())


async def cmd_migrate(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    # with_store has migrated already; report what the database holds now.
    pending = await store.pending_migrations()
    print("database is up to date" if not pending else f"pending: {', '.join(pending)}")
    return 0


async def cmd_init(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if await store.count_users() > 0:
        print(
            "firstmark: already initialised; create more keys with `firstmark keys create`",
            file=sys.stderr,
        )
        return 1
    password = args.password or secrets.token_urlsafe(12)
    await store.insert_user(args.username, hash_password(password), True)
    shown, key = new_key(("admin",), name="init")
    await store.insert_api_key(key)
    print(f"Created the admin user {args.username!r}.", file=sys.stderr)
    if not args.password:
        print(f"Dashboard password: {password}", file=sys.stderr)
    print("Admin API key (shown once, keep it safe):", file=sys.stderr)
    print(shown)
    return 0


async def cmd_keys_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    shown, key = new_key(parse_scopes(args.scope), name=args.name)
    await store.insert_api_key(key)
    print(shown)
    return 0


async def cmd_keys_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for key in await store.list_api_keys():
        state = "revoked" if key.revoked else "active"
        used = key.last_used_at.isoformat() if key.last_used_at else "never"
        print(
            f"fm_{key.prefix}_…  {state:8}  {' '.join(key.scopes):40}  last used {used}  {key.name}"
        )
    return 0


async def cmd_keys_revoke(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    prefix = args.prefix.removeprefix("fm_").split("_")[0]
    if not await store.revoke_api_key(prefix):
        print(f"firstmark: no API key with prefix {prefix!r}", file=sys.stderr)
        return 1
    print(f"revoked fm_{prefix}_…")
    return 0


# --- links ----------------------------------------------------------------------------------


def _link_body(args: argparse.Namespace) -> dict[str, Any]:
    """CLI options as the same flat JSON keys the API takes, so one validator serves both."""
    body: dict[str, Any] = {}
    for name in ("destination", "code", "domain", *UTM_FIELDS, "campaign", "placement", "kind"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    for name in ("valid_from", "expires_at", "fallback_url", "password"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = None if value == "" else value
    if args.tag is not None:
        body["tags"] = args.tag
    if args.redirect_status is not None:
        body["redirect_status"] = args.redirect_status
    if args.max_hits is not None:
        body["max_hits"] = None if args.max_hits == 0 else args.max_hits
    for name in ("forward_query", "click_token", "noindex"):
        value = getattr(args, name, None)
        if value is not None:
            body[name] = value
    if args.rules is not None:
        try:
            body["rules"] = json.loads(args.rules)
        except ValueError as exc:
            raise InvalidField("rules", f"--rules must be JSON: {exc}") from None
    return body


def _show_link(
    link: links.Link, settings: Settings, as_json: bool, warnings: Sequence[Any] = ()
) -> None:
    data = links.to_json(link, settings.base_url)
    for warning in warnings:
        print(f"warning: {warning.field}: {warning.message}", file=sys.stderr)
    if as_json:
        print_json({**data, "warnings": [w.to_json() for w in warnings]})
        return
    print(data["short_url"])


async def cmd_link_create(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    prepared = await links_service.create_link(
        store, links_service.policy(settings), _link_body(args)
    )
    _show_link(prepared.link, settings, args.json, prepared.warnings)
    return 0


async def cmd_link_update(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    prepared = await links_service.update_link(
        store, links_service.policy(settings), link.id, _link_body(args)
    )
    await qr_service.follow_parent(store, prepared.link)
    _show_link(prepared.link, settings, args.json, prepared.warnings)
    return 0


async def cmd_link_show(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    data = links.to_json(link, settings.base_url)
    if args.json:
        print_json(data)
        return 0
    width = max(len(k) for k in data)
    for key, value in data.items():
        if value not in (None, [], ""):
            print(f"{key:<{width}}  {value}")
    return 0


async def cmd_link_archive(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    link = await links_service.find_link(store, args.link)
    assert link.id is not None
    await qr_service.follow_parent(store, await links_service.archive_link(store, link.id))
    print(f"archived {links.short_url(link, settings.base_url)}")
    return 0


async def cmd_link_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    filters = {name: getattr(args, name) for name in LINK_FILTERS if getattr(args, name, None)}
    found, total = await store.list_links(
        LinkQuery(
            filters=filters,
            search=args.search,
            archived=None if args.all else False,
            limit=args.limit,
            offset=(args.page - 1) * args.limit,
        )
    )
    if args.json:
        print_json(
            {"items": [links.to_json(link, settings.base_url) for link in found], "total": total}
        )
        return 0
    for link in found:
        flag = " (archived)" if link.archived else ""
        print(
            f"{link.id:>6}  {links.short_url(link, settings.base_url):40}  {link.destination}{flag}"
        )
    print(f"{len(found)} of {total} links", file=sys.stderr)
    return 0


# --- domains --------------------------------------------------------------------------------


async def cmd_domain_set(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    from firstmark.domain.urls import validate_destination

    host = links.normalise_host(args.host, "host")
    if not host:
        raise InvalidField("host", "give a host name like go.example.com")
    fallback = (
        validate_destination(args.fallback_url, "fallback_url") if args.fallback_url else None
    )
    await store.upsert_domain(Domain(host, fallback))
    print(f"{host}: unknown codes {'go to ' + fallback if fallback else 'show the 404 page'}")
    return 0


async def cmd_domain_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for domain in await store.list_domains():
        print(f"{domain.host:40}  {domain.fallback_url or '-'}")
    return 0


# --- sites and goals ------------------------------------------------------------------------


async def cmd_site_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    body: dict[str, Any] = {"hosts": args.host}
    if args.name:
        body["name"] = args.name
    saved = await store.insert_site(sites.new_site(body, times.now()))
    data = sites.to_json(saved, settings.base_url)
    if args.json:
        print_json(data)
    else:
        print(f"site key: {saved.key}", file=sys.stderr)
        print(data["snippet"])
    return 0


async def cmd_site_hosts(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    found = [s for s in await store.list_sites() if args.site in (str(s.id), s.key)]
    if not found or found[0].id is None:
        print(f"firstmark: no site with id or key {args.site!r}", file=sys.stderr)
        return 1
    saved = await store.set_site_hosts(found[0].id, sites.parse_hosts(args.host))
    print(f"{saved.key}: {', '.join(saved.hosts)}")
    return 0


async def cmd_site_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for site in await store.list_sites():
        print(f"{site.id:>4}  {site.key}  {site.name:30}  {', '.join(site.hosts)}")
    return 0


async def cmd_goal_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    body: dict[str, Any] = {"name": args.name, "kind": args.kind, "window_days": args.window_days}
    if args.event:
        body["event_name"] = args.event
    if args.value is not None:
        body["default_value"] = args.value
    if args.currency:
        body["currency"] = args.currency
    saved = await store.insert_goal(goals.new_goal(body, times.now()))
    if args.json:
        # one line, ASCII-escaped: how `goal add --json` has always printed
        print_json(goals.to_json(saved), indent=None, ensure_ascii=True)
    else:
        print(f"goal {saved.name} ({saved.kind})")
    return 0


async def cmd_goal_list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    for goal in await store.list_goals():
        value = f"{goal.default_value:g} {goal.currency}" if goal.default_value is not None else "-"
        print(
            f"{goal.name:24}  {goal.kind:5}  event {goal.matches:24}  value {value:14}  "
            f"window {goal.window_days} d"
        )
    return 0


# --- parser ---------------------------------------------------------------------------------


def _link_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--code", help="custom short code (default: 7 random characters)")
    parser.add_argument("--domain", help="serve on this host instead of BASE_URL's")
    for name in UTM_FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE")
    parser.add_argument("--campaign")
    parser.add_argument("--placement", help="where a printed code hangs, e.g. poster-oslo-s")
    parser.add_argument("--kind", choices=["link", "qr"])
    parser.add_argument("--tag", action="append", help="repeat for several tags")
    parser.add_argument("--redirect-status", type=int, choices=[301, 302, 307, 308])
    parser.add_argument("--valid-from", metavar="ISO", help="'' clears it")
    parser.add_argument("--expires-at", metavar="ISO", help="'' clears it")
    parser.add_argument("--fallback-url", metavar="URL", help="'' clears it")
    parser.add_argument("--max-hits", type=int, metavar="N", help="0 clears it")
    parser.add_argument("--password", help="'' removes it")
    parser.add_argument(
        "--rules", metavar="JSON", help='e.g. \'[{"device": "mobile", "destination": "…"}]\''
    )
    bool_flag(parser, "forward-query", "pass the visitor's query on", "do not (default)")
    bool_flag(parser, "click-token", "append the signed fm_click token (default)", "do not")
    bool_flag(parser, "noindex", "send X-Robots-Tag: noindex (default)", "let crawlers index")
    parser.add_argument("--json", action="store_true", help="print the whole link as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firstmark", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"firstmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="default FIRSTMARK_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default FIRSTMARK_PORT (8000)")
    serve.set_defaults(sync=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    copy = sub.add_parser(
        "copy", help="copy every table to another (empty) database, e.g. SQLite → PostgreSQL"
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL")
    copy.add_argument("--to", dest="target", required=True, metavar="URL")
    copy.set_defaults(sync=cmd_copy)

    init = sub.add_parser("init", help="create the admin user and print an admin API key")
    init.add_argument("--username", default="admin")
    init.add_argument("--password", help="dashboard password (default: generated and printed)")
    init.set_defaults(run=cmd_init)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="print a new key (and nothing else)")
    create.add_argument(
        "--scope", action="append", required=True,
        help="links:read, links:write, reports:read, events:write or admin (repeatable)",
    )  # fmt: skip
    create.add_argument("--name", default="", help="a note to tell keys apart")
    create.set_defaults(run=cmd_keys_create)
    keys.add_parser("list", help="list keys (never their secrets)").set_defaults(run=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    revoke.set_defaults(run=cmd_keys_revoke)

    link = sub.add_parser("link", help="short links").add_subparsers(dest="action", required=True)
    create = link.add_parser("create", help="create a link and print its short URL")
    create.add_argument("destination")
    _link_options(create)
    create.set_defaults(run=cmd_link_create)
    update = link.add_parser("update", help="change a link (by id or code)")
    update.add_argument("link")
    update.add_argument("--destination")
    _link_options(update)
    update.set_defaults(run=cmd_link_update)
    show = link.add_parser("show", help="show a link (by id or code)")
    show.add_argument("link")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_link_show)
    archive = link.add_parser("archive", help="retire a link: it answers 410 (or its fallback)")
    archive.add_argument("link")
    archive.set_defaults(run=cmd_link_archive)
    listing = link.add_parser("list", help="list links, newest first")
    for name in LINK_FILTERS:
        listing.add_argument(f"--{name.replace('_', '-')}", dest=name)
    listing.add_argument("--search", help="part of the code or destination")
    listing.add_argument("--all", action="store_true", help="include archived links")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_link_list)

    domain = sub.add_parser("domain", help="short-link domains").add_subparsers(
        dest="action", required=True
    )
    dset = domain.add_parser("set", help="register a host and where its unknown codes go")
    dset.add_argument("host")
    dset.add_argument("--fallback-url", help="redirect unknown codes here instead of a 404 page")
    dset.set_defaults(run=cmd_domain_set)
    domain.add_parser("list", help="list registered hosts").set_defaults(run=cmd_domain_list)

    site = sub.add_parser("site", help="websites that send events").add_subparsers(
        dest="action", required=True
    )
    sadd = site.add_parser("add", help="register a site; prints its <script> tag")
    sadd.add_argument("--host", action="append", required=True, help="repeat for every host")
    sadd.add_argument("--name", help="default: the first host")
    sadd.add_argument("--json", action="store_true")
    sadd.set_defaults(run=cmd_site_add)
    site.add_parser("list", help="list sites and their keys").set_defaults(run=cmd_site_list)
    shosts = site.add_parser("hosts", help="replace the hosts of a site (by id or key)")
    shosts.add_argument("site")
    shosts.add_argument("--host", action="append", required=True, help="repeat for every host")
    shosts.set_defaults(run=cmd_site_hosts)

    goal = sub.add_parser("goal", help="conversion goals").add_subparsers(
        dest="action", required=True
    )
    gadd = goal.add_parser("add", help="add a goal")
    gadd.add_argument("name")
    gadd.add_argument("--kind", choices=["macro", "micro"], default="macro")
    gadd.add_argument("--event", help="script event that reaches it (default: the name)")
    gadd.add_argument("--value", type=float, help="default value of a conversion")
    gadd.add_argument("--currency", help="ISO 4217 code of the value")
    gadd.add_argument("--window-days", type=int, default=30, help="attribution window")
    gadd.add_argument("--json", action="store_true")
    gadd.set_defaults(run=cmd_goal_add)
    goal.add_parser("list", help="list goals").set_defaults(run=cmd_goal_list)

    demo = sub.add_parser("demo", help="fill a fresh database with 90 days of demo data")
    demo.add_argument("--force", action="store_true", help="even if the database has links")
    demo.set_defaults(run=cmd_demo)

    cost = sub.add_parser("costs", help="ad costs").add_subparsers(dest="action", required=True)
    cimport = cost.add_parser(
        "import", help="import an ad platform's cost export (replaces the same period)"
    )
    cimport.add_argument("file", type=Path, help="CSV export; '-' reads stdin")
    cimport.add_argument("--preset", default="auto", choices=["auto", *PRESETS])
    cimport.add_argument("--source", help="utm_source the spend belongs to (overrides the preset)")
    cimport.add_argument("--medium", help="utm_medium the spend belongs to (overrides the preset)")
    cimport.add_argument("--currency", help="ISO 4217 code when the file has none")
    cimport.add_argument("--json", action="store_true")
    cimport.set_defaults(run=cmd_costs_import)

    qr.register(sub)
    destinations.register(sub)
    numbers.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = from_env()
        if hasattr(args, "sync"):
            result: int = args.sync(args, settings)
            return result
        return asyncio.run(with_store(settings, args.run, args))
    except StoreUnavailable as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        return 3
    except ConfigError as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        return 2
    except InvalidFile as exc:
        print(f"firstmark: {exc.message}", file=sys.stderr)
        for error in exc.errors:
            print(f"  row {error.row}, {error.column}: {error.message}", file=sys.stderr)
        return 1
    except FirstmarkError as exc:
        where = f"{exc.field}: " if exc.field else ""
        print(f"firstmark: {where}{exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
