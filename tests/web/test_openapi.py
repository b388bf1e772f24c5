"""The API's contract: /api/v1/openapi.json lists every route the app answers, the reference
page renders it from vendored files, and what the document declares is what is enforced."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.routing import Route

from firstmark.domain.schema import INT64_MAX
from firstmark.web import api
from firstmark.web.api.contract import ApiRoute, Undeclared, document, op, operations


async def _spec(anon: httpx.AsyncClient) -> dict[str, Any]:
    answer = await anon.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    spec: dict[str, Any] = answer.json()
    return spec


async def test_the_document_lists_every_api_route_and_nothing_else(
    anon: httpx.AsyncClient,
) -> None:
    spec = await _spec(anon)
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    mounted = set()
    for route in api.routes:
        assert isinstance(route, ApiRoute), f"{route} is not declared with contract.op"
        path = route.operation.openapi_path
        mounted |= {(path, m) for m in route.methods or () if m != "HEAD"}
    assert documented == mounted
    assert len(documented) >= 60
    ids = [o["operationId"] for ops in spec["paths"].values() for o in ops.values()]
    assert len(ids) == len(set(ids))


def test_a_route_without_a_declaration_fails_the_document() -> None:
    async def handler(request: Any) -> Any: ...

    with pytest.raises(Undeclared):
        document([*api.routes, Route("/api/v1/new", handler)], "x")
    assert len(operations([op("GET", "/api/v1/new", handler, scope="admin")])) == 1


async def test_operations_describe_parameters_bodies_and_errors(anon: httpx.AsyncClient) -> None:
    spec = await _spec(anon)
    create = spec["paths"]["/api/v1/links"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["destination"]
    assert body["properties"]["redirect_status"]["maximum"] == 308
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    one = spec["paths"]["/api/v1/links/{link_id}"]["get"]
    [link_id] = one["parameters"]
    assert link_id["in"] == "path" and link_id["schema"]["maximum"] == INT64_MAX
    listing = spec["paths"]["/api/v1/links"]["get"]
    assert {"page", "per_page", "q", "archived"} <= {p["name"] for p in listing["parameters"]}
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    qr = spec["paths"]["/api/v1/links/{link_id}/qr"]["get"]["responses"]["200"]["content"]
    assert "image/png" in qr and "image/svg+xml" in qr


async def test_the_reference_page_loads_only_vendored_files(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/apidocs.js"' in page.text and "http" not in page.text.replace(
        "http-equiv", ""
    )
    for asset in ("/static/apidocs.js", "/static/apidocs.css"):
        assert (await anon.get(asset)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "field"),
    [
        ("GET", "/api/v1/links", {"params": {"colour": "red"}}, 400, "colour"),
        ("GET", "/api/v1/links", {"params": {"per_page": "9" * 30}}, 422, "per_page"),
        ("GET", f"/api/v1/links/{2**64}", {}, 422, "link_id"),
        ("GET", f"/api/v1/conversions/{2**63}", {}, 422, "conversion_id"),
        ("POST", "/api/v1/links", {"json": {"destination": ["https://a.example/"]}}, 422,
         "destination"),
        ("POST", "/api/v1/links", {"json": {"destination": "https://a.ex/", "max_hits": 2**64}},
         422, "max_hits"),
        ("POST", "/api/v1/links", {"json": {"destination": "https://a.example/\u0000"}}, 422,
         "destination"),
        ("POST", "/api/v1/goals", {"json": {"name": "signup", "kind": ["macro"]}}, 422, "kind"),
        ("POST", "/api/v1/conversions",
         {"json": {"conversions": [{"event_id": "e1", "goal": "g", "value": 2**70}]}}, 422,
         "conversions[0].value"),
        ("PUT", "/api/v1/pools/main", {"json": {"lease_minutes": 2**63}}, 422, "lease_minutes"),
        ("GET", "/api/v1/reports/overview", {"params": {"from": "0001-01-01T00:00:00+14:00"}},
         422, "from"),
        ("GET", "/api/v1/costs", {"params": {"to": "9999-12-31T23:59:59-14:00"}}, 422, "to"),
        ("GET", "/api/v1/calls", {"params": {"since": "0001-01-01T00:00:00+14:00"}}, 422,
         "since"),
        ("POST", "/api/v1/links", {"json": {"destination": "https://a.ex/",
                                            "expires_at": "9999-12-31T23:59:59-14:00"}},
         422, "expires_at"),
        ("POST", "/api/v1/costs/import",
         {"content": b'date,campaign,spend\n2026-01-01,"' + b"a" * 140_000 + b'",1\n',
          "headers": {"content-type": "text/csv"}}, 422, "file"),
    ],
)  # fmt: skip
async def test_what_the_document_declares_is_enforced(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    field: str,
) -> None:
    answer = await client.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["field"] == field
    assert (await client.get("/api/v1/links")).json()["total"] == 0


async def test_scopes_are_checked_before_anything_else(
    anon: httpx.AsyncClient, make_key: Any
) -> None:
    assert (await anon.get("/api/v1/links", params={"colour": "red"})).status_code == 401
    key = await make_key("links:read")
    answer = await anon.post(
        "/api/v1/links", json={"x": 1}, headers={"authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 403


async def test_dates_outside_the_window_are_refused_before_storing(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/goals", json={"name": "purchase"})
    for ts in ("0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z", 1e300, -5):
        answer = await client.post(
            "/api/v1/conversions", json={"event_id": "e1", "goal": "purchase", "ts": ts}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "ts"
    assert (await client.get("/api/v1/conversions")).json()["total"] == 0
    link = (await client.post("/api/v1/links", json={"destination": "https://a.ex/"})).json()
    for body in (
        {"name": "p", "starts_on": "0001-01-01"},
        {"name": "p", "ends_on": "9999-12-31"},
    ):
        answer = await client.post(f"/api/v1/links/{link['id']}/placements", json=body)
        assert answer.status_code == 422
    csv = b'name,code\n"' + b"x" * 140_000 + b'",\n'
    answer = await client.post(
        f"/api/v1/links/{link['id']}/placements",
        content=csv,
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "file"
    assert (await client.get(f"/api/v1/links/{link['id']}/placements")).json()["items"] == []
