"""Read the pending file edit a coding agent hands its pre-tool hook (stdin JSON), so
``wavegate guard --tool-input -`` can judge it before the edit happens.

Shapes read (recorded examples and where each is documented: ``tests/fixtures/hooks/``):

- Claude Code ``PreToolUse``: ``{"tool_name": "Write"|"Edit"|"MultiEdit", "tool_input":
  {"file_path": …}}`` and ``NotebookEdit`` with ``tool_input.notebook_path``; paths are absolute.
- Codex ``PreToolUse``: ``{"tool_name": "apply_patch", "tool_input": {"command": PATCH}}``, the
  patch envelope (``*** Begin Patch`` … ``*** End Patch``) naming each file on ``*** Add File:``,
  ``*** Update File:``, ``*** Delete File:`` and ``*** Move to:`` lines, relative to ``cwd``. A
  ``Bash`` call whose command carries such an envelope (``apply_patch <<'EOF'`` …) is read the
  same way.

Any other tool is not a file edit of these CLIs and is let through by the guard.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

EDIT_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path"}
PATCH_TOOLS = ("apply_patch",)
SHELL_TOOLS = ("Bash", "shell", "exec_command", "local_shell")
PATCH_BEGIN = "*** Begin Patch"
# Codex's apply_patch grammar: one header line per file operation, the path after ": ".
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (?P<path>.+?)\s*$", re.MULTILINE)
MAX_INPUT_BYTES = 64 * 1024 * 1024


class HookInputError(Exception):
    """The hook input is not JSON of a known shape; the message says which part is missing."""


@dataclass(frozen=True)
class PendingEdit:
    """The files one tool call is about to change. ``paths`` as the agent wrote them (absolute,
    or relative to ``cwd``); empty for a tool call that edits no file."""

    tool: str
    paths: tuple[str, ...]
    cwd: str | None = None


def patch_paths(patch: str) -> tuple[str, ...]:
    """Every file an apply_patch envelope adds, updates, deletes or moves to, in order, once."""
    return tuple(dict.fromkeys(m["path"] for m in _PATCH_FILE.finditer(patch)))


def _patch_text(tool_input: dict) -> str | None:
    for key in ("command", "patch", "input"):
        value = tool_input.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "\n".join(value)
    return None


def _edit_paths(tool: str, tool_input: dict) -> tuple[str, ...]:
    if tool in EDIT_TOOLS:
        path = tool_input.get(EDIT_TOOLS[tool]) or tool_input.get("file_path")
        if not isinstance(path, str) or not path:
            raise HookInputError(f"`tool_input.{EDIT_TOOLS[tool]}` of {tool} is missing")
        return (path,)
    patch = _patch_text(tool_input)
    if tool in PATCH_TOOLS:
        if patch is None:
            raise HookInputError("the patch text (`tool_input.command`) of apply_patch is missing")
        found = patch_paths(patch)
        if not found:
            raise HookInputError("the patch names no file (no `*** Update File:` line)")
        return found
    if tool in SHELL_TOOLS and patch is not None and PATCH_BEGIN in patch:
        return patch_paths(patch)
    return ()


def parse(raw: bytes | str) -> PendingEdit:
    """The pending edit in one hook input. Raises ``HookInputError`` for input that is not a
    JSON object with a string ``tool_name`` and an object ``tool_input``, or an edit tool whose
    target cannot be read (the guard then refuses the edit rather than let it through)."""
    if len(raw) > MAX_INPUT_BYTES:
        raise HookInputError(f"the input is over {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise HookInputError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise HookInputError("not a JSON object")
    tool, tool_input = data.get("tool_name"), data.get("tool_input")
    if not isinstance(tool, str):
        raise HookInputError("`tool_name` is missing")
    if not isinstance(tool_input, dict):
        raise HookInputError("`tool_input` is missing or not an object")
    cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else None
    return PendingEdit(tool, _edit_paths(tool, tool_input), cwd)
