"""Shared test paths: GitHub's recorded data the tests use (``tests/github/``: webhook examples and
their schemas, REST examples, the trimmed OpenAPI description; ``SOURCES.json`` names each file's
origin and licence) and the plan cases (``tests/fixtures/cases/``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "github"
CASES = ROOT / "tests" / "fixtures" / "cases"
