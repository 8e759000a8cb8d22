"""Golden files: every rendered document is compared with ``tests/golden/<name>`` byte for byte;
``UPDATE_GOLDEN=1`` rewrites the file instead (review the diff before committing)."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(name: str, text: str, suffix: str = ".md") -> None:
    """``text`` equals ``tests/golden/<name><suffix>``; with ``UPDATE_GOLDEN=1`` it is written."""
    path = GOLDEN / f"{name}{suffix}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")
