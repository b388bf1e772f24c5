"""The route lists app.py mounts: every API route once, under /api/v1; the dashboard's under
/dashboard, its catch-all 404 page last."""

from __future__ import annotations

from starlette.routing import Route

from firstmark.web import api, dashboard


def test_api_routes_are_listed_once_under_api_v1() -> None:
    paths = [(r.path, frozenset(r.methods or ())) for r in api.routes if isinstance(r, Route)]
    assert len(paths) == len(api.routes) == len(set(paths))
    assert all(path.startswith("/api/v1/") for path, _ in paths)


def test_dashboard_routes_end_with_the_catch_all() -> None:
    routes = [r for r in dashboard.routes if isinstance(r, Route)]
    assert len(routes) == len(dashboard.routes)
    assert all(r.path.startswith("/dashboard") for r in routes)
    assert [r.path for r in routes].index("/dashboard/{rest:path}") == len(routes) - 1
