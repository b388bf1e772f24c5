"""`firstmark link … --variant URL=WEIGHT` and `firstmark link promote`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import env, run

__all__ = ["env"]  # the fixture, imported for the tests below

A, B = "https://shop.example/a?x=1", "https://shop.example/b"


def test_a_split_is_set_promoted_and_audited(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "link", "create", A, "--code", "ab", "--variant", f"{A}=1", "--variant", f"{B}=2.5"
    )
    assert code == 0, err
    code, out, _ = run(capsys, "link", "show", "ab", "--json")
    assert json.loads(out)["variants"] == [{"url": A, "weight": 1}, {"url": B, "weight": 2.5}]

    code, _, err = run(capsys, "link", "update", "ab", "--variant", f"{A}=1")
    assert code != 0 and "variants" in err  # one variant is no split
    code, _, err = run(capsys, "link", "update", "ab", "--variant", A + "&y", "--variant", B)
    assert code != 0 and "URL=WEIGHT" in err
    code, out, err = run(capsys, "link", "promote", "ab", "1")
    assert code == 0, err
    assert out.strip() == f"https://fm.example/ab → {B}"
    code, out, _ = run(capsys, "link", "show", "ab", "--json")
    assert json.loads(out)["destination"] == B and json.loads(out)["variants"] == []
    code, _, err = run(capsys, "link", "promote", "ab", "1")
    assert code != 0 and "not split" in err


def test_no_variants_ends_a_split(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "link", "create", A, "--code", "ab", "--variant", f"{A}=1", "--variant", f"{B}=1"
    )
    assert code == 0, err
    code, _, err = run(capsys, "link", "update", "ab", "--no-variants")
    assert code == 0, err
    code, out, _ = run(capsys, "link", "show", "ab", "--json")
    assert json.loads(out)["variants"] == [] and json.loads(out)["destination"] == A
