"""Which user an identity provider names: the configured claim, else a verified e-mail."""

from __future__ import annotations

import pytest

from firstmark.domain.sso import username_from
from firstmark.errors import Forbidden


def test_the_configured_claim_names_the_user_before_the_email() -> None:
    claims = {"preferred_username": "ada", "email": "ada@example.com", "email_verified": True}
    assert username_from(claims, "preferred_username") == "ada"
    assert username_from({**claims, "upn": "ada.l"}, "upn") == "ada.l"


def test_without_the_claim_a_verified_email_names_the_user() -> None:
    claims = {"sub": "1", "email": "ada@example.com", "email_verified": True}
    assert username_from(claims, "preferred_username") == "ada@example.com"


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"email": "ada@example.com"}, "not verified"),
        ({"email": "ada@example.com", "email_verified": "true"}, "not verified"),
        ({"preferred_username": "Ada Lovelace"}, "not a username"),
        ({"sub": "1"}, "neither preferred_username nor a verified email"),
    ],
)
def test_no_usable_name_is_refused(claims: dict[str, object], says: str) -> None:
    with pytest.raises(Forbidden) as refused:
        username_from(claims, "preferred_username")
    assert says in refused.value.message
