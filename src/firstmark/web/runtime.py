"""What a running app holds for its handlers: one frozen, typed object on `app.state.runtime`.

`create_app` (app.py) builds every part once and stores a `Runtime`; handlers reach it with
`runtime(request)`. The parts themselves keep their own state (queues, caches, counters); the
runtime only says which ones this app uses. A test that needs another part swaps the whole
object, e.g. `app.state.runtime = dataclasses.replace(app.state.runtime, settings=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from firstmark.domain.phones import hash_key

if TYPE_CHECKING:
    from firstmark.config import Settings
    from firstmark.domain.clicks import ClickSigner
    from firstmark.forward.webhooks import WebhookSender
    from firstmark.forward.worker import Forwarder
    from firstmark.ingest.events import EventWriter, GoalCache
    from firstmark.ingest.hits import HitWriter
    from firstmark.sealing import Sealer
    from firstmark.services.workers import Workers
    from firstmark.store import Store
    from firstmark.web.collect import CollectApp, SiteCache
    from firstmark.web.dashboard.views import Dashboard
    from firstmark.web.dni import DniApp, PoolCache
    from firstmark.web.linkcache import LinkCache
    from firstmark.web.looplag import LoopLag


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    store: Store
    writer: HitWriter  # clicks and scans, batched into the store
    cache: LinkCache  # the redirect path's links; edits invalidate it
    event_writer: EventWriter  # page events from /e and their web conversions
    goals: GoalCache
    sites: SiteCache
    pools: PoolCache  # DNI pools, read by /n and the call webhooks
    signer: ClickSigner  # click tokens
    dashboard: Dashboard  # templates, sessions and the login throttle
    credentials_sealer: Sealer  # destinations' platform credentials at rest
    client_sealer: Sealer  # client data riding the outbox
    forwarder: Forwarder  # the outbox worker
    probe_forwarder: Forwarder  # sends a destination's test event (the worker, unless swapped)
    dni: DniApp  # /n, for its lease counters
    collect: CollectApp  # POST /e, also answered in the HTTP protocol (web/fastpath.py)
    workers: Workers  # CPU work off the event loop: hashing, QR, images, file parsing
    loop_lag: LoopLag  # how late the event loop runs, for /metrics
    webhook_sealer: Sealer  # webhook endpoints' signing secrets at rest
    webhook_sender: WebhookSender  # delivers queued webhook messages

    @property
    def caller_key(self) -> bytes:
        """The key that hashes callers' numbers (derived from the server secret)."""
        return hash_key(self.settings.secret_key)


def runtime(conn: HTTPConnection) -> Runtime:
    """The runtime of the app serving this request."""
    found: Runtime = conn.app.state.runtime
    return found
