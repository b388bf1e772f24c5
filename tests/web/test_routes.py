"""The route lists app.py mounts: every API route once, under /api/v1."""

from __future__ import annotations

from starlette.routing import Route

from firstmark.web import api


def test_api_routes_are_listed_once_under_api_v1() -> None:
    paths = [(r.path, frozenset(r.methods or ())) for r in api.routes if isinstance(r, Route)]
    assert len(paths) == len(api.routes) == len(set(paths))
    assert all(path.startswith("/api/v1/") for path, _ in paths)
