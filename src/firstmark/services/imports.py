"""Importing links from another shortener: each row created as a link with its code kept, and
its historical click total added to the rollups on the day the export was made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from firstmark.domain import links
from firstmark.domain.imports import Outcome, Row
from firstmark.domain.links import LinkPolicy
from firstmark.domain.times import now
from firstmark.errors import FirstmarkError, RowError, SlugTaken
from firstmark.services import links as links_service
from firstmark.store import Store

Progress = Callable[[int, int], None]  # (rows done, rows in all)


async def import_links(
    store: Store,
    rules: LinkPolicy,
    rows: Sequence[Row],
    *,
    domain: str = "",
    clicks_on: datetime | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Create each row's link. A code already in use is a conflict (the existing link is left
    as it is); a row the link rules refuse is an error; neither stops the others."""
    outcome = Outcome()
    day = int((clicks_on or now()).timestamp()) // 86400
    for done, row in enumerate(rows, 1):
        body = {**row.body, "domain": domain} if domain else row.body
        try:
            # Every row brings its code, so there is no redrawing; UTM warnings are not shown
            # for an import, which saves reading the values in use once a row.
            prepared = links.new_link(body, rules, now())
            link = await store.insert_link(await links_service.with_password(prepared))
        except SlugTaken:
            outcome.conflicts.append(
                RowError(row.row, "code", f"{body.get('code')!r} is already in use; kept as it is")
            )
        except FirstmarkError as exc:
            outcome.errors.append(RowError(row.row, exc.field or "link", exc.message))
        else:
            assert link.id is not None
            outcome.imported.append(link.code)
            if row.clicks:
                await store.add_imported_clicks(link.id, day, row.clicks)
                outcome.clicks += row.clicks
        if progress is not None:
            progress(done, len(rows))
    return outcome
