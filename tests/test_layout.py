"""The house rules the package layout keeps: no import circles between modules or between device's
subpackages, and training depends on device, never the other way round (every import statement counts,
also those inside functions)."""

from __future__ import annotations

import ast
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
