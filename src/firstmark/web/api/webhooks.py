"""REST API for outgoing webhooks: endpoints, their secret (shown once, rotated with an
overlap), their delivery log, a test event and replaying dead messages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import webhooks
from firstmark.domain.audit import key_actor
from firstmark.domain.schema import Arr, Bool, Int, Obj, Str
from firstmark.domain.webhooks import Endpoint
from firstmark.services import audit
from firstmark.services import webhooks as service
from firstmark.web.api import paging
from firstmark.web.api.auth import api_key
from firstmark.web.api.contract import ITEMS, Reply, op
from firstmark.web.http import json_response, read_json
from firstmark.web.runtime import runtime


async def _found(request: Request) -> Endpoint:
    return await service.found(runtime(request).store, request.path_params["webhook_id"])


async def _answer(
    request: Request, ep: Endpoint, status: int = 200, secret: str | None = None
) -> Response:
    assert ep.id is not None
    counts = await runtime(request).store.webhook_counts(ep.id)
    return json_response(webhooks.to_json(ep, counts, secret), status)


async def create_webhook(request: Request) -> Response:
    key = api_key(request)
    rt = runtime(request)
    saved, secret = await service.create(
        rt.store, rt.webhook_sealer, await read_json(request),
        allow_private=rt.settings.webhook_allow_private,
    )  # fmt: skip
    await audit.record(rt.store, key_actor(key.prefix), "create", "webhook", saved.id)
    return await _answer(request, saved, 201, secret)


async def list_webhooks(request: Request) -> Response:
    store = runtime(request).store
    items = []
    for ep in await store.list_webhooks():
        assert ep.id is not None
        items.append(webhooks.to_json(ep, await store.webhook_counts(ep.id)))
    return json_response({"items": items})


async def get_webhook(request: Request) -> Response:
    return await _answer(request, await _found(request))


async def update_webhook(request: Request) -> Response:
    key = api_key(request)
    current = await _found(request)
    data = await read_json(request)
    rt = runtime(request)
    saved = await service.update(
        rt.store, current, data, allow_private=rt.settings.webhook_allow_private
    )
    await audit.record(
        rt.store, key_actor(key.prefix), "update", "webhook", saved.id, audit.fields(data)
    )
    return await _answer(request, saved)


async def delete_webhook(request: Request) -> Response:
    key = api_key(request)
    ep = await _found(request)
    assert ep.id is not None
    store = runtime(request).store
    await service.remove(store, ep)
    await audit.record(store, key_actor(key.prefix), "delete", "webhook", ep.id)
    return Response(status_code=204)


async def rotate_webhook(request: Request) -> Response:
    """A new secret, shown once; the previous one signs too for a day."""
    key = api_key(request)
    ep = await _found(request)
    rt = runtime(request)
    saved, secret = await service.rotate(rt.store, rt.webhook_sealer, ep)
    await audit.record(rt.store, key_actor(key.prefix), "rotate", "webhook", saved.id)
    return await _answer(request, saved, 200, secret)


async def list_webhook_deliveries(request: Request) -> Response:
    """The delivery log, newest first; `before` (an id) pages back."""
    ep = await _found(request)
    rows = runtime(request).store.list_webhook_deliveries
    return await paging.delivery_log(request, ep.id, rows, webhooks.delivery_json)


async def send_test_event(request: Request) -> Response:
    """Queue one `webhook.test` event for this endpoint (delivered like any other)."""
    ep = await _found(request)
    queued = await service.send_test(runtime(request).store, ep)
    return json_response({"queued": queued}, 202)


async def replay_webhook(request: Request) -> Response:
    """Dead messages of this endpoint go back to pending (after a fix)."""
    ep = await _found(request)
    replayed = await runtime(request).store.replay_webhooks(ep.id)
    return json_response({"replayed": replayed})


WEBHOOK = Obj(
    {
        "url": Str(max_length=webhooks.MAX_URL, description="http(s) URL that receives events"),
        "events": Arr(Str(enum=webhooks.EVENTS), min_items=1, max_items=webhooks.MAX_EVENTS),
        "description": Str(max_length=webhooks.MAX_DESCRIPTION),
        "click_mode": Str(enum=webhooks.CLICK_MODES,
                          description="link.clicked and qr.scanned: per-minute counts or 1 in N"),
        "sample_every": Int(1, webhooks.MAX_SAMPLE_EVERY),
        "enabled": Bool(),
    }
)  # fmt: skip
ID = "/api/v1/webhooks/{webhook_id:int}"

routes = [
    op("POST", "/api/v1/webhooks", create_webhook, scope="admin",
       summary="Add a webhook endpoint", body=Obj(WEBHOOK.properties, required=("url", "events")),
       replies=[Reply(201, "The endpoint with its secret (shown once)")]),
    op("GET", "/api/v1/webhooks", list_webhooks, replies=[ITEMS], scope="admin",
       summary="List webhook endpoints"),
    op("GET", ID, get_webhook, scope="admin", summary="One webhook endpoint"),
    op("PATCH", ID, update_webhook, scope="admin", summary="Change a webhook endpoint",
       body=WEBHOOK),
    op("DELETE", ID, delete_webhook, scope="admin", summary="Remove a webhook endpoint",
       replies=[Reply(204, "Deleted", media=())]),
    op("POST", f"{ID}/rotate", rotate_webhook, scope="admin",
       summary="Rotate the signing secret (the old one stays valid for a day)"),
    op("GET", f"{ID}/deliveries", list_webhook_deliveries, replies=[ITEMS], scope="admin",
       summary="The endpoint's delivery log, newest first", query=paging.PAGE),
    op("POST", f"{ID}/test", send_test_event, scope="admin", summary="Send a test event",
       replies=[Reply(202, "Queued")]),
    op("POST", f"{ID}/replay", replay_webhook, scope="admin",
       summary="Dead messages back to pending"),
]  # fmt: skip
