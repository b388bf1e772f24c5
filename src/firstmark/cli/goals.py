"""`firstmark goal …`: the conversion goals events and calls can reach."""

from __future__ import annotations

import argparse
from typing import Any

from firstmark.cli.common import Commands, group, print_json
from firstmark.config import Settings
from firstmark.domain import goals
from firstmark.services import goals as goals_service
from firstmark.store import Store


async def cmd_goal_add(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    body: dict[str, Any] = {"name": args.name, "kind": args.kind, "window_days": args.window_days}
    if args.event:
        body["event_name"] = args.event
    if args.value is not None:
        body["default_value"] = args.value
    if args.currency:
        body["currency"] = args.currency
    saved = await goals_service.create(store, body)
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


def register(sub: Commands) -> None:
    goal = group(sub, "goal", "conversion goals")
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
