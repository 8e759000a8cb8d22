"""Repository settings from ``.github/wavegate.yml`` (DESIGN §2.5)."""

from __future__ import annotations

from .model import Problem, RepoConfig

CONFIG_PATH = ".github/wavegate.yml"


def parse_config(text: str | None) -> RepoConfig | list[Problem]:
    """The repository config; None or empty text gives the defaults. Unknown keys, wrong types
    and invalid patterns are problems (with "did you mean" and line), never silently ignored."""
    raise NotImplementedError
