"""``python -m service.local guard …``: what the fleet's git hooks and the agents' pre-tool hooks
run. It starts without click and without the App's modules, so a commit pays only for the
territory check (the figure is in ``python -m bench.local``). Two forms are read here:

    guard --hook pre-commit|pre-push [git's hook arguments]
    guard --tool-input FILE|-

in a worktree made by ``wavegate worktrees``; anything else is handed to the ``wavegate guard``
command itself (``--plan``, ``--agent``, ``--help`` …), which behaves the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

HOOKS = ("pre-commit", "pre-push")


def _fast_form(args: list[str]) -> tuple[str, str] | None:
    if len(args) >= 3 and args[:2] == ["guard", "--hook"] and args[2] in HOOKS:
        return "hook", args[2]
    if len(args) == 3 and args[:2] == ["guard", "--tool-input"]:
        return "edit", args[2]
    return None


def main(args: list[str]) -> int:
    form = _fast_form(args)
    if form is None:
        from ..cli_local import main as command

        return command.main(args, prog_name="wavegate", standalone_mode=True) or 0
    from ..core.report_local import guard_failed
    from . import state
    from .git import GitError
    from .guard import Target, verdict_for_edit, verdict_for_hook

    kind, value = form
    failure = 2 if kind == "edit" else 1
    try:
        found = state.read(Path.cwd())
        target = Target(found.root, found.agent, found.plan, found.config, found.base)
        if kind == "edit":
            raw = sys.stdin.buffer.read() if value == "-" else Path(value).read_bytes()
            code, text = verdict_for_edit(target, raw, Path.cwd())
        else:
            code, text = verdict_for_hook(target, value, sys.stdin.read() if value == "pre-push" else "")
    except (state.FleetStateError, GitError, OSError) as error:
        code, text = failure, guard_failed(str(error))
    sys.stderr.write(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
