"""Storage: the Store protocol and its engines. Only this package writes SQL.

Callers import from here: the protocols and query types (protocol.py), `create_store`, the
engines themselves (imported only when asked for: each pulls in its driver) and the few row
helpers the app shares with the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from firstmark.errors import StoreUnavailable
from firstmark.store.failures import row_level
from firstmark.store.protocol import (
    CallQuery,
    CallStore,
    CallTotal,
    ChangeCallback,
    ChannelStore,
    ConversionStore,
    CostStore,
    DestinationStore,
    Domain,
    DomainStore,
    EventStore,
    FunnelStore,
    GoalStore,
    GroupRow,
    HitStore,
    Invitation,
    Job,
    JobStore,
    KeyStore,
    LinkQuery,
    LinkStore,
    NumberStore,
    OutboxStore,
    QrStore,
    ReportStore,
    RollupRow,
    SchemaStore,
    SessionStore,
    SiteStore,
    Store,
    TableStore,
    User,
    UserStore,
    VisitStore,
)
from firstmark.store.rows.links import link_from_row, link_params
from firstmark.store.rows.values import epoch, epoch_day, from_epoch

if TYPE_CHECKING:
    from firstmark.store.postgres.store import PostgresStore
    from firstmark.store.sqlite.store import SQLiteStore

__all__ = [
    "CallQuery",
    "CallStore",
    "CallTotal",
    "ChangeCallback",
    "ChannelStore",
    "ConversionStore",
    "CostStore",
    "DestinationStore",
    "Domain",
    "DomainStore",
    "EventStore",
    "FunnelStore",
    "GoalStore",
    "GroupRow",
    "HitStore",
    "Invitation",
    "Job",
    "JobStore",
    "KeyStore",
    "LinkQuery",
    "LinkStore",
    "NumberStore",
    "OutboxStore",
    "PostgresStore",
    "QrStore",
    "ReportStore",
    "RollupRow",
    "SQLiteStore",
    "SchemaStore",
    "SessionStore",
    "SiteStore",
    "Store",
    "TableStore",
    "User",
    "UserStore",
    "VisitStore",
    "create_store",
    "epoch",
    "epoch_day",
    "from_epoch",
    "link_from_row",
    "link_params",
    "row_level",
]


def __getattr__(name: str) -> Any:
    """The engines on first use, so importing the package loads neither driver."""
    if name == "SQLiteStore":
        from firstmark.store.sqlite.store import SQLiteStore

        return SQLiteStore
    if name == "PostgresStore":
        from firstmark.store.postgres.store import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_store(
    url: str, *, timeout: float = 5.0, pool_size: int = 10, startup_wait: float = 30.0
) -> Store:
    """The engine for a FIRSTMARK_DATABASE_URL (not yet opened). `pool_size` and
    `startup_wait` (how long to retry an unreachable server) apply to PostgreSQL."""
    if url.startswith("sqlite:"):
        from firstmark.store.sqlite.store import SQLiteStore

        return SQLiteStore(url, timeout=timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from firstmark.store.postgres.store import PostgresStore

        return PostgresStore(url, timeout=timeout, pool_size=pool_size, startup_wait=startup_wait)
    raise StoreUnavailable(
        f"unsupported database URL {url.split('://', 1)[0]}://…: "
        "use sqlite:///path/to/file.db or postgresql://user@host/database"
    )
