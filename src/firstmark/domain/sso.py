"""Single sign-on, the pure part: which firstmark username an OpenID Connect provider vouches
for.

The username is the configured claim (`preferred_username` by default), else the e-mail
address. An e-mail address counts only when the provider says it verified it: otherwise anyone
who could type a colleague's address into their profile at the provider would sign in here as
that colleague.
"""

from __future__ import annotations

from collections.abc import Mapping

from firstmark.domain.invitations import check_username
from firstmark.errors import Forbidden, InvalidField

EMAIL = "email"


def username_from(claims: Mapping[str, object], claim: str) -> str:
    """The username in `claims`; Forbidden when there is none this install can use."""
    for name in dict.fromkeys((claim, EMAIL)):
        value = claims.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        if name == EMAIL and claims.get("email_verified") is not True:
            raise Forbidden(
                "The identity provider has not verified this account's e-mail address, so it "
                "cannot name a user of this install."
            )
        try:
            return check_username(value.strip())
        except InvalidField:
            raise Forbidden(
                f"The identity provider's {name} is not a username this install can use "
                "(1-64 letters, digits, '.', '_', '@' or '-')."
            ) from None
    raise Forbidden(
        f"The identity provider sent neither {claim} nor a verified email; ask its admin to "
        "release one of them to this install."
    )
