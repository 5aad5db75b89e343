"""The house rules the package layout keeps: no import circles between modules or between device's
subpackages, and training depends on device, never the other way round (every import statement counts,
also those inside functions); only device.contract names the tables the page and the daemon share."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports anywhere in its body."""
    files = {}
    for path in [*ROOT.joinpath("device").rglob("*.py"), *ROOT.joinpath("webconfig").rglob("*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        files[name] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name] |= {target for target in targets if target in files and target != name}
    return graph


def package_of(module: str) -> str:
    """device.catalog.scan → device.catalog; a top-level module of device is its own unit."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "device" and ROOT.joinpath(*parts[:2]).is_dir() else module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in path:
                found.append([*path[path.index(target):], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_no_two_subpackages_import_each_other() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        packages.setdefault(package_of(module), set()).update(
            package_of(target) for target in targets if package_of(target) != package_of(module)
        )
    assert cycles(packages) == []


def test_device_never_imports_training() -> None:
    graph = import_graph()
    assert graph  # the project's modules were found
    outside = {module: sorted(t for t in targets if t.startswith("device.training"))
               for module, targets in graph.items() if not module.startswith("device.training")}
    assert {module: targets for module, targets in outside.items() if targets} == {}


# The tables both processes share: only device.contract, which owns their schema and rows, names them.
SHARED_TABLES = ("settings", "state", "commands", "history", "feedback", "calibration")
_SHARED = "|".join(SHARED_TABLES)
# SQL keywords in capitals (as this project writes SQL), so prose in a docstring does not count.
SQL_NAMING_SHARED = re.compile(rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+[\"'`\[]?(?:{_SHARED})\b")
DATABASE_NAMES = {"db", "database"}  # what this project calls a sqlite_utils.Database


def _names_shared_table(node: ast.AST) -> str | None:
    """What in `node` names a shared table: SQL text, `x.table("history")`, or `db["history"]`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        found = SQL_NAMING_SHARED.search(node.value)
        return found.group(0) if found else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
            "table", "create_table") and node.args:
        name = node.args[0]
        if isinstance(name, ast.Constant) and name.value in SHARED_TABLES:
            return f'.{node.func.attr}("{name.value}")'
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in SHARED_TABLES:
        target = node.value.func if isinstance(node.value, ast.Call) else node.value
        if isinstance(target, ast.Name) and target.id in DATABASE_NAMES:
            return f'{target.id}["{node.slice.value}"]'
    return None


def test_only_the_contract_names_the_shared_tables() -> None:
    contract = ROOT / "device" / "contract"
    found = []
    for path in sorted([*ROOT.joinpath("device").rglob("*.py"), *ROOT.joinpath("webconfig").rglob("*.py")]):
        if path.is_relative_to(contract):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = _names_shared_table(node)
            if named:
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}: {named}")
    assert found == []


def test_the_shared_table_check_sees_each_way_of_naming_one() -> None:
    seen = [_names_shared_table(ast.parse(code).body[0].value) for code in (  # type: ignore[attr-defined]
        '"SELECT id FROM history h"', '"INSERT INTO feedback (liked) VALUES (?)"', '"UPDATE commands SET x = 1"',
        "'CREATE TABLE \"settings\" (key TEXT)'", 'db.table("state")', 'db()["history"]',
        '"the play history is read from the history table"', 'db.table("tracks")', 'state["history"]')]
    assert [bool(named) for named in seen] == [True] * 6 + [False] * 3


MAX_MODULE_DOCSTRING_LINES = 10  # what and why; design notes with figures belong in docs/ or bench/README.md


def test_module_docstrings_say_what_and_why_in_ten_lines() -> None:
    too_long = {}
    for path in sorted([*ROOT.joinpath("device").rglob("*.py"), *ROOT.joinpath("webconfig").rglob("*.py")]):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        if docstring and len(docstring.splitlines()) > MAX_MODULE_DOCSTRING_LINES:
            too_long[str(path.relative_to(ROOT))] = len(docstring.splitlines())
    assert too_long == {}


def device_parts() -> list[str]:
    """device's folders ("catalog/") and top-level modules ("faces.py"), as the folder maps name them."""
    device = ROOT / "device"
    folders = [f"{path.name}/" for path in device.iterdir() if path.is_dir() and any(path.glob("*.py"))]
    modules = [path.name for path in device.glob("*.py") if path.name != "__init__.py"]
    return sorted(folders + modules)


def unnamed(parts: list[str], text: str) -> list[str]:
    return [part for part in parts if not re.search(rf"(?<![\w/.]){re.escape(part)}", text)]


def test_the_folder_maps_name_every_folder_and_module_of_device() -> None:
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    how_it_works = readme.split("\n## How it works\n", 1)[1].split("\n## ", 1)[0]
    architecture = ROOT.joinpath("docs", "architecture.md").read_text(encoding="utf-8")
    parts = device_parts()
    assert {"faces.py", "catalog/"} <= set(parts)  # the tree was read
    assert unnamed(parts, how_it_works) == []
    assert unnamed(parts, architecture) == []
    # the README links the map in its first screenful, before the long sections
    assert "docs/architecture.md" in readme[: readme.index("\n## Hardware")]
