"""Dashboard forms never carry NUL or invalid text to the store, on either engine."""

from __future__ import annotations

from typing import Any

from dashtools import PASSWORD, csrf_of, log_in, make_client
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.passwords import hash_password
from firstmark.store import Store


async def test_nul_in_a_form_field_is_stripped_before_storing(
    settings: Settings, any_store: Store
) -> None:
    app: Any = create_app(settings, any_store)
    await any_store.insert_user("admin", hash_password(PASSWORD), "owner")
    async with await make_client(app) as dash:
        assert (await log_in(dash)).status_code == 303
        csrf = csrf_of((await dash.get("/dashboard/conversions")).text)
        answer = await dash.post(
            "/dashboard/goals",
            data={"csrf": csrf, "name": "purch\x00ase", "kind": "macro", "window_days": "30"},
        )
        assert answer.status_code == 303, answer.text
        assert [g.name for g in await any_store.list_goals()] == ["purchase"]
        assert (await dash.get("/dashboard/conversions")).status_code == 200
