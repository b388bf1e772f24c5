"""`firstmark destination connect`, `list` showing a destination that needs
re-authorisation, and `destination test` refusing or admitting it did not reach the platform."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from clitools import env, run

from firstmark.config import from_env
from firstmark.store import create_store

__all__ = ["env"]  # the fixture, imported for the tests below


def test_a_refresh_token_is_pasted_and_the_destination_resumes(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "goal", "add", "purchase")
    code, out, err = run(
        capsys, "destination", "add", "linkedin", "--name", "li",
        "--credential", "client_id=86abc", "--credential", "client_secret=s3cret",
        "--goal", "purchase=104012", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["auth"]["status"] == "needs_reauth"
    code, out, _ = run(capsys, "destination", "list")
    assert "NEEDS RE-AUTHORISATION" in out and "not connected" in out
    (env / "token.txt").write_text("AQX-refresh-token-value\n")
    code, out, err = run(
        capsys, "destination", "connect", "li", "--refresh-token-file", "token.txt"
    )
    assert code == 0 and "connected (ok)" in out, err
    code, out, _ = run(capsys, "destination", "list", "--json")
    item = json.loads(out)["items"][0]
    assert item["auth"]["status"] == "ok" and item["auth"]["method"] == "refresh_token"
    assert "AQX-refresh-token-value" not in out

    async def stored() -> str:
        store = create_store(from_env().database_url)
        await store.open()
        try:
            [dest] = await store.list_destinations()
            return dest.credentials_sealed
        finally:
            await store.close()

    assert "AQX-refresh-token-value" not in asyncio.run(stored())  # sealed
    code, _, err = run(capsys, "destination", "connect", "li")
    assert code == 1 and "--refresh-token-file" in err


def test_destination_test_refuses_without_a_test_code_and_admits_an_unreachable_platform(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRSTMARK_DESTINATION_ALLOW_PRIVATE", "1")  # 127.0.0.1:9 is the point
    run(capsys, "goal", "add", "purchase")
    run(capsys, "destination", "add", "meta", "--credential", "pixel_id=42",
        "--credential", "access_token=tok", "--goal", "purchase=Purchase",
        "--endpoint-base", "http://127.0.0.1:9")  # fmt: skip
    code, out, err = run(capsys, "destination", "test", "meta")
    assert code == 1 and "options.test_event_code" in err and out == ""
    run(capsys, "destination", "add", "meta", "--name", "meta2", "--credential", "pixel_id=42",
        "--credential", "access_token=tok", "--goal", "purchase=Purchase",
        "--option", "test_event_code=TEST1", "--endpoint-base", "http://127.0.0.1:9")  # fmt: skip
    code, out, err = run(capsys, "destination", "test", "meta2")
    assert code == 1 and "not sent" in out and "sent test event" not in out
