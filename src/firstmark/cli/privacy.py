"""`firstmark privacy …`: erase or export everything linked to a person's identifier.

The identifier is an argument, or `-` to read it from standard input (an e-mail address or
phone number then stays out of the shell's history). E-mails and phones are hashed at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.phones import hash_key
from firstmark.domain.privacy import KINDS
from firstmark.services import privacy as privacy_service
from firstmark.store import Store


def _body(args: argparse.Namespace) -> dict[str, str]:
    value = sys.stdin.readline().strip() if args.value == "-" else args.value
    return {"kind": args.kind, "value": value}


async def cmd_privacy_erase(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    answer = await privacy_service.erase(
        store, _body(args), hash_key(settings.secret_key), CLI_ACTOR
    )
    if args.json:
        print_json(answer)
        return 0
    if not answer["tables"]:
        print("Nothing is linked to that identifier.")
    for table, counts in sorted(answer["tables"].items()):
        done = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        print(f"{table:20} {done}")
    return 0


async def cmd_privacy_export(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    answer = await privacy_service.export(
        store, _body(args), hash_key(settings.secret_key), CLI_ACTOR
    )
    if args.output:
        Path(args.output).write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        rows = sum(len(r) for r in answer["tables"].values())
        print(f"Wrote {rows} row(s) from {len(answer['tables'])} table(s) to {args.output}")
    else:
        print_json(answer)
    return 0


def register(sub: Commands) -> None:
    privacy = group(sub, "privacy", "erase or export a person's data")
    for name, run, text in (
        ("erase", cmd_privacy_erase, "delete or anonymise every row linked to an identifier"),
        ("export", cmd_privacy_export, "print every row linked to an identifier as JSON"),
    ):
        cmd = privacy.add_parser(name, help=text)
        cmd.add_argument("--kind", required=True, choices=KINDS, help="what the value is")
        cmd.add_argument("value", help="the identifier, or - to read it from standard input")
        if name == "erase":
            cmd.add_argument("--json", action="store_true", help="print the counts as JSON")
        else:
            cmd.add_argument("--output", "-o", help="write the document to this file")
        cmd.set_defaults(run=run)
