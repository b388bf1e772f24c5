"""Calls in reports on every engine: the call sums a report reads come back under the same
keys as its traffic (link ids as numbers, days as days since the epoch), whatever the engine,
in tables by one dimension or several."""

from __future__ import annotations

from datetime import UTC, datetime

from calltools import call, number
from firstmark.domain import stats
from firstmark.domain.hits import Hit
from firstmark.domain.links import Link
from firstmark.services import calls as calls_service
from firstmark.services import reports as reports_service
from firstmark.store.protocol import Store

DAY = 20_417  # 2025-11-25, days since the epoch
T0 = DAY * 86400.0


def window(first_day: int, days: int) -> reports_service.Window:
    start = datetime.fromtimestamp(first_day * 86400, UTC)
    end = datetime.fromtimestamp((first_day + days) * 86400, UTC)
    return reports_service.Window(stats.Range(start, end, "day"))


async def test_report_tables_and_stats_count_calls_under_their_keys(any_store: Store) -> None:
    poster = await any_store.insert_link(
        Link(destination="https://a.example/", code="poster", utm_source="print",
             utm_medium="qr", utm_campaign="spring", campaign="spring")
    )  # fmt: skip
    assert poster.id is not None
    await any_store.write_hits(
        [Hit(poster.id, T0 + 3600, "scan", "v", "NO", None, None, "mobile", "iOS", "Safari",
             None, False, None, None)]
    )  # fmt: skip
    printed = await number(any_store, "+442079460100", link_id=poster.id)
    fair = await number(any_store, "+442079460200", campaign="fair")
    await call(any_store, printed, "CA1", talk=75, ts=T0 + 7200)  # qualified
    await call(any_store, printed, "CA2", talk=30, ts=T0 + 86400 + 60)  # the next day
    await call(any_store, fair, "CA3", talk=None, status="busy", ts=T0 + 86400 + 120)
    await call(any_store, fair, "CA4", talk=90, ts=T0 - 86400)  # before the window

    two_days = window(DAY, 2)
    campaigns = await reports_service.table(any_store, ("campaign",), two_days, None)
    rows = {r.key: r for r in campaigns.rows}
    assert (rows[("spring",)].scans, rows[("spring",)].calls) == (1, 2)
    assert (rows[("spring",)].answered_calls, rows[("spring",)].qualified_calls) == (2, 1)
    assert (rows[("fair",)].calls, rows[("fair",)].answered_calls) == (1, 0)
    assert campaigns.calls and campaigns.total().calls == 3

    links = await reports_service.table(any_store, ("link",), two_days, None)
    by_link = {r.key: r for r in links.rows}
    assert (by_link[(poster.id,)].scans, by_link[(poster.id,)].calls) == (1, 2)  # one row
    assert by_link[(None,)].calls == 1  # the campaign-only number's call has no link

    days = await reports_service.table(any_store, ("day",), two_days, None)
    by_day = {r.key: (r.scans, r.calls, r.qualified_calls) for r in days.rows}
    assert by_day == {(DAY,): (1, 1, 1), (DAY + 1,): (0, 2, 0)}

    channels = await reports_service.table(any_store, ("source", "medium"), two_days, None)
    by_channel = {r.key: r for r in channels.rows}
    printed_qr = by_channel[("print", "qr")]  # the poster's scan and its number's calls: one row
    assert (printed_qr.scans, printed_qr.calls, printed_qr.answered_calls) == (1, 2, 2)
    assert printed_qr.qualified_calls == 1
    assert (by_channel[(None, None)].calls, by_channel[(None, None)].scans) == (1, 0)  # fair
    assert channels.calls and channels.total().calls == 3

    link_days = await reports_service.table(any_store, ("link", "day"), two_days, None)
    by_link_day = {r.key: (r.scans, r.calls) for r in link_days.rows}
    assert by_link_day == {(poster.id, DAY): (1, 1), (poster.id, DAY + 1): (0, 1),
                           (None, DAY + 1): (0, 1)}  # fmt: skip

    start, end = two_days.start, two_days.end
    found = await calls_service.by_link(any_store, [poster.id, poster.id + 100], start, end)
    assert list(found) == [poster.id] and found[poster.id].calls == 2
    groups = await calls_service.by_group(any_store, "campaign", start, end)
    assert groups is not None
    assert {k: v.calls for k, v in groups.items()} == {"spring": 2, "fair": 1}
    assert await calls_service.by_group(any_store, "tag", start, end) is None
