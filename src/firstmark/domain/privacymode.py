"""Privacy modes. `standard`: what is kept follows each visitor's consent (domain/consent.py).
`exempt`: a preset after CNIL's audience-measurement exemption, for sites that measure without
a consent banner where that rule applies: whatever a page or backend says, nothing is kept
that links a visitor across days or sites (no visitor id, no session id, no click token, no
click ids, no hashed user data), nothing is forwarded, every retention is capped at 13 months
(domain/retention.py), and an opt-out (GPC, DNT) drops the event.
"""

from __future__ import annotations

from dataclasses import replace

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import ConversionInput
from firstmark.domain.dni import NumberRequest

MODES = ("standard", "exempt")


def exempt_consent(agreed: Consent) -> Consent:
    """What exempt mode keeps of a decided consent: no grant at all, only the opt-out."""
    return Consent(gpc=agreed.gpc)


def exempt_conversion(given: ConversionInput) -> ConversionInput:
    """A backend's conversion as exempt mode keeps it: counted, with its value, and nothing
    that identifies or links the buyer."""
    return replace(
        given,
        consent=exempt_consent(given.consent),
        visitor_id=None,
        click_token=None,
        user_data={},
        click_ids={},
        client_ip=None,
        user_agent=None,
    )


def exempt_number_request(request: NumberRequest) -> NumberRequest:
    """A DNI request as exempt mode keeps it: the channel of the page, no visitor."""
    return replace(
        request,
        consent=exempt_consent(request.consent),
        visitor_id=None,
        click_token=None,
        click_ids={},
    )
