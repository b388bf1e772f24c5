"""`firstmark number` and `firstmark calls` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import env, run

__all__ = ["env"]  # the fixture, imported for the tests below


def test_numbers_are_added_listed_pooled_and_released(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "number", "add", "020 7946 0018", "--region", "GB", "--provider", "vonage",
        "--forward-to", "020 7946 0999", "--label", "Trade fair stand", "--json",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added["number"] == "+442079460018" and added["forward_to"] == "+442079460999"
    code, out, _ = run(
        capsys, "number", "add", "+14155550124", "--provider", "twilio",
        "--forward-to", "+14155550199", "--pool", "website",
    )  # fmt: skip
    assert code == 0 and "pool website" in out
    code, out, _ = run(capsys, "number", "pool", "website", "--fallback", "+14155550100")
    assert code == 0 and "1 numbers" in out and "+1 415-555-0100" in out
    code, out, _ = run(capsys, "number", "list")
    assert "+44 20 7946 0018" in out and "Trade fair stand" in out and "pool website" in out
    code, out, _ = run(capsys, "number", "release", "+44 20 7946 0018")
    assert code == 0 and "released" in out
    code, out, _ = run(capsys, "number", "list")
    assert "7946 0018" not in out
    code, out, _ = run(capsys, "number", "list", "--released")
    assert "7946 0018" in out and "released" in out
    code, out, err = run(capsys, "calls")
    assert code == 0 and out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [(["+1 415", "--forward-to", "+14155550199"], "number:"),
     (["+14155550123", "--forward-to", "+14155550123"], "loop"),
     (["+14155550123", "--forward-to", "+14155550199", "--qualify", "-5"], "qualify_seconds")],
)  # fmt: skip
def test_bad_numbers_exit_non_zero_with_a_message(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "number", "add", *args, "--provider", "twilio")
    assert code == 1 and out == "" and message in err
    assert run(capsys, "number", "list")[1] == ""


def test_a_duplicate_or_unknown_number_is_refused(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["number", "add", "+14155550123", "--provider", "telnyx", "--forward-to", "+14155550199"]
    assert run(capsys, *add)[0] == 0
    code, _, err = run(capsys, *add)
    assert code == 1 and "firstmark:" in err
    code, _, err = run(capsys, "number", "release", "+14155550111")
    assert code == 1 and "no tracking number" in err
