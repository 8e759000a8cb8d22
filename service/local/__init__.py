"""The local fleet: one git worktree per agent, hooks that keep each agent inside its territory
before a commit, a push or an edit, and wave-ordered merges, all without GitHub.

Decisions come from ``service.core`` (branch names, dispatch prompts, territory classification,
gates); this package only talks to git and the file system. Every text lives in
``service.core.report_local``.
"""
