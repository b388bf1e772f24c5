"""Event mode from a link's dashboard page: turn it on, see where the codes lead, retire the
event, turn it off; a bad schedule is named next to its field and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from dashtools import csrf_of, error_for
from firstmark.domain import audit
from firstmark.domain.links import Link
from firstmark.store import Store


def local(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


async def spring(store: Store) -> Link:
    return await store.insert_link(
        Link(destination="https://shop.example/", code="spring", kind="qr")
    )


async def set_event(dash: httpx.AsyncClient, link: Link, **fields: str) -> httpx.Response:
    form = await dash.get(f"/dashboard/links/{link.id}/event")
    return await dash.post(
        f"/dashboard/links/{link.id}/event", data={"csrf": csrf_of(form.text), **fields}
    )


async def test_turn_event_mode_on_retire_it_and_turn_it_off(
    dash: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    link = await spring(store)
    page = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert "Off: the link and its placements always lead to the destination" in page
    now = datetime.now(UTC)
    answer = await set_event(
        dash, link, starts_at=local(now - timedelta(hours=1)),
        ends_at=local(now + timedelta(hours=2)), during_url="https://shop.example/live",
        after_url="https://shop.example/thanks",
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/dashboard/links/{link.id}#event"
    page = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert "Event mode is on" in page and '<span class="badge">during</span>' in page
    assert "https://shop.example/live" in page
    scan = await anon.get("/spring")
    assert scan.headers["location"].startswith("https://shop.example/live")

    form = await dash.get(f"/dashboard/links/{link.id}/event")
    assert f'value="{local(now - timedelta(hours=1))}"' in form.text  # the form holds it
    retired = await dash.post(
        f"/dashboard/links/{link.id}/event/retire",
        data={"csrf": csrf_of(form.text), "retire_fallback": "https://shop.example/next"},
    )
    assert retired.status_code == 303
    page = (await dash.get(retired.headers["location"])).text
    assert "Event retired" in page and '<span class="badge">retired</span>' in page
    scan = await anon.get("/spring")
    assert scan.headers["location"].startswith("https://shop.example/next")

    asked = await dash.post(f"/dashboard/links/{link.id}/event/off", data={"csrf": csrf_of(page)})
    assert asked.status_code == 200 and "Turn event mode off for spring?" in asked.text
    assert await store.get_schedule(link.id or 0) is not None  # not yet
    off = await dash.post(
        f"/dashboard/links/{link.id}/event/off", data={"csrf": csrf_of(page), "confirm": "yes"}
    )
    assert off.status_code == 303
    assert await store.get_schedule(link.id or 0) is None
    assert "Event mode is off" in (await dash.get(off.headers["location"])).text
    scan = await anon.get("/spring")
    assert scan.headers["location"].startswith("https://shop.example/?")
    again = await dash.post(
        f"/dashboard/links/{link.id}/event/off", data={"csrf": csrf_of(page), "confirm": "yes"}
    )
    assert again.status_code == 404 and "not in event mode" in again.text
    found, _ = await store.list_audit(audit.Query())
    assert sorted((e.actor, e.action, e.object_id) for e in found) == [
        ("user:admin", action, str(link.id))
        for action in ("delete_event", "retire_event", "set_event")
    ]


async def test_a_bad_schedule_is_named_and_nothing_is_saved(
    dash: httpx.AsyncClient, store: Store
) -> None:
    link = await spring(store)
    now = datetime.now(UTC)
    cases = [
        ({"ends_at": local(now)}, "starts_at", "starts_at is required"),
        ({"starts_at": local(now), "ends_at": local(now - timedelta(hours=1))}, "ends_at",
         "ends_at must be later than starts_at"),
        ({"starts_at": local(now), "ends_at": local(now + timedelta(hours=1)),
          "retire_at": local(now + timedelta(hours=2))}, "fallback_url", "needs a fallback_url"),
        ({"starts_at": local(now), "ends_at": local(now + timedelta(hours=1)),
          "during_url": "javascript:alert(1)"}, "during_url", "during_url"),
        ({"starts_at": "tomorrow", "ends_at": local(now)}, "starts_at", "ISO 8601"),
    ]  # fmt: skip
    for fields, field, message in cases:
        answer = await set_event(dash, link, **fields)
        assert answer.status_code == 422, fields
        assert message in (error_for(answer.text, field) or ""), (field, answer.text)
        assert "The event was not saved" in answer.text
    assert await store.get_schedule(link.id or 0) is None


async def test_retiring_needs_somewhere_to_lead(dash: httpx.AsyncClient, store: Store) -> None:
    link = await spring(store)
    now = datetime.now(UTC)
    await set_event(dash, link, starts_at=local(now), ends_at=local(now + timedelta(hours=1)))
    form = await dash.get(f"/dashboard/links/{link.id}/event")
    answer = await dash.post(
        f"/dashboard/links/{link.id}/event/retire", data={"csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 422
    assert "say where retired codes lead" in (error_for(answer.text, "retire_fallback") or "")
    schedule = await store.get_schedule(link.id or 0)
    assert schedule is not None and schedule.retire_at is None


async def test_event_forms_need_their_csrf_token(dash: httpx.AsyncClient, store: Store) -> None:
    link = await spring(store)
    now = datetime.now(UTC)
    answer = await dash.post(
        f"/dashboard/links/{link.id}/event",
        data={"csrf": "forged", "starts_at": local(now), "ends_at": local(now + timedelta(1))},
    )
    assert answer.status_code == 403
    assert await store.get_schedule(link.id or 0) is None
    assert (await dash.get("/dashboard/links/999/event")).status_code == 404
