"""Alerts as an operator meets them: each found from the store, raised once while it stands,
resolved when it no longer does, raised again if it comes back, and delivered as the
`alert.raised` webhook and one e-mail."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

from firstmark.config import Settings
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, Destination, outbox_targets
from firstmark.domain.goals import Goal
from firstmark.domain.hits import Hit
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.sealing import Sealer
from firstmark.services import alerts, webhooks
from firstmark.store import Store
from smtptools import smtp_server

DAY = 86_400.0
DEAD = "forwarding.dead_letters"
ADS = Consent(analytics=True, ad_user_data=True, ad_personalization=True)


def hit(link_id: int, ts: float) -> Hit:
    return Hit(link_id, ts, "click", f"v{ts}", "NO", None, None, "mobile", "iOS", "Safari",
               None, False, None, None)  # fmt: skip


async def link(store: Store, code: str) -> int:
    saved = await store.insert_link(Link(destination=f"https://shop.example/{code}", code=code))
    assert saved.id is not None
    return saved.id


async def health(store: Store, link_id: int, ok: bool) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    status = 200 if ok else 404
    error = None if ok else "HTTP 404"
    await store.record_health([Health(link_id, "https://shop.example/", now, ok, status, error)])


async def seed(store: Store, now: float) -> dict[str, int]:
    """A link that fails its health check; a link with clicks every day for a week and none
    since yesterday; a link still clicked today; a destination its platform refused."""
    ids = {code: await link(store, code) for code in ("broken", "stopped", "busy")}
    await health(store, ids["broken"], ok=False)
    await health(store, ids["busy"], ok=True)
    day_before_quiet = now - 2 * DAY
    steady = [
        hit(ids[code], day_before_quiet - n * DAY) for code in ("stopped", "busy") for n in range(8)
    ]
    await store.write_hits([*steady, hit(ids["busy"], now - 3600)])
    dest = await store.insert_destination(
        Destination(platform="meta", name="meta-eu", credentials_sealed="x",
                    credential_fields=("access_token",), goals={})
    )  # fmt: skip
    assert dest.id is not None
    await store.set_destination_auth(dest.id, "needs_reauth", "token expired")
    return {**ids, "destination": dest.id}


async def test_each_alert_is_raised_once_resolved_and_raised_again(
    store: Store, settings: Settings
) -> None:
    now = time.time()
    ids = await seed(store, now)
    raised = await alerts.check(store, settings, now)
    assert sorted((a.kind, a.subject) for a in raised) == [
        ("destination.needs_reauth", f"destination:{ids['destination']}"),
        ("link.failing", f"link:{ids['broken']}"),
        ("traffic.stopped", f"link:{ids['stopped']}"),
    ]
    assert await alerts.check(store, settings, now + 300) == []  # still standing: not again

    await health(store, ids["broken"], ok=True)  # fixed
    assert await alerts.check(store, settings, now + 600) == []
    standing = await store.list_alerts(open_only=True)
    assert f"link:{ids['broken']}" not in {a.subject for a in standing}
    [ended] = [a for a in await store.list_alerts() if a.resolved_at is not None]
    assert ended.subject == f"link:{ids['broken']}" and ended.resolved_at == now + 600

    await health(store, ids["broken"], ok=False)  # broken again: a new occurrence
    [again] = await alerts.check(store, settings, now + 900)
    assert (again.subject, again.raised_at) == (f"link:{ids['broken']}", now + 900)
    assert again.id != ended.id


async def test_a_dead_letter_spike_is_more_dead_letters_in_the_hour_than_allowed(
    store: Store, settings: Settings
) -> None:
    await store.insert_destination(
        Destination(platform="meta", name="meta", credentials_sealed="x",
                    credential_fields=("access_token",), goals={"purchase": "Purchase"})
    )  # fmt: skip
    goal = await store.insert_goal(Goal(name="purchase"))
    assert goal.id is not None
    for n in range(3):
        conv = Conversion(event_id=f"e-{n}", goal_id=goal.id, goal="purchase", ts=time.time(),
                          consent=ADS, source="server")  # fmt: skip
        targets = outbox_targets(conv, await store.list_destinations())
        await store.insert_conversions([conv], [targets])
    items = await store.claim_outbox("w", 10, 30)
    dead = [Attempt(item.id, "dead", None, 400, "HTTP 400: bad pixel", 9.0) for item in items]
    assert await store.finish_outbox("w", dead) == 3
    now = time.time()
    allowed = replace(settings, alert_dead_letters=3)
    assert (await alerts.findings(store, allowed, now))[DEAD] == []  # 3: not more than 3
    [spike] = (await alerts.findings(store, replace(allowed, alert_dead_letters=2), now))[DEAD]
    assert spike.detail["dead"] == 3
    # An hour later those three are old news.
    assert (await alerts.findings(store, replace(allowed, alert_dead_letters=2), now + 3700))[
        DEAD
    ] == []


async def test_new_alerts_go_to_webhooks_and_one_email(store: Store, settings: Settings) -> None:
    sealer = Sealer(settings.secret_key, "webhook-secrets")
    await webhooks.create(
        store, sealer, {"url": "http://127.0.0.1:9/in", "events": ["alert.raised"]},
        allow_private=True,
    )  # fmt: skip
    await seed(store, time.time())
    async with smtp_server() as server:
        mailing = replace(settings, smtp_url=server.url, report_to=("ops@example.com",))
        raised = await alerts.check_and_deliver(store, mailing)
        assert raised is not None and len(raised) == 3
        assert await alerts.check_and_deliver(store, mailing) == []  # told once
    messages = await store.claim_webhooks("test", 100, 60.0)
    bodies = [json.loads(m.body) for m in messages]
    assert sorted(b["data"]["alert"]["kind"] for b in bodies) == [
        "destination.needs_reauth", "link.failing", "traffic.stopped",
    ]  # fmt: skip
    assert {b["type"] for b in bodies} == {"alert.raised"}
    reauth = next(b for b in bodies if b["data"]["alert"]["kind"] == "destination.needs_reauth")
    assert reauth["data"]["alert"]["detail"]["destination"]["name"] == "meta-eu"
    [mail] = server.received
    assert mail.recipients == ["ops@example.com"]
    assert mail.message["Subject"] == "firstmark: 3 new alerts"
    assert "meta-eu" in mail.html() and "Traffic stopped" in mail.text()
