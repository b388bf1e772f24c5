"""The wheel is the product: built from this tree, installed into a fresh virtual environment,
its `firstmark serve` answers /healthz, serves /fm.js and the dashboard's pages and static
files, and migrates a new database from the migrations it ships.

No network: the wheel is built with this environment's setuptools (no build isolation) when it
can build wheels by itself, and installed with `--no-index --no-deps`; the fresh environment
finds the dependencies through a .pth line naming this environment's site-packages. That line
adds a plain path, so this environment's editable install of the working tree (a .pth import
hook) is not run there: the test checks that firstmark is imported from the new environment.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serverproc import HOST, free_port, sqlite_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "src", "templates", "static")


def run(*args: str | Path, cwd: Path, timeout: float = 60.0) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python or pip elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FIRSTMARK_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def builds_wheels_offline() -> bool:
    """setuptools builds wheels itself from 70.1 on; before that it needs the wheel package."""
    try:
        major, minor = (int(p) for p in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    if (major, minor) >= (70, 1):
        return True
    try:
        importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def build_wheel(work: Path) -> Path:
    """The wheel of a copy of the tree (a build in place would leave build/ behind, and reuse
    whatever an earlier build left in it)."""
    tree = work / "tree"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    out = work / "dist"
    isolation = ["--no-build-isolation"] if builds_wheels_offline() else []
    pip: list[str | Path] = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", out]
    pip += isolation
    run(*pip, "--quiet", cwd=tree, timeout=120)
    [wheel] = out.glob("firstmark-*.whl")
    return wheel


def fresh_venv(work: Path, wheel: Path) -> Path:
    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    install: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    run(*install, "--no-deps", "--no-index", wheel, cwd=work)
    new_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                        cwd=work).strip())  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (new_site / "zz_firstmark_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return venv


@contextlib.contextmanager
def serving(venv: Path, work: Path) -> Iterator[str]:
    port = free_port()
    log = (work / "serve.log").open("wb")
    env = clean_env(
        FIRSTMARK_DATABASE_URL=sqlite_url(work / "fm.db"),
        FIRSTMARK_SECRET_KEY="wheel-test-secret",
        FIRSTMARK_BASE_URL=f"http://{HOST}:{port}",
        FIRSTMARK_LOG_LEVEL="warning",
    )
    proc = subprocess.Popen(
        [venv / "bin" / "firstmark", "serve", "--host", HOST, "--port", str(port)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://{HOST}:{port}"
    finally:
        # A clean stop, so the server's worker processes stop with it (a kill leaves them).
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def wait_healthy(base: str, work: Path, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=2.0) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                return http.get("/healthz")
            time.sleep(0.1)
    log = (work / "serve.log").read_text(errors="replace")
    raise AssertionError(f"firstmark serve did not answer within {timeout} s:\n{log[-3000:]}")


def shipped(root: Path, pattern: str, prefix: str) -> set[str]:
    return {f"{prefix}/{p.relative_to(root).as_posix()}" for p in root.glob(pattern)}


def test_the_wheel_installs_and_serves(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "src" / "firstmark"
    expected = (
        shipped(package, "**/*.py", "firstmark")
        | shipped(package / "store" / "migrations", "*/*.sql", "firstmark/store/migrations")
        | shipped(package / "domain" / "sources", "*.txt", "firstmark/domain/sources")
        | shipped(ROOT / "templates", "**/*.html", "firstmark/templates")
        | shipped(ROOT / "static", "*.*", "firstmark/static")
    )
    assert any(n.endswith(".sql") for n in expected) and any(n.endswith(".html") for n in expected)
    assert "firstmark/static/fm.js" in expected
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"

    venv = fresh_venv(tmp_path, wheel)
    where = run(venv / "bin" / "python", "-c", "import firstmark; print(firstmark.__file__)",
                cwd=tmp_path)  # fmt: skip
    assert Path(where.strip()).is_relative_to(venv), f"firstmark imported from {where}"

    with serving(venv, tmp_path) as base:
        health = wait_healthy(base, tmp_path)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        with httpx.Client(base_url=base, timeout=5.0) as http:
            script = http.get("/fm.js")
            assert script.status_code == 200
            assert script.headers["content-type"].startswith("text/javascript")
            assert script.content == (ROOT / "static" / "fm.js").read_bytes()
            ready = http.get("/readyz")  # the shipped migrations brought the database up
            assert ready.status_code == 200, ready.text
            login = http.get("/dashboard/login")  # a template
            assert login.status_code == 200 and "<form" in login.text
            css = http.get("/static/dashboard.css")
            assert css.status_code == 200
            assert css.content == (ROOT / "static" / "dashboard.css").read_bytes()
