"""`firstmark copy`: an SQLite install moves to PostgreSQL (and back) whole, ids kept, counts
verified, and a non-empty target is refused untouched."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest.mock import ANY

import pytest

from firstmark.cli import main
from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.costs import CostRow
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.keys import new_key
from firstmark.domain.links import Link
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.domain.sites import Site
from firstmark.services.transfer import ProgressBar
from firstmark.store import CallQuery, Domain, Store, create_store

HOUR = 1_764_072_000  # 2025-11-25 12:00 UTC


def _hit(link_id: int, n: int) -> Hit:
    return Hit(
        link_id, HOUR + n, "scan" if n % 3 else "click", f"v{n % 7}", "NO", None, None,
        "mobile", "iOS", "Mobile Safari", None, n % 5 == 0, "crawler:x" if n % 5 == 0 else None,
        "nb",
    )  # fmt: skip


async def _fill(url: str) -> str:
    store = create_store(url)
    await store.open()
    await store.migrate()
    try:
        a = await store.insert_link(Link(destination="https://a.example/", code="a", tags=("x",)))
        b = await store.insert_link(
            Link(destination="https://b.example/", code="b", forward_query=True, archived=True)
        )
        assert a.id and b.id
        await store.write_hits([_hit(a.id, n) for n in range(300)])
        await store.write_hits([_hit(b.id, n) for n in range(40)])
        await store.salt_for_day(int(time.time() // 86400))
        await store.insert_user("admin", "scrypt$x", "owner")
        _, key = new_key(("admin",), name="ci")
        await store.insert_api_key(key)
        await store.upsert_domain(Domain("go.example", "https://fallback.example/"))
        await store.enqueue_jobs("outbox", ["one", "two"])
        site = await store.insert_site(Site("Shop", "k" * 16, ("shop.example",)))
        goal = await store.insert_goal(Goal("purchase"))
        assert site.id and goal.id
        event = Event(site.id, HOUR + 1.5, "pageview", "pageview", "/", "h", "none", is_bot=True)
        touch = Touch(HOUR, site.id, "v", click_ids={"gclid": "G"})
        consent = Consent(analytics=True, ad_storage=False, ad_user_data=False)
        conv = Conversion("e1", goal.id, HOUR + 2, consent, "web", value=9.5, visitor_id="v")
        assert await store.write_events([event], [touch], [conv]) == 1
        await store.replace_costs(
            [CostRow(date(2025, 11, 25), "google", "cpc", "x", Decimal("1.25"), "EUR", 10, 1)]
        )
        await _fill_calls(store, a.id)
        return key.prefix
    finally:
        await store.close()


async def _fill_calls(store: Store, link_id: int) -> None:
    """A static number with a call, a pool with a renewed lease, a released number."""
    poster = await store.insert_number(
        TrackingNumber("+4740000001", "twilio", "+4722000000", link_id=link_id, record=True)
    )
    await store.upsert_pool(Pool("web", fallback="+4722000009", lease_s=600))
    pooled = await store.insert_number(
        TrackingNumber("+4740000002", "twilio", "+4722000000", pool="web")
    )
    gone = await store.insert_number(TrackingNumber("+4740000003", "twilio", "+4722000000"))
    assert poster.id and pooled.id and gone.id
    consent = Consent(analytics=True, ad_storage=True)
    lease = Lease("L1", "web", HOUR, HOUR + 600, consent, visitor_id="v", click_ids={"gclid": "G"})
    assert await store.take_lease(lease, HOUR)
    assert await store.renew_lease("L1", HOUR + 300, HOUR + 900)
    await store.release_number(gone.id, HOUR)
    call = Call("twilio", "CA1", poster.id, HOUR + 5, "completed", HOUR + 6, HOUR + 96, 90,
                caller_hash="h", caller_last2="67", channel="static", link_id=link_id)  # fmt: skip
    await store.apply_call(call, CallEvent("twilio", "CA1", HOUR + 96, "completed"))


async def _summary(url: str) -> dict[str, object]:
    store: Store = create_store(url)
    await store.open()
    try:
        tables = await store.tables()
        link = await store.link_by_code("", "b")
        made = await store.insert_link(Link(destination="https://c.example/", code="c"))
        pooled = await store.number_by_e164("+4740000002")
        return {
            "counts": {t: await store.count_rows(t) for t in tables if t != "links"},
            "b": (link.id, link.forward_query, link.archived) if link else None,
            "rollups": await store.rollups(None, HOUR - 3600, HOUR + 7200),
            "countries": await store.breakdown(1, "country", HOUR - 10, HOUR + 3600, 5),
            "next_id": made.id,
            "domains": await store.list_domains(),
            "events": await store.list_events(1),
            "journeys": await store.conversion_journeys(HOUR, HOUR + 3600),
            "costs": await store.cost_totals(0, 30_000, ["campaign"]),
            "numbers": await store.list_numbers(released=True),
            "pools": await store.list_pools(HOUR + 800),
            "lease": pooled and pooled.id and await store.lease_at(pooled.id, HOUR + 800),
            "calls": await store.list_calls(CallQuery()),
        }
    finally:
        await store.close()


def test_copy_sqlite_to_postgres_and_back(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIRSTMARK_SECRET_KEY", "s")
    sqlite = f"sqlite:///{tmp_path}/fm.db"
    asyncio.run(_fill(sqlite))

    assert main(["copy", "--from", sqlite, "--to", pg_url]) == 0
    out, err = capsys.readouterr()
    assert "hits                      340 rows" in out
    assert "counts match" in err and "copied hits: 340 rows" in err  # one line per table off a tty

    # Copying again would double everything: refused, and the target is left as it was.
    assert main(["copy", "--from", sqlite, "--to", pg_url]) == 1
    assert "not empty" in capsys.readouterr().err

    back = f"sqlite:///{tmp_path}/back.db"
    assert main(["copy", "--from", pg_url, "--to", back]) == 0
    original, on_pg, round_trip = (asyncio.run(_summary(u)) for u in (sqlite, pg_url, back))
    assert on_pg == original == round_trip
    assert original["next_id"] == 3  # identities continue after the copied ids
    assert original["counts"]["hits"] == 340  # type: ignore[index]
    assert original["counts"]["jobs"] == 2  # type: ignore[index]
    assert original["counts"]["conversions"] == 1  # type: ignore[index]
    assert original["journeys"] and original["events"] and original["costs"]
    assert original["counts"]["number_leases"] == 1  # type: ignore[index]
    assert original["lease"] and original["calls"] == ([ANY], 1)
    assert original["pools"] == [(ANY, 1, 1)]  # still leased: the renewal came along


def test_copy_to_an_unreachable_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIRSTMARK_SECRET_KEY", "s")
    monkeypatch.setenv("FIRSTMARK_DB_STARTUP_WAIT", "0")
    sqlite = f"sqlite:///{tmp_path}/fm.db"
    asyncio.run(_fill(sqlite))
    assert main(["copy", "--from", sqlite, "--to", "postgresql://u@127.0.0.1:9/x"]) == 3
    assert capsys.readouterr().err.startswith("firstmark: cannot use the database postgresql://")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    out = _Terminal()
    bar = ProgressBar(200, out=out, width=10)
    bar.advance("links", 50, 50, 50)
    bar._drawn = 0.0  # redraw at once, whatever the clock says
    bar.advance("hits", 150, 150, 150)
    bar.table_done("hits", 150)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\r[##........]  25%  links 50/50")
    assert "\r[##########] 100%  hits 150/150" in text
    assert text.endswith("\n") and text.count("\n") == 1  # one line, finished once
