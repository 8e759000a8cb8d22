"""The core stays pure: ``service/core`` imports no I/O library, and the emulator and the product
never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = {"flask", "github", "rq", "redis", "requests", "urllib3", "socket", "subprocess"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("service/core"), ids=lambda p: p.name)
def test_core_imports_no_io_library(path):
    assert imported_modules(path) & FORBIDDEN_IN_CORE == set()


@pytest.mark.parametrize("path", python_files("emulator"), ids=lambda p: p.name)
def test_emulator_imports_nothing_from_the_product(path):
    assert imported_modules(path) & {"service", "workers"} == set()


@pytest.mark.parametrize("path", python_files("service") + python_files("workers"), ids=str)
def test_product_imports_nothing_from_the_emulator(path):
    assert "emulator" not in imported_modules(path)


def test_the_checks_find_files():
    assert python_files("service/core"), "the architecture test would pass vacuously"
