"""`firstmark qr render`, `qr import` and `qr export` as an operator uses them."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from clitools import env, run
from PIL import Image

from firstmark.cli import main
from qrtools import decode_png

__all__ = ["env"]  # the fixture, imported for the tests below


def test_qr_render(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "link", "create", "https://a.example/", "--code", "menu")[0] == 0
    code, _, err = run(capsys, "qr", "render", "menu", "--format", "png", "--scale", "5")
    assert code == 0, err
    assert decode_png((env / "menu.png").read_bytes()) == ["https://fm.example/q/menu"]
    assert "ok   quiet_zone" in err
    logo = env / "logo.png"
    Image.new("RGB", (30, 30), (0, 90, 200)).save(logo)
    code, _, err = run(
        capsys, "qr", "render", "menu", "--format", "png", "--logo", str(logo),
        "--border", "2", "-o", str(env / "with-logo.png"),
    )  # fmt: skip
    assert code == 0, err
    assert "WARN quiet_zone" in err and "-H" in err
    assert decode_png((env / "with-logo.png").read_bytes()) == ["https://fm.example/q/menu"]
    code, _, err = run(capsys, "qr", "render", "menu", "--dark", "nope")
    assert code == 1 and "dark" in err


def test_qr_import_and_export(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "link", "create", "https://a.example/", "--code", "expo")
    sheet = env / "placements.csv"
    sheet.write_text("name,venue,quantity\nHall A,Expo,3\nHall B,Expo,4\n")
    code, out, err = run(capsys, "qr", "import", "expo", str(sheet))
    assert code == 0, err
    assert "2 placements created" in err and "Hall B" in out
    bad = env / "bad.csv"
    bad.write_text("name,quantity\nHall C,1\nHall D,lots\n")
    code, _, err = run(capsys, "qr", "import", "expo", str(bad))
    assert code == 1 and "row 3" in err
    code, _, err = run(capsys, "qr", "export", "expo", "--scale", "4")
    assert code == 0, err
    archive = zipfile.ZipFile(env / "expo-placements.zip")
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [r["placement"] for r in rows] == ["Hall A", "Hall B"]
    for row in rows:
        assert decode_png(archive.read(row["file"])) == [row["short_url"]]


@pytest.mark.parametrize("command", ["render", "export"])
def test_qr_help_names_the_logo_size(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["qr", command, "--help"])
    assert exit_.value.code == 0
    assert "logo width, % of the code" in capsys.readouterr().out
