"""`GET /n`: the query the script sends for a tracking number, read strictly into a lease.

The query (every value as text; an unknown or repeated parameter is refused by name):

| parameter | meaning |
|---|---|
| `site` | the site key (required) |
| `pool` | a pool name; without it, the one pool set up for the site |
| `lease` | the lease to renew (the heartbeat); when it is over a new one is taken |
| `analytics_storage`, `ad_storage`, `ad_user_data`, `ad_personalization` | Consent Mode v2, `granted` or `denied`; unsaid means denied |
| `tcf` | an IAB TCF v2.2 string; when given it must grant analytics too |
| `gpc` | `1` when the browser sends Global Privacy Control |
| `vid` | the script's visitor id; kept only with analytics consent |
| `ref` | the referring page's host (never its URL) |
| `utm_*`, the click-token parameter (`fm_click`), ad click ids | the landing page's |

What the lease keeps follows the consent rules of events (docs/privacy.md): UTM values, the link of a
signed click token and the referrer host always (they are aggregate), the visitor id and the
click token only with analytics consent, click ids only with ads consent; GPC keeps neither.
"""  # noqa: E501

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from firstmark.domain import consent as consent_rules
from firstmark.domain.calls import Lease
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.events import CLICK_IDS, ID, MAX_LANDING_VALUE, click_ids_of, utm_of
from firstmark.domain.links import HOST_PATTERN
from firstmark.domain.numbers import Pool, pool_name
from firstmark.domain.phones import display
from firstmark.domain.sites import KEY_PATTERN
from firstmark.domain.utm import UTM_FIELDS
from firstmark.errors import Forbidden, InvalidField

QUERY_LIMIT = 8 * 1024
# A pool's numbers are few and shown over and over: format each once.
_display = lru_cache(maxsize=8192)(display)
LEASE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
CONSENT_NAMES = (*consent_rules.MODE_NAMES, *consent_rules.OTHER_MODE_NAMES)
_PLAIN = frozenset({"site", "pool", "lease", "tcf", "gpc", "vid", "ref", *CONSENT_NAMES})


@dataclass(frozen=True, slots=True)
class NumberRequest:
    """One `/n` request, checked, with only what its consent allows to be kept."""

    site_key: str
    pool: str | None = None
    renew: str | None = None  # the lease id to renew
    consent: Consent = field(default_factory=Consent)
    visitor_id: str | None = None
    click_token: str | None = None
    link_id: int | None = None
    utm: Mapping[str, str | None] = field(default_factory=dict)
    referrer_host: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)


def parse(
    pairs: Sequence[tuple[str, str]],
    *,
    signer: ClickSigner,
    token_param: str = "fm_click",
    gpc: bool = False,
    page_host: str = "",
) -> NumberRequest:
    """Check the query. `gpc` is the request's `Sec-GPC: 1`; `page_host` is the page's host
    (from its Origin), so that a referrer from the site itself is not kept."""
    landing_names = {*UTM_FIELDS, token_param, *CLICK_IDS}
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in _PLAIN and name not in landing_names:
            raise InvalidField(name[:64], f"unknown parameter {name[:64]!r}", code="unknown_field")
        if name in given:
            raise InvalidField(name, f"{name} is given twice")
        given[name] = value
    site = given.get("site", "")
    if not site:
        raise InvalidField("site", "site is required: the site key", code="required")
    if not KEY_PATTERN.fullmatch(site):
        raise InvalidField("site", "site must be a site key like fms_…")
    pool = pool_name(given["pool"]) if given.get("pool") else None
    renew = given.get("lease") or None
    if renew is not None and not LEASE_ID.fullmatch(renew):
        raise InvalidField("lease", "lease must be the id of a lease this server gave")
    try:
        agreed = consent_rules.from_page(
            {k: v for k, v in given.items() if k in CONSENT_NAMES},
            tcf=given.get("tcf") or None,
            gpc=gpc or _flag(given.get("gpc", ""), "gpc"),
        )
    except InvalidField as exc:  # name the parameter as sent, not the event's consent.<name>
        name = (exc.field or "").removeprefix("consent.")
        raise InvalidField(name, exc.message.replace("consent.", ""), code=exc.code) from None
    vid = given.get("vid") or None
    if vid is not None and not ID.fullmatch(vid):
        raise InvalidField("vid", "vid must be 8-64 letters, digits or _ . : -")
    landing = {k: v for k, v in given.items() if k in landing_names and v}
    for name, value in landing.items():
        if len(value) > MAX_LANDING_VALUE:
            raise InvalidField(name, f"{name} is longer than {MAX_LANDING_VALUE} characters")
    token = landing.get(token_param)
    click = signer.verify(token) if token else None
    keep = agreed.identifiers
    return NumberRequest(
        site_key=site,
        pool=pool,
        renew=renew,
        consent=agreed,
        visitor_id=vid if keep else None,
        click_token=token if keep and click else None,
        link_id=click.link_id if click else None,
        utm=utm_of(landing),
        referrer_host=_referrer(given.get("ref", ""), page_host),
        click_ids=click_ids_of(landing) if agreed.click_ids else {},
    )


def _flag(value: str, name: str) -> bool:
    if value in ("", "0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise InvalidField(name, f"{name} must be 1 or 0")


def _referrer(value: str, page_host: str) -> str | None:
    """The referring host, as events keep it (lower case, without `www.`); none from the site
    itself."""
    host = value.strip().lower().rstrip(".")
    if not host:
        return None
    if not HOST_PATTERN.fullmatch(host):
        raise InvalidField("ref", "ref must be the referring page's host name, not its URL")
    host = host.removeprefix("www.")
    own = page_host.lower().removeprefix("www.")
    return None if host == own else host


def pick_pool(pools: Iterable[Pool], name: str | None, site_id: int) -> Pool:
    """The pool a request draws from: the one named, else the site's only pool. A pool set up
    for another site is refused (one site must not drain another's numbers)."""
    if name is not None:
        for pool in pools:
            if pool.name == name:
                if pool.site_id not in (None, site_id):
                    raise Forbidden(
                        f"pool {name!r} belongs to another site", field="pool", code="other_site"
                    )
                return pool
        raise InvalidField("pool", f"there is no pool {name!r}", code="unknown_pool")
    own = [pool for pool in pools if pool.site_id == site_id]
    if len(own) == 1:
        return own[0]
    if not own:
        raise InvalidField("pool", "no pool is set up for this site", code="unknown_pool")
    raise InvalidField("pool", "this site has several pools: name one with pool=", code="required")


def draft(
    request: NumberRequest, pool: Pool, *, site_id: int, now: float, lease_id: str | None = None
) -> Lease:
    """The lease to take: the session's source, for `pool.lease_s` from now."""
    return Lease(
        id=lease_id or secrets.token_urlsafe(16),
        pool=pool.name,
        started=now,
        expires=now + pool.lease_s,
        consent=request.consent,
        site_id=site_id,
        visitor_id=request.visitor_id,
        click_token=request.click_token,
        link_id=request.link_id,
        utm_source=request.utm.get("utm_source"),
        utm_medium=request.utm.get("utm_medium"),
        utm_campaign=request.utm.get("utm_campaign"),
        utm_term=request.utm.get("utm_term"),
        utm_content=request.utm.get("utm_content"),
        referrer_host=request.referrer_host,
        click_ids=dict(request.click_ids),
    )


def renew_every(pool: Pool, most: float) -> int:
    """Seconds between heartbeats: at most `most`, and three beats per lease at least, so a
    beat or two can be lost (a throttled background tab) before the lease runs out."""
    return max(1, int(min(most, pool.lease_s / 3)))


def answer(
    lease: Lease | None, pool: Pool, *, renew_s: int, renewed: bool = False
) -> dict[str, Any]:
    """The reply: the leased number, else the pool's fallback (no lease), else no number (the
    page keeps its own). `renewed` is false when a new lease replaces one that was over."""
    if lease is not None:
        return {
            "number": lease.e164,
            "display": _display(lease.e164),
            "lease": lease.id,
            "expires": int(lease.expires),
            "renew_s": renew_s,
            "renewed": renewed,
        }
    number = pool.fallback
    return {
        "number": number,
        "display": _display(number) if number else None,
        "lease": None,
        "expires": None,
        "renew_s": None,
        "renewed": False,
    }
