"""Shared test paths. ``SHARED`` is the project's reference data folder beside the checkout."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "github-fixtures"
CASES = SHARED / "cases"
