"""`firstmark links check`: request each active destination and store its health.

Its own module (named like services/linkcheck.py) rather than part of links.py, so that `links`
keeps its place after `qr` in `firstmark --help`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from firstmark.cli.common import Commands, group, print_json, progress_bar
from firstmark.config import Settings
from firstmark.services import linkcheck
from firstmark.services import links as links_service
from firstmark.store import Store


async def cmd_links_check(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    if args.link:
        targets = [await links_service.find_link(store, args.link)]
    else:
        targets = await linkcheck.active_links(store)
    allow = settings.healthcheck_allow_private
    async with linkcheck.client(settings.healthcheck_timeout, allow_private=allow) as http:
        found = await linkcheck.check_links(
            store, http, targets, progress=progress_bar("destinations checked")
        )
    failing = [h for h in found if not h.ok]
    if args.json:
        rows: list[dict[str, Any]] = [
            {"link_id": h.link_id, "ok": h.ok, "status": h.status, "error": h.error,
             "destination": h.destination, "final_url": h.final_url}
            for h in found
        ]  # fmt: skip
        # ASCII-escaped, as `links check --json` has always printed
        print_json(
            {"checked": len(found), "failing": len(failing), "links": rows}, ensure_ascii=True
        )
    else:
        for h in found:
            state = "ok  " if h.ok else "FAIL"
            detail = h.status if h.error is None else h.error
            print(f"{state} {h.link_id:>6}  {detail!s:24}  {h.destination}")
        print(f"{len(found)} checked, {len(failing)} failing", file=sys.stderr)
    return 1 if failing and args.strict else 0


def register(sub: Commands) -> None:
    links = group(sub, "links", "checks over all links")
    check = links.add_parser("check", help="request each active destination and store health")
    check.add_argument("--link", help="check only this link (id or code)")
    check.add_argument("--json", action="store_true")
    check.add_argument("--strict", action="store_true", help="exit 1 when any destination fails")
    check.set_defaults(run=cmd_links_check)
