"""The role rules: ordered roles, the scopes a user's key may hold, who may change whom."""

from __future__ import annotations

import itertools

import pytest

from firstmark.domain.keys import SCOPES, ApiKey
from firstmark.domain.roles import (
    ROLES,
    check_key_scopes,
    may_manage,
    may_use,
    parse_role,
    scopes_for,
)
from firstmark.errors import InvalidField


def test_each_role_may_do_what_the_roles_below_it_may() -> None:
    for lower, higher in itertools.pairwise(ROLES):
        for scope in SCOPES:
            assert not may_use(lower, scope) or may_use(higher, scope)
    assert scopes_for("viewer") == ()
    assert scopes_for("analyst") == ("reports:read", "links:read")
    assert set(scopes_for("editor")) == set(SCOPES) - {"admin"}
    assert scopes_for("admin") == scopes_for("owner") == ("admin",)
    assert not may_use("boss", "reports:read")  # an unknown role may do nothing


def test_a_key_is_bounded_by_its_users_role() -> None:
    key = ApiKey(prefix="p", hash="h", scopes=("admin",), user_id=1, role="analyst")
    assert key.allows("reports:read") and not key.allows("links:write")
    install = ApiKey(prefix="p", hash="h", scopes=("links:read",))
    assert install.allows("links:read") and not install.allows("reports:read")
    check_key_scopes("editor", ("links:write", "costs:write"))
    with pytest.raises(InvalidField, match="a viewer cannot hold reports:read"):
        check_key_scopes("viewer", ("reports:read",))


@pytest.mark.parametrize(
    ("actor", "current", "new", "allowed"),
    [
        ("owner", "owner", "viewer", True),
        ("admin", "editor", "admin", True),
        ("admin", "owner", "viewer", False),
        ("admin", "viewer", "owner", False),
        ("editor", "viewer", "analyst", False),
    ],
)
def test_who_may_change_whom(actor: str, current: str, new: str, allowed: bool) -> None:
    assert may_manage(actor, current, new) is allowed


def test_roles_are_read_strictly() -> None:
    assert parse_role(" Editor ") == "editor"
    for bad in ("boss", "", 3, None):
        with pytest.raises(InvalidField):
            parse_role(bad)
