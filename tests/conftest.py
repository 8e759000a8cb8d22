"""Shared test paths. ``SHARED`` is the project's reference data (GitHub's fixtures, the cases):
the folder named by ``WAVEGATE_SHARED``, else ``shared`` beside the checkout."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WAVEGATE_SHARED") or ROOT.parent / "shared")
FIXTURES = SHARED / "github-fixtures"
CASES = SHARED / "cases"


def pytest_sessionstart(session):
    if not FIXTURES.is_dir():
        pytest.exit(f"GitHub's fixtures are not at {FIXTURES}: put the `shared` folder beside the "
                    "checkout, or set WAVEGATE_SHARED to it", returncode=2)
