"""Migrations reach the expected schema, run once, and a bad database fails clearly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firstmark.errors import StoreUnavailable
from firstmark.store import schema
from firstmark.store.sqlite.store import SQLiteStore

EXPECTED = {
    "domains": ["host", "fallback_url", "created_at"],
    "links": [
        "id", "domain", "code", "destination", "utm_source", "utm_medium", "utm_campaign",
        "utm_term", "utm_content", "utm_id", "campaign", "tags", "kind", "placement",
        "redirect_status", "forward_query", "click_token", "valid_from", "expires_at", "max_hits",
        "fallback_url", "password_hash", "rules", "noindex", "archived", "created_at",
        "updated_at", "version", "variants",
    ],
    "link_tags": ["tag", "link_id"],
    "hit_dims": [
        "id", "key", "country", "region", "city", "device_type", "os", "browser",
        "referrer_host", "is_bot", "bot_reason", "lang",
    ],
    "hits": [
        "id", "link_id", "ts", "kind", "visitor_day_hash", "dims_id", "variant", "first_visit",
    ],
    "hit_visitors": ["link_id", "day", "visitor_day_hash"],
    "rollup_hourly": ["link_id", "hour", "kind", "hits", "bot_hits", "uniques"],
    "rollup_daily": ["link_id", "day", "kind", "dims_id", "hits", "bot_hits", "uniques"],
    "rollup_day": ["link_id", "day", "kind", "hits", "bot_hits", "uniques"],
    "rollup_totals": ["day", "kind", "hits", "bot_hits", "uniques"],
    "rollup_variant": ["link_id", "day", "variant", "hits", "bot_hits", "uniques"],
    "salts": ["day", "salt"],
    "users": ["id", "username", "password_hash", "is_admin", "created_at", "role", "disabled_at"],
    "sessions": ["id", "user_id", "created_at", "expires_at"],
    "api_keys": [
        "id", "prefix", "hash", "scopes", "name", "created_at", "last_used_at", "revoked",
        "user_id",
    ],
    "invitations": [
        "id", "token_hash", "role", "created_by", "created_at", "expires_at", "used_at", "used_by",
    ],
    "jobs": [
        "id", "queue", "payload", "run_at", "attempts", "lease_owner", "lease_until",
        "created_at", "done_at",
    ],
    "schema_migrations": ["version", "name", "applied_at"],
    "credited": ["conversion_id"],
    "attribution_credits": [
        "conversion_id", "model", "step", "ts", "currency", "link_id", "utm_source",
        "utm_medium", "utm_campaign", "utm_content", "day", "share", "units",
    ],
    "costs": [
        "id", "day", "source", "medium", "campaign", "currency", "spend_micros", "impressions",
        "clicks", "imported_at",
    ],
    "sites": ["id", "key", "name", "created_at"],
    "site_hosts": ["host", "site_id"],
    "events": [
        "id", "site_id", "ts", "kind", "name", "path", "referrer_host", "utm_source",
        "utm_medium", "utm_campaign", "utm_term", "utm_content", "link_id", "visitor_day_hash",
        "visitor_id", "session_id", "value", "currency", "consent", "country", "device_type",
        "is_bot", "props", "visit_key", "visit_started",
    ],
    "touches": [
        "id", "site_id", "ts", "visitor_id", "click_token", "link_id", "utm_source",
        "utm_medium", "utm_campaign", "utm_term", "utm_content", "click_ids",
    ],
    "goals": [
        "id", "name", "kind", "event_name", "default_value", "currency", "window_days",
        "created_at",
    ],
    "conversions": [
        "id", "event_id", "goal_id", "ts", "value", "currency", "order_id", "visitor_id",
        "click_token", "link_id", "utm_source", "utm_medium", "utm_campaign", "user_data",
        "consent", "source", "site_id", "created_at", "action_source", "variant",
        "customer_hash",
    ],
    "qr_logos": ["id", "sha256", "media_type", "data", "width", "height", "created_at"],
    "qr_placements": [
        "link_id", "parent_id", "name", "venue", "medium", "quantity", "print_cost", "currency",
        "starts_on", "ends_on", "created_at",
    ],
    "qr_events": [
        "link_id", "starts_at", "ends_at", "before_url", "during_url", "after_url", "retire_at",
        "fallback_url", "summary", "updated_at",
    ],
    "link_health": [
        "link_id", "checked_at", "ok", "status", "error", "final_url", "destination",
    ],
    "destinations": [
        "id", "platform", "name", "credentials", "credential_fields", "goals", "endpoint_base",
        "test_mode", "options", "enabled", "created_at", "updated_at", "auth_status",
        "auth_error",
    ],
    "outbox": [
        "id", "destination_id", "conversion_id", "event_name", "status", "attempts",
        "next_attempt_at", "lease_owner", "last_status", "last_error", "click_ids",
        "sealed_client", "created_at", "sent_at",
    ],
    "deliveries": [
        "id", "outbox_id", "destination_id", "ts", "status", "attempt", "http_status",
        "latency_ms", "error", "api_version", "consent", "identifiers", "request_id",
        "diagnostics",
    ],
    "numbers": [
        "id", "e164", "provider", "forward_to", "label", "pool", "link_id", "campaign",
        "qualify_s", "record", "fallback_to", "hours", "timezone", "goal", "leased_until",
        "last_leased", "lease_id", "released_at", "created_at", "updated_at",
    ],
    "pools": ["name", "fallback", "site_id", "lease_s", "created_at"],
    "number_leases": [
        "id", "number_id", "pool", "site_id", "started", "expires", "consent", "visitor_id",
        "click_token", "link_id", "utm_source", "utm_medium", "utm_campaign", "utm_term",
        "utm_content", "referrer_host", "click_ids",
    ],
    "calls": [
        "id", "provider", "call_id", "number_id", "started", "status", "answered", "ended",
        "duration_s", "caller_hash", "caller_last2", "lease_id", "channel", "link_id",
        "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_content", "conversion_id",
        "updated_at", "caller_hashed",
    ],
    "funnels": ["id", "site_id", "name", "steps", "within", "days", "created_at"],
    "channel_rules": ["id", "action", "field", "match", "value", "channel", "created_at"],
    "visits": [
        "id", "site_id", "key", "started", "last_ts", "day", "visitor_day_hash", "visitor_id",
        "entry_path", "exit_path", "pageviews", "events", "source", "medium", "campaign", "term",
        "content", "referrer_host", "click_ids", "link_id", "channel", "country", "device_type",
        "browser", "os", "is_bot", "conversions", "revenue",
    ],
    "audit": ["id", "ts", "actor", "action", "object_kind", "object_id", "detail"],
    "retention_purges": ["class", "days", "ran_at", "deleted"],
    "web_dirty": ["site_id", "day", "dim", "marked_at"],
    "web_daily": [
        "site_id", "day", "dim", "value", "filter", "visits", "pageviews", "bounces", "duration",
        "conversions", "revenue",
    ],
    "web_daily_visitors": [
        "site_id", "day", "dim", "value", "filter", "prev_day", "converted", "n",
    ],
    "webhook_endpoints": [
        "id", "url", "events", "secrets", "description", "click_mode", "sample_every", "enabled",
        "previous_until", "created_at", "updated_at",
    ],
    "webhook_outbox": [
        "id", "endpoint_id", "msg_id", "event_type", "body", "status", "attempts",
        "next_attempt_at", "lease_owner", "last_status", "last_error", "created_at", "sent_at",
    ],
    "webhook_deliveries": [
        "id", "outbox_id", "endpoint_id", "ts", "status", "attempt", "http_status",
        "latency_ms", "error",
    ],
    "funnel_dirty": ["funnel_id", "day"],
    "funnel_daily": ["funnel_id", "day", "step", "prev_day", "n"],
    "funnel_visitors": ["funnel_id", "day", "visitor", "reached"],
    "web_event_dims": ["site_id", "dim"],
    "web_event_daily": [
        "site_id", "day", "dim", "value", "filter", "visits", "pageviews", "bounces",
        "duration", "conversions", "revenue", "events",
    ],
    "web_event_visitors": [
        "site_id", "day", "dim", "value", "filter", "prev_day", "converted", "n",
    ],
    "credit_days": [
        "day", "model", "currency", "utm_source", "utm_medium", "utm_campaign", "utm_content",
        "share", "units",
    ],
    "credit_dirty": ["day"],
    "visitor_sketches": ["link_id", "day", "version", "credited", "sketch"],
    "visitor_sketch_mark": ["id", "hit_id"],
    "rollup_pending": ["first_id", "last_id"],
    "alerts": ["id", "kind", "subject", "message", "detail", "raised_at", "resolved_at"],
    "summary_runs": ["period", "sent_at"],
}  # fmt: skip
# Both engines have the same migrations, by number and name.
MIGRATIONS = [f"{m.version:04d}_{m.name}" for m in schema.load("sqlite")]


def test_engines_have_the_same_migrations() -> None:
    assert [f"{m.version:04d}_{m.name}" for m in schema.load("postgres")] == MIGRATIONS


async def test_migrations_reach_the_expected_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    assert MIGRATIONS[0] == "0001_initial"
    assert await store.migrate() == MIGRATIONS
    assert await store.migrate() == []
    assert await store.pending_migrations() == []
    await store.close()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {t: [c[1] for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Other migrations may add tables of their own; these must be exactly as listed.
    assert {t: found[t] for t in EXPECTED if t in found} == EXPECTED


async def test_a_file_that_is_not_a_database_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    path.write_bytes(b"this is not sqlite" * 100)
    store = SQLiteStore(f"sqlite:///{path}")
    with pytest.raises(StoreUnavailable, match="not a database"):
        await store.open()
    assert path.read_bytes() == b"this is not sqlite" * 100


async def test_a_missing_folder_fails_clearly(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/nope/fm.db")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await store.open()


async def test_a_locked_database_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "fm.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = SQLiteStore(f"sqlite:///{path}", timeout=0.2)
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.open()
            await store.migrate()
        await store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
