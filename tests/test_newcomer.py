"""The README's first hour, run as written: its shell blocks, top to bottom, in a new folder.

The tour and the costs-and-demo sections of README.md are read here, so the two cannot drift
apart: `make run` starts the Makefile's own command (on a free port), the rest runs in one bash
with `.venv/bin/firstmark` as this interpreter's firstmark and `http://127.0.0.1:8000` as the
server's address. Then the demo's printed login opens the dashboard over real HTTP.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from serverproc import HOST, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
SECTIONS = ("A five-minute tour", "Costs, reports and a demo")
DEFAULT = "http://127.0.0.1:8000"
FIRSTMARK = f"{shlex.quote(sys.executable)} -m firstmark"
BROWSER = re.compile(r"curl [^\n]*-A '[^']*(Mozilla|Chrome|Safari)")


def shell_blocks(text: str, titles: tuple[str, ...]) -> list[str]:
    """The ```sh blocks of the `## ` sections named, in the order they appear."""
    blocks = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE):
        title = section.split("\n", 1)[0].strip()
        if title in titles:
            blocks += re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    return blocks


def run_recipe() -> str:
    """What `make run` runs, as a command for this interpreter."""
    recipe = re.search(r"^run:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe, "the Makefile has no run target"
    return recipe[1].replace("$(VENV)/bin/firstmark", FIRSTMARK)


def environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A newcomer's shell: no FIRSTMARK_* setting but those of `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMARK_")}
    return {**env, **(extra or {})}


@contextlib.contextmanager
def serving(command: str, folder: Path, env: Mapping[str, str], name: str) -> Iterator[str]:
    """`command` with `--port` on a free port, in `folder`, until the block ends: its address."""
    port = free_port()
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            f"exec {command} --port {port}", shell=True, cwd=folder, env=dict(env),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://{HOST}:{port}"
        try:
            with httpx.Client(base_url=base, timeout=2.0) as http:
                for _ in range(300):
                    assert proc.poll() is None, log_path.read_text()
                    with contextlib.suppress(httpx.TransportError):
                        if http.get("/readyz").status_code == 200:
                            break
                    time.sleep(0.05)
            yield base
        finally:
            proc.kill()
            proc.wait(10)


def test_the_readme_first_hour_works_as_written(tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("the README's commands need curl and bash")
    blocks = shell_blocks(README.read_text(), SECTIONS)
    assert len(blocks) >= 6
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    # The demo's own server is started below, like the first one: a line with `make run`.
    script, later = [], []
    for block in blocks:
        kept = []
        for line in block.splitlines():
            if "make run" in line:
                later.append(line)
            else:
                kept.append(line)
        script.append("\n".join(kept))
    assert len(later) == 1 and later[0].endswith(" make run")

    with serving(run_recipe(), tmp_path, environ(), "tour") as base:
        assert "firstmark" in httpx.get(f"{base}/").text  # the server's own page
        said = (tmp_path / "tour.log").read_text()
        assert f"creating a new database at {tmp_path.resolve() / 'firstmark.db'}" in said
        # Hits reach the stats within a flush or two; a reader takes longer than that, and
        # this machine may be busy: the stats are read a second after the click.
        whole = "set -e\n" + "".join(
            f"{'sleep 1' if '/stats' in block else ''}\n{block}\nprintf '\\n@@ block {n} @@\\n'\n"
            for n, block in enumerate(script)
        )
        whole = whole.replace(".venv/bin/firstmark", FIRSTMARK).replace(DEFAULT, base)
        done = subprocess.run(
            ["bash", "-c", whole], cwd=tmp_path, env=environ(), capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    outputs = re.split(r"\n@@ block \d+ @@\n", done.stdout)
    by_block = dict(zip(script, outputs, strict=False))

    def output_of(pattern: str) -> str:
        found = [out for block, out in by_block.items() if re.search(pattern, block)]
        assert len(found) == 1, pattern
        return found[0]

    made = json.loads(output_of(r"-d '\{\"destination\""))
    assert made["short_url"] == f"{base}/spring"
    assert any(BROWSER.search(block) for block in script), "the click is a browser's"
    clicked = output_of(r"curl -si")
    assert "302 Found" in clicked and "location: https://shop.example/spring?" in clicked
    stats = json.loads(output_of(r"/stats"))
    assert stats["totals"]["clicks"] > 0 and stats["totals"]["humans"] > 0, stats["totals"]
    # Three answers back to back: the import's JSON, the channels report's, the attribution CSV.
    costs = output_of(r"costs/import")
    decoder = json.JSONDecoder()
    imported, end = decoder.raw_decode(costs)
    rows = (tmp_path / "examples" / "costs.csv").read_text().strip().splitlines()
    assert imported["imported"] == len(rows) - 1, costs
    channels, end = decoder.raw_decode(costs, end)
    # The channels report covers the example's dates: its rows hold all the spend imported.
    spent = sum(Decimal(row["spend"]) for row in channels["rows"] if row["spend"] is not None)
    assert spent == Decimal(imported["spend"]["EUR"]) > 0, channels
    header = next(csv.reader(io.StringIO(costs[end:].strip())))
    assert "conversions" in " ".join(header), costs[end:]
    login = re.search(r"Dashboard: \S+ \(user (\w+), password (\S+)\)", output_of(r" demo$"))
    assert login, output_of(r" demo$")
    username, password = login[1], login[2]

    # The demo's server: the README's second `make run`, with the variables it sets.
    *assignments, _, _ = shlex.split(later[0])
    demo_env = environ({k: v for k, _, v in (a.partition("=") for a in assignments)})
    with (
        serving(run_recipe(), tmp_path, demo_env, "demo") as base,
        httpx.Client(base_url=base, timeout=10.0, follow_redirects=True) as browser,
    ):
        form = browser.get("/dashboard/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text
        page = browser.post(
            "/dashboard/login",
            data={"csrf": csrf[1], "username": username, "password": password},
        )
        assert page.status_code == 200 and page.url.path == "/dashboard"
        assert "<h1>Overview</h1>" in page.text
