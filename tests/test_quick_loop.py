"""The quick loop's guard (tests/conftest.py): a test that uses an expensive fixture is marked slow, and
every fixture named as expensive still exists (a renamed one would let its tests back into the quick loop)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import EXPENSIVE_FIXTURES, pytest_collection_modifyitems

TESTS = Path(__file__).resolve().parent


@dataclass
class CollectedTest:
    """What the hook reads of a collected test: the fixtures it uses; and what it adds, markers."""

    fixturenames: list[str]
    markers: list[pytest.Mark] = field(default_factory=list)

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.markers.append(marker.mark)


def test_a_test_using_an_expensive_fixture_is_marked_slow_and_others_are_not() -> None:
    expensive = CollectedTest(["tmp_path", sorted(EXPENSIVE_FIXTURES)[0]])
    cheap = CollectedTest(["tmp_path", "config"])
    pytest_collection_modifyitems([expensive, cheap])  # type: ignore[list-item]
    assert [mark.name for mark in expensive.markers] == ["slow"]
    assert cheap.markers == []


def fixtures_defined_in(path: Path) -> set[str]:
    """Names of the functions in `path` decorated with pytest.fixture (with or without arguments)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "fixture":
                    names.add(node.name)
    return names


def test_every_expensive_fixture_is_defined_in_the_tests() -> None:
    defined = set().union(*(fixtures_defined_in(path) for path in TESTS.rglob("*.py")))
    assert sorted(EXPENSIVE_FIXTURES - defined) == []
