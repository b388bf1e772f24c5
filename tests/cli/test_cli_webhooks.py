"""`firstmark webhook add|list|rotate|remove` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import env, run

__all__ = ["env"]  # the fixture, imported for the tests below


def test_webhooks_from_the_command_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://127.0.0.1:9/crm"
    code, _, err = run(capsys, "webhook", "add", url, "--event", "lead.created")
    assert code == 1 and "FIRSTMARK_WEBHOOK_ALLOW_PRIVATE" in err  # loopback: off by default
    monkeypatch.setenv("FIRSTMARK_WEBHOOK_ALLOW_PRIVATE", "1")
    code, out, err = run(
        capsys, "webhook", "add", url, "--event", "lead.created,link.created",
        "--event", "link.clicked", "--click-mode", "sample", "--sample-every", "50", "--json",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added["secret"].startswith("whsec_")
    assert added["events"] == ["lead.created", "link.created", "link.clicked"]
    assert added["click_mode"] == "sample" and added["sample_every"] == 50
    code, out, _ = run(capsys, "webhook", "list")
    assert code == 0 and url in out and "whsec_" not in out
    code, out, _ = run(capsys, "webhook", "rotate", str(added["id"]), "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["secret"] not in (added["secret"], None)
    assert rotated["previous_secret_valid_until"] is not None
    code, out, err = run(capsys, "webhook", "add", url, "--event", "link.deleted")
    assert code == 1 and "events" in err
    code, out, _ = run(capsys, "webhook", "remove", str(added["id"]))
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "webhook", "list", "--json")
    assert json.loads(out) == {"items": []}
    code, _, err = run(capsys, "webhook", "remove", str(added["id"]))
    assert code == 1 and "no webhook" in err
