"""The house rules of docs/architecture.md, read from the source with `ast` (nothing is imported).

Every import counts: absolute and relative, at module level, inside functions and inside
`if TYPE_CHECKING:` blocks, plus `importlib.import_module("…")` with a literal name. Each rule
is its own test and names the file, the line and the offending import. The checks at the end
feed deliberately wrong sources through the same functions, so no rule can pass vacuously.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "firstmark"

# What may sit at the package root; everything else lives in a layer.
ROOT_MODULES = frozenset(
    {"__init__", "__main__", "app", "config", "errors", "logs", "geo", "sealing"}
)
LAYERS = frozenset({"cli", "web", "services", "ingest", "forward", "store", "domain"})

# Names outside `domain` that domain code may import because they are plain values
# (frozen dataclasses, no IO). Exactly these names, not their modules.
VALUE_TYPES = frozenset({"firstmark.geo.Geo"})
# Third-party libraries without IO that domain rules may use.
PURE_LIBRARIES = frozenset({"segno", "phonenumbers", "ua_parser", "crawlerdetect", "cryptography"})
ENGINE_DRIVERS = ("aiosqlite", "asyncpg")
ENGINE_MODULES = ("firstmark.store.sqlite", "firstmark.store.postgres")
EDGES = ("firstmark.web", "firstmark.cli", "firstmark.app")
ABOVE_STORE = ("firstmark.services", "firstmark.ingest", "firstmark.forward", *EDGES)

# A string that reads as SQL, with upper-case keywords as the store writes them: a statement
# (`SELECT … FROM`, `INSERT INTO`, `CREATE TABLE`, `WITH … AS`), or a clause only SQL has
# (`ON CONFLICT`, `FOR UPDATE`, `WHERE x = ?`, `SELECT 1`).
# f-strings and `+` chains are read whole, their holes as `{}`.
SQL_STATEMENT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH)\b.*\b(FROM|INTO|SET|TABLE|AS)\b",
    re.DOTALL,
)
SQL_CLAUSE = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT INTO|DELETE FROM|UPDATE \w+ SET|ON CONFLICT|FOR UPDATE)\b"
    r"|^\s*SELECT (\d|\w+\()"  # SELECT 1, SELECT pg_advisory_lock($1)
    r"|\bWHERE\b.*[=<>] *(\?|\$\d)",  # a parameterised condition
    re.DOTALL,
)


def looks_like_sql(text: str) -> bool:
    return bool(SQL_STATEMENT.match(text) or SQL_CLAUSE.search(text))


@dataclass(frozen=True, slots=True)
class Import:
    line: int
    name: str  # dotted: a module, or module.attribute for `from module import attribute`

    def under(self, *prefixes: str) -> bool:
        return any(self.name == p or self.name.startswith(p + ".") for p in prefixes)


@dataclass(slots=True)
class Module:
    path: str  # relative to src/firstmark, e.g. "web/api/links.py"
    name: str  # dotted, e.g. "firstmark.web.api.links"
    imports: list[Import] = field(default_factory=list)
    sql: list[tuple[int, str]] = field(default_factory=list)

    @property
    def layer(self) -> str | None:
        head = self.path.split("/", 1)[0]
        return head if "/" in self.path and head in LAYERS else None

    def where(self, line: int) -> str:
        return f"src/firstmark/{self.path}:{line}"


def module_name(path: str) -> str:
    parts = ["firstmark", *path.removesuffix(".py").split("/")]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    # A package's own relative imports start from the package; a module's from its parent.
    drop = node.level - 1 if is_package else node.level
    if drop:
        base = base[:-drop]
    return ".".join([*base, node.module] if node.module else base)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def parse(path: str, source: str) -> Module:
    """Every import and every SQL-looking string literal of one source file."""
    mod = Module(path, module_name(path))
    is_package = path.endswith("__init__.py")
    tree = ast.parse(source, filename=path)
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mod.imports.extend(Import(node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, mod.name, is_package)
            for alias in node.names:
                name = base if alias.name == "*" else f"{base}.{alias.name}"
                mod.imports.append(Import(node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            mod.imports.append(Import(node.lineno, node.args[0].value))
        elif isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp) and id(node) not in docs:
            text = _text(node)
            if text is not None and looks_like_sql(text):
                mod.sql.append((node.lineno, text))
    # An f-string or `+` chain is read whole and in parts: report each line once, whole.
    longest: dict[int, str] = {}
    for line, text in mod.sql:
        if len(text) > len(longest.get(line, "")):
            longest[line] = text
    mod.sql = sorted(longest.items())
    return mod


def _text(node: ast.expr) -> str | None:
    """A string expression as its literal text: f-string holes and non-literal operands of
    `+` read as `{}`; None for anything that is not a string."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part) or "{}" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left or "{}") + (right or "{}")
    return None


def source_modules() -> list[Module]:
    return [
        parse(p.relative_to(PACKAGE).as_posix(), p.read_text(encoding="utf-8"))
        for p in sorted(PACKAGE.rglob("*.py"))
    ]


MODULES = source_modules()


def _top(name: str) -> str:
    return name.split(".", 1)[0]


# --- the rules: each takes one module and returns its violations --------------------------


def domain_is_pure(mod: Module) -> Iterator[str]:
    """domain/ imports the standard library, itself, firstmark.errors, the listed value
    types and pure libraries; never Starlette, httpx, a database driver or another layer."""
    if mod.layer != "domain":
        return
    for imp in mod.imports:
        top = _top(imp.name)
        if top == "firstmark":
            if imp.under("firstmark.domain", "firstmark.errors") or imp.name in VALUE_TYPES:
                continue
        elif top in sys.stdlib_module_names or top in PURE_LIBRARIES:
            continue
        yield f"{mod.where(imp.line)}: domain imports {imp.name}"


def drivers_only_in_store(mod: Module) -> Iterator[str]:
    if mod.layer == "store":
        return
    for imp in mod.imports:
        if imp.under(*ENGINE_DRIVERS):
            yield f"{mod.where(imp.line)}: {imp.name} imported outside store/"


def sql_only_in_store(mod: Module) -> Iterator[str]:
    if mod.layer == "store":
        return
    for line, text in mod.sql:
        first = " ".join(text.split())[:60]
        yield f"{mod.where(line)}: SQL outside store/: {first!r}"


def lower_layers_never_import_edges(mod: Module) -> Iterator[str]:
    """services/, ingest/, forward/, store/ and domain/ never import web/, cli/ or the app."""
    if mod.layer not in {"services", "ingest", "forward", "store", "domain"}:
        return
    for imp in mod.imports:
        if imp.under(*EDGES):
            yield f"{mod.where(imp.line)}: {mod.layer}/ imports {imp.name}"


def store_imports_nothing_above_it(mod: Module) -> Iterator[str]:
    if mod.layer != "store":
        return
    for imp in mod.imports:
        if imp.under(*ABOVE_STORE):
            yield f"{mod.where(imp.line)}: store/ imports {imp.name}"


# The store's own modules (protocol, rows, sql, the engines …): outside store/ they are reached
# only through the names the package firstmark.store re-exports.
STORE_MODULES = tuple(
    f"firstmark.store.{entry.stem}"
    for entry in (PACKAGE / "store").iterdir()
    if (entry.suffix == ".py" and entry.stem != "__init__") or (entry / "__init__.py").exists()
)


def engines_only_through_store(mod: Module) -> Iterator[str]:
    """Outside store/, nothing names an engine module: `create_store`, the protocol and the
    types firstmark.store re-exports are the way in."""
    if mod.layer == "store":
        return
    for imp in mod.imports:
        if imp.under(*ENGINE_MODULES):
            yield f"{mod.where(imp.line)}: engine module {imp.name} imported outside store/"


def store_only_through_its_package(mod: Module) -> Iterator[str]:
    """Outside store/, code imports from `firstmark.store` itself, never from the modules
    behind it, so the store can move its insides without touching a caller."""
    if mod.layer == "store":
        return
    for imp in mod.imports:
        if imp.under(*STORE_MODULES) and not imp.under(*ENGINE_MODULES):
            yield f"{mod.where(imp.line)}: {imp.name} imported past firstmark.store"


RULES: list[Callable[[Module], Iterable[str]]] = [
    domain_is_pure,
    drivers_only_in_store,
    sql_only_in_store,
    lower_layers_never_import_edges,
    store_imports_nothing_above_it,
    engines_only_through_store,
    store_only_through_its_package,
]


def broken(rule: Callable[[Module], Iterable[str]], modules: Iterable[Module]) -> list[str]:
    return [v for mod in modules for v in rule(mod)]


# --- the tree -----------------------------------------------------------------------------


def test_the_tree_is_read() -> None:
    layers = {mod.layer for mod in MODULES if mod.layer}
    assert layers == LAYERS, f"layers without modules: {sorted(LAYERS - layers)}"
    assert sum(len(mod.imports) for mod in MODULES) > 500
    assert any(mod.sql for mod in MODULES if mod.layer == "store"), "the SQL pattern finds no SQL"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_layer_rule(rule: Callable[[Module], Iterable[str]]) -> None:
    violations = broken(rule, MODULES)
    assert not violations, f"{rule.__name__}:\n" + "\n".join(violations)


def test_package_root_holds_only_the_root_modules() -> None:
    extra = []
    for entry in sorted(PACKAGE.iterdir()):
        if entry.name == "__pycache__" or entry.name.startswith("."):
            continue
        if entry.is_dir():
            if entry.name not in LAYERS:
                extra.append(f"src/firstmark/{entry.name}/: not a layer")
        elif entry.suffix != ".py" or entry.stem not in ROOT_MODULES:
            extra.append(f"src/firstmark/{entry.name}: belongs in a layer")
    assert not extra, "\n".join(extra)


# --- the checker catches what it should -----------------------------------------------------

WRONG = [
    # (file, source, the rule that must object, what its message must name)
    ("domain/x.py", "import starlette\n", domain_is_pure, "starlette"),
    ("domain/x.py", "from httpx import AsyncClient\n", domain_is_pure, "httpx.AsyncClient"),
    ("domain/x.py", "from firstmark.geo import GeoLookup\n", domain_is_pure, "GeoLookup"),
    ("domain/x.py", "from ..store import create_store\n", domain_is_pure, "firstmark.store"),
    ("domain/x.py", "from firstmark import services\n", domain_is_pure, "firstmark.services"),
    (
        "domain/x.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from firstmark.web import http\n",
        domain_is_pure,
        "firstmark.web.http",
    ),
    ("web/x.py", "def f():\n    import aiosqlite\n", drivers_only_in_store, "aiosqlite"),
    ("services/x.py", "import asyncpg.pool\n", drivers_only_in_store, "asyncpg.pool"),
    (
        "web/api/x.py",
        'Q = """\n    SELECT id FROM links WHERE code = ?"""\n',
        sql_only_in_store,
        "SELECT id FROM links",
    ),
    (
        "services/x.py",
        'def f(t):\n    return f"INSERT INTO {t} (a) VALUES (?)"\n',
        sql_only_in_store,
        "INSERT INTO",
    ),
    (
        "cli/x.py",
        "def ping(db):\n    return db.execute('SELECT 1')\n",
        sql_only_in_store,
        "SELECT 1",
    ),
    ("web/x.py", "Q = base + ' WHERE id = $1'\n", sql_only_in_store, "WHERE id = $1"),
    (
        "services/x.py",
        "from ..web.http import read_json\n",
        lower_layers_never_import_edges,
        "firstmark.web.http.read_json",
    ),
    (
        "forward/a/x.py",
        "from ...cli import main\n",
        lower_layers_never_import_edges,
        "firstmark.cli.main",
    ),
    (
        "ingest/x.py",
        "import importlib\nimportlib.import_module('firstmark.app')\n",
        lower_layers_never_import_edges,
        "firstmark.app",
    ),
    (
        "store/sqlite/x.py",
        "from firstmark.services import links\n",
        store_imports_nothing_above_it,
        "firstmark.services.links",
    ),
    ("store/x.py", "from .. import forward\n", store_imports_nothing_above_it, "firstmark.forward"),
    (
        "web/x.py",
        "from firstmark.store.sqlite.store import SQLiteStore\n",
        engines_only_through_store,
        "firstmark.store.sqlite.store",
    ),
    (
        "cli/x.py",
        "from firstmark.store import postgres\n",
        engines_only_through_store,
        "firstmark.store.postgres",
    ),
    (
        "web/api/__init__.py",
        "from ...store.postgres import tables\n",
        engines_only_through_store,
        "firstmark.store.postgres.tables",
    ),
    (
        "services/x.py",
        "from firstmark.store.protocol import Store\n",
        store_only_through_its_package,
        "firstmark.store.protocol.Store",
    ),
    ("cli/x.py", "from ..store.rows import links\n", store_only_through_its_package, "rows"),
]


@pytest.mark.parametrize(("path", "source", "rule", "named"), WRONG)
def test_the_checker_catches_a_wrong_import(
    path: str, source: str, rule: Callable[[Module], Iterable[str]], named: str
) -> None:
    [violation] = list(rule(parse(path, source)))
    assert violation.startswith(f"src/firstmark/{path}:")
    assert named in violation


RIGHT = [
    ("domain/x.py", "from __future__ import annotations\nimport re, segno\n"),
    ("domain/x.py", "from firstmark.geo import Geo\nfrom firstmark.errors import InvalidField\n"),
    ("domain/x.py", "from . import times\nfrom .money import amount\n"),
    ("store/sqlite/x.py", "import aiosqlite\nQ = 'SELECT a FROM b'\n"),
    ("store/x.py", "from firstmark.domain.links import Link\n"),
    ("web/x.py", "from firstmark.store import create_store\n"),
    ("web/x.py", "def f():\n    'SELECT the first link FROM the list, as the user asked.'\n"),
    ("web/x.py", "MESSAGE = 'Select a file from your computer'\n"),
    ("services/x.py", "from firstmark.store import Store, LinkQuery\n"),
]


@pytest.mark.parametrize(("path", "source"), RIGHT)
def test_the_checker_lets_the_right_imports_pass(path: str, source: str) -> None:
    mod = parse(path, source)
    assert [v for rule in RULES for v in rule(mod)] == []


def test_relative_imports_resolve_from_module_and_package() -> None:
    mod = parse("web/api/links.py", "from . import auth\nfrom ..http import read_json\n")
    assert [i.name for i in mod.imports] == [
        "firstmark.web.api.auth",
        "firstmark.web.http.read_json",
    ]
    pkg = parse("web/api/__init__.py", "from . import auth\nfrom .. import http\n")
    assert [i.name for i in pkg.imports] == ["firstmark.web.api.auth", "firstmark.web.http"]
