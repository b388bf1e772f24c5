"""Erasure and export on both engines: two people in every table, one of them erased by each
kind of identifier, then every text of every table is scanned for anything of hers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from firstmark.domain import privacy, webhooks
from firstmark.domain.phones import caller_hash
from firstmark.domain.userdata import hash_user_data
from firstmark.errors import Conflict
from firstmark.store import Store

KEY = b"caller-key-for-tests"
T = 1_790_000_000.0
DAY = int(T // 86400)


def person(n: int, name: str, email: str, phone: str) -> dict[str, Any]:
    """One person's identifiers; the numbers keep the two people's row ids apart."""
    hashed = hash_user_data({"email": email, "phone": phone})
    return {
        "n": n,
        "visitor_id": f"vid-{name}-0001",
        "click_token": f"ct-{name}-token",
        "session": f"sid-{name}-visit",
        "day_hash": f"dh-{name}-daily",
        "event_id": f"evt-{name}-1",
        "order_id": f"order-{name}-1",
        "call_event": f"call-{name}-conv",
        "lease": f"lease-{name}",
        "email": email,
        "phone": phone,
        "user_data": json.dumps(hashed, sort_keys=True),
        "hashes": sorted(hashed.values()),
        "caller_hash": caller_hash(KEY, phone),
        "gclid": f"gclid-{name}-x",
        "fbc": f"fbc-{name}-x",
        "sealed": f"sealed-{name}-blob",
        "prop": f"prop-{name}-value",
        # Her conversion's webhook messages: pending, dead and sent.
        "msg_ids": [
            webhooks.new_message_id(1, "conversion.created", f"evt-{name}-1"),
            webhooks.new_message_id(2, "conversion.created", f"evt-{name}-1"),
            webhooks.new_message_id(1, "lead.created", f"evt-{name}-1"),
        ],
    }


ALICE = person(1, "alice", "Alice.Smith+shop@gmail.com", "+4791234567")
BOB = person(2, "bob", "bob@example.org", "+4798765432")
CONSENT = json.dumps(
    {"ad_personalization": "granted", "ad_storage": "granted", "ad_user_data": "granted",
     "analytics_storage": "granted", "gpc": False}, sort_keys=True,
)  # fmt: skip


def secrets_of(p: dict[str, Any]) -> list[str]:
    """Every value that would tie a row to this person."""
    keys = ("visitor_id", "click_token", "session", "day_hash", "event_id", "order_id",
            "call_event", "lease", "caller_hash", "gclid", "fbc", "sealed", "prop")  # fmt: skip
    return [p[k] for k in keys] + list(p["hashes"]) + list(p["msg_ids"])


async def load(store: Store, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
    await store.load_table(table, [c.strip() for c in columns.split(",")], rows)


async def seed_common(store: Store) -> None:
    await load(store, "sites", "id, key, name, created_at", [(1, "site-key", "Shop", 0)])
    await load(
        store, "goals", "id, name, kind, event_name, window_days, created_at",
        [(1, "purchase", "macro", "purchase", 30, 0), (2, "call", "macro", "call", 30, 0)],
    )  # fmt: skip
    await load(
        store, "destinations", "id, platform, name, credentials, created_at, updated_at",
        [(1, "meta", "Meta", "x", 0, 0), (2, "google_ads", "Ads", "x", 0, 0)],
    )  # fmt: skip
    await load(
        store, "numbers",
        "id, e164, provider, forward_to, qualify_s, pool, created_at, updated_at",
        [(1, "+4722000001", "twilio", "+4722000099", 30, "site", 0, 0)],
    )  # fmt: skip
    await load(
        store, "webhook_endpoints", "id, url, events, secrets, created_at, updated_at",
        [(1, "https://hooks.example.com/a", '["conversion.created", "lead.created"]', "x", 0, 0),
         (2, "https://hooks.example.com/b", '["conversion.created"]', "x", 0, 0)],
    )  # fmt: skip


async def seed_person(store: Store, p: dict[str, Any]) -> None:
    """Every table the person can reach, linked the way the app links them."""
    n = p["n"]
    conv, call_conv = 10 * n, 10 * n + 1
    await load(
        store, "conversions",
        "id, event_id, goal_id, ts, value, currency, order_id, visitor_id, click_token, "
        "user_data, consent, source, site_id, created_at",
        [
            (conv, p["event_id"], 1, T, 100.0, "EUR", p["order_id"], p["visitor_id"],
             p["click_token"], p["user_data"], CONSENT, "server", 1, int(T)),
            (call_conv, p["call_event"], 2, T + 60, None, None, None, None, None,
             json.dumps(hash_user_data({"phone": p["phone"]}), sort_keys=True), CONSENT,
             "call", None, int(T)),
        ],
    )  # fmt: skip
    await load(
        store, "outbox",
        "id, destination_id, conversion_id, event_name, status, next_attempt_at, click_ids, "
        "sealed_client, created_at",
        [
            (10 * n, 1, conv, "Purchase", "pending", T, json.dumps({"fbc": p["fbc"]}),
             p["sealed"], T),
            (10 * n + 1, 2, conv, "purchase", "sent", T, json.dumps({"gclid": p["gclid"]}),
             None, T),
        ],
    )  # fmt: skip
    await load(
        store, "deliveries", "id, outbox_id, destination_id, ts, status, attempt",
        [(10 * n, 10 * n, 1, T, "retry", 1), (10 * n + 1, 10 * n + 1, 2, T, "sent", 1)],
    )  # fmt: skip
    data = {"conversion": {"id": conv, "event_id": p["event_id"], "order_id": p["order_id"],
            "hashed_user_data": json.loads(p["user_data"])}}  # fmt: skip
    created = webhooks.envelope("conversion.created", data, T)
    await load(
        store, "webhook_outbox",
        "id, endpoint_id, msg_id, event_type, body, status, next_attempt_at, created_at",
        [
            (10 * n, 1, p["msg_ids"][0], "conversion.created", created, "retry", T, T),
            (10 * n + 1, 2, p["msg_ids"][1], "conversion.created", created, "dead", T, T),
            (10 * n + 2, 1, p["msg_ids"][2], "lead.created",
             webhooks.envelope("lead.created", data, T), "sent", T, T),
        ],
    )  # fmt: skip
    await load(
        store, "webhook_deliveries", "id, outbox_id, endpoint_id, ts, status, attempt",
        [(10 * n, 10 * n, 1, T, "retry", 1), (10 * n + 1, 10 * n + 1, 2, T, "dead", 5),
         (10 * n + 2, 10 * n + 2, 1, T, "sent", 1)],
    )  # fmt: skip
    await load(
        store, "attribution_credits",
        "conversion_id, model, step, ts, day, share, units",
        [(conv, "last_touch", 0, T - 100, DAY, 1.0, 1000000)],
    )  # fmt: skip
    await load(store, "credited", "conversion_id", [(conv,)])
    await load(
        store, "number_leases",
        "id, number_id, pool, site_id, started, expires, consent, visitor_id, click_token, "
        "click_ids",
        [(p["lease"], 1, "site", 1, T - 30 + n, T + 600 + n, "full", p["visitor_id"],
          p["click_token"], json.dumps({"gclid": p["gclid"]}))],
    )  # fmt: skip
    await load(
        store, "calls",
        "id, provider, call_id, number_id, started, status, duration_s, caller_hash, "
        "caller_last2, lease_id, channel, conversion_id, updated_at, caller_hashed",
        [(n, "twilio", f"CA{n}", 1, T + 60, "completed", 95, p["caller_hash"],
          p["phone"][-2:], p["lease"], "Paid Search", call_conv, T,
          json.dumps(hash_user_data({"phone": p["phone"]}), sort_keys=True))],
    )  # fmt: skip
    await load(
        store, "touches", "id, site_id, ts, visitor_id, click_token, utm_source, click_ids",
        [
            (10 * n, 1, T - 100, p["visitor_id"], p["click_token"], "google",
             json.dumps({"gclid": p["gclid"]})),
            (10 * n + 1, 1, T - 50, p["visitor_id"], None, "newsletter", "{}"),
            (10 * n + 2, None, T - 40, None, p["click_token"], "poster", "{}"),
        ],
    )  # fmt: skip
    await load(
        store, "events",
        "id, site_id, ts, kind, name, path, visitor_day_hash, visitor_id, session_id, consent, "
        "props, visit_key, visit_started",
        [
            # Before consent: only the day's hash ties this one to her.
            (10 * n, 1, T - 200, "pageview", "pageview", "/", p["day_hash"], None, None,
             "none", None, p["day_hash"], T - 200),
            (10 * n + 1, 1, T - 100, "pageview", "pageview", "/pricing", p["day_hash"],
             p["visitor_id"], p["session"], "full", json.dumps({"plan": p["prop"]}),
             p["session"], T - 100),
            (10 * n + 2, 1, T, "conversion", "purchase", "/thanks", p["day_hash"],
             p["visitor_id"], p["session"], "full", None, p["session"], T - 100),
        ],
    )  # fmt: skip
    await load(
        store, "visits",
        "id, site_id, key, started, last_ts, day, visitor_day_hash, visitor_id, entry_path, "
        "exit_path, pageviews, source, medium, channel",
        [
            (10 * n, 1, p["day_hash"], T - 200, T - 200, DAY, p["day_hash"], None, "/", "/", 1,
             "(direct)", "(none)", "Direct"),
            (10 * n + 1, 1, p["session"], T - 100, T, DAY, p["day_hash"], p["visitor_id"],
             "/pricing", "/thanks", 1, "google", "cpc", "Paid Search"),
        ],
    )  # fmt: skip
    await load(
        store, "hits", "id, link_id, ts, kind, visitor_day_hash, dims_id",
        [(10 * n, 1, T - 300, "click", p["day_hash"], 1)],
    )  # fmt: skip
    await load(store, "hit_visitors", "link_id, day, visitor_day_hash", [(1, DAY, p["day_hash"])])


async def seeded(store: Store) -> None:
    await seed_common(store)
    await seed_person(store, ALICE)
    await seed_person(store, BOB)


async def texts(store: Store) -> list[tuple[str, str, str]]:
    """(table, column, text) for every value of every table."""
    out: list[tuple[str, str, str]] = []
    for table, columns in (await store.tables()).items():
        async for rows in store.dump_table(table, columns, 500):
            for row in rows:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        out.append((table, column, str(value)))
    return out


async def counts(store: Store) -> dict[str, int]:
    return {t: await store.count_rows(t) for t in await store.tables()}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("visitor_id", ALICE["visitor_id"]),
        ("click_token", ALICE["click_token"]),
        ("event_id", ALICE["event_id"]),
        ("order_id", ALICE["order_id"]),
        ("email", "  alicesmith@GMAIL.com "),  # Google's normalisation of her address
        ("phone", "+47 912 34 567"),
    ],
)
async def test_erase_leaves_nothing_linked_and_keeps_the_bystander(
    any_store: Store, kind: str, value: str
) -> None:
    await seeded(any_store)
    before = await counts(any_store)
    linked, answer = await any_store.privacy_erase(privacy.subject(kind, value, KEY))
    assert not linked.truncated

    found = await texts(any_store)
    for secret in secrets_of(ALICE):
        hits = [(t, c) for t, c, text in found if secret in text]
        assert hits == [], f"{secret} still in {hits}"
    for secret in secrets_of(BOB):
        assert any(secret in text for _, _, text in found), f"{secret} of the bystander lost"

    after = await counts(any_store)
    # Pure links go: her touches, her lease, the pending outbox row and its attempt, her
    # webhook messages not sent (waiting or dead) and their attempts.
    gone = {"touches": 3, "number_leases": 1, "outbox": 1, "deliveries": 1,
            "webhook_outbox": 2, "webhook_deliveries": 2}  # fmt: skip
    assert {t: before[t] - after[t] for t in before if before[t] != after[t]} == gone
    assert answer["touches"] == {"deleted": 3}
    assert answer["number_leases"] == {"deleted": 1}
    assert answer["outbox"] == {"deleted": 1, "anonymised": 1}
    assert answer["deliveries"] == {"deleted": 1}
    assert answer["webhook_outbox"] == {"deleted": 2, "anonymised": 1}
    assert answer["webhook_deliveries"] == {"deleted": 2}
    # Report rows stay, without anything of hers: conversions, calls, events, visits, hits.
    assert answer["conversions"] == {"anonymised": 2}
    assert answer["calls"] == {"anonymised": 1}
    assert answer["events"] == {"anonymised": 3}
    assert answer["visits"] == {"anonymised": 2}
    assert answer["hits"] == {"anonymised": 1}
    assert answer["hit_visitors"] == {"anonymised": 1}
    assert answer["attribution_credits"] == {"kept": 1}


async def test_erase_keeps_visits_and_sessions_whole(any_store: Store) -> None:
    """Her pseudonyms get one stand-in each: the events of a visit still share one key,
    and the visit's row carries it."""
    await seeded(any_store)
    await any_store.privacy_erase(privacy.subject("visitor_id", ALICE["visitor_id"], KEY))
    rows = [r async for batch in any_store.dump_table(
        "events", ["id", "visit_key", "session_id", "visitor_id"], 100) for r in batch]  # fmt: skip
    hers = {r[0]: r for r in rows if r[0] in (10, 11, 12)}
    assert hers[11][1] == hers[12][1] == hers[11][2] == hers[12][2]
    assert hers[11][3] == hers[12][3] is not None
    visit_keys = [r async for batch in any_store.dump_table(
        "visits", ["id", "key"], 100) for r in batch]  # fmt: skip
    assert dict(visit_keys)[11] == hers[11][1]
    # Her event id was replaced by one that says so, unique as before.
    events = [r async for batch in any_store.dump_table(
        "conversions", ["id", "event_id"], 100) for r in batch]  # fmt: skip
    assert dict(events)[10].startswith("erased-")


async def test_erase_stops_her_webhook_messages_and_empties_the_sent_one(
    any_store: Store,
) -> None:
    await seeded(any_store)
    await any_store.privacy_erase(privacy.subject("email", ALICE["email"], KEY))
    rows = [r async for batch in any_store.dump_table(
        "webhook_outbox", ["id", "msg_id", "status", "body"], 100) for r in batch]  # fmt: skip
    by_id = {r[0]: r for r in rows}
    # Nothing of hers is left to send or replay; the sent one keeps its status, not its body.
    assert set(by_id) == {12, 20, 21, 22}
    assert by_id[12][2] == "sent" and by_id[12][3] == "{}"
    assert by_id[12][1].startswith("msg_erased-")
    assert [await any_store.webhook_counts(ep) for ep in (1, 2)] == [
        {"retry": 1, "sent": 2},
        {"dead": 1},
    ]
    log = await any_store.list_webhook_deliveries(1)
    assert [(d.outbox_id, d.status) for d in log] == [(22, "sent"), (20, "retry"), (12, "sent")]


async def test_export_returns_every_linked_row_and_nothing_else(any_store: Store) -> None:
    await seeded(any_store)
    found, tables = await any_store.privacy_export(privacy.subject("email", ALICE["email"], KEY))
    assert not found.truncated
    assert {t: len(r) for t, r in tables.items()} == {
        "outbox": 2, "deliveries": 2, "calls": 1, "number_leases": 1, "touches": 3,
        "conversions": 2, "events": 3, "visits": 2, "hits": 1, "hit_visitors": 1,
        "attribution_credits": 1, "credited": 1, "webhook_outbox": 3, "webhook_deliveries": 3,
    }  # fmt: skip
    text = json.dumps(tables)
    assert ALICE["visitor_id"] in text and ALICE["order_id"] in text
    assert all(s not in text for s in secrets_of(BOB))
    # Client data sealed for a platform is named, never shown.
    assert ALICE["sealed"] not in text
    pending = next(r for r in tables["outbox"] if r["status"] == "pending")
    assert pending["sealed_client"].startswith("(sealed")
    # Nothing changed.
    assert ALICE["visitor_id"] in {t for _, _, t in await texts(any_store)}


async def test_an_unknown_identifier_touches_nothing(any_store: Store) -> None:
    await seeded(any_store)
    before = await texts(any_store)
    _, answer = await any_store.privacy_erase(privacy.subject("email", "nobody@example.com", KEY))
    assert answer == {}
    assert await texts(any_store) == before


# Column names that identify a visitor, a visit, a caller or an order.
IDENTIFYING = {
    "visitor_id", "click_token", "session_id", "visitor_day_hash", "visit_key", "caller_hash",
    "caller_hashed", "caller_last2", "user_data", "order_id", "event_id", "sealed_client",
}  # fmt: skip
# Columns of those names that hold no visitor's value (a flag, a setting).
NOT_A_VISITOR = {("links", "click_token")}


async def test_the_maps_name_real_columns_and_cover_every_identifying_one(store: Store) -> None:
    tables = await store.tables()
    for find in privacy.FINDS:
        assert find.column in tables[find.table] and set(find.leads) <= set(tables[find.table])
    covered: set[tuple[str, str]] = set()
    for action in privacy.ACTIONS:
        columns = {*action.where, *action.clear, *action.replace}
        assert columns <= set(tables[action.table]), action.table
        covered |= {(action.table, c) for c in columns}
        if action.delete and not action.only:
            covered |= {(action.table, c) for c in tables[action.table]}
    for table in privacy.KEPT:
        assert "conversion_id" in tables[table]
    identifying = {(t, c) for t, cols in tables.items() for c in cols if c in IDENTIFYING}
    assert identifying - NOT_A_VISITOR - covered == set()
    # The key of a visit is its session or the day's hash: both are replaced there.
    assert set(privacy.VISIT_KEY) == {"session", "day_hash"}


async def test_too_much_linked_is_refused_whole_and_exported_as_truncated(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(any_store)
    monkeypatch.setattr(privacy, "MAX_LINKED", 6)
    before = await texts(any_store)
    with pytest.raises(Conflict) as refused:
        await any_store.privacy_erase(privacy.subject("visitor_id", ALICE["visitor_id"], KEY))
    assert refused.value.code == "too_many_linked"
    assert await texts(any_store) == before
    found, _ = await any_store.privacy_export(
        privacy.subject("visitor_id", ALICE["visitor_id"], KEY)
    )
    assert found.truncated and found.size == 6


async def test_consent_counts_by_state(any_store: Store) -> None:
    await seeded(any_store)
    await any_store.load_table(
        "events",
        ["id", "site_id", "ts", "kind", "name", "path", "visitor_day_hash", "consent",
         "visit_key", "visit_started", "is_bot"],
        [(90, 1, T, "pageview", "pageview", "/", "dh-tcf", "analytics:tcf", "k-tcf", T, False),
         (91, 1, T, "pageview", "pageview", "/", "dh-bot", "none", "k-bot", T, True)],
    )  # fmt: skip
    counts = await any_store.consent_counts(T - 3600, T + 3600)
    assert counts == {
        "none": {"visits": 2, "identified_events": 0, "conversions": 0, "user_data": 0, "sent": 0},
        "full": {"visits": 2, "identified_events": 4, "conversions": 4, "user_data": 4, "sent": 2},
        "analytics": {"visits": 1, "identified_events": 0, "conversions": 0, "user_data": 0,
                      "sent": 0},
        "tcf": {"visits": 1, "identified_events": 0, "conversions": 0, "user_data": 0, "sent": 0},
    }  # fmt: skip
    assert await any_store.consent_counts(T - 3600, T + 3600, site_id=2) == {}
