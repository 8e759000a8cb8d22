"""Repository settings from ``.github/wavegate.yml`` (DESIGN §2.5).

Read from the default branch only (a PR must not loosen its own checks). Every key is optional;
an unreadable value is a problem, never its default in disguise: ``protected:`` left empty is
refused (write ``protected: []`` to protect nothing). ``protected`` may be one pattern written as
a plain string. ``branch_prefix`` is one ref segment, so branches are ``<prefix>/<issue>/<agent>``. ``launch``
(how agents are started) is read by ``launch.read_config_launch``; absent, nothing is started.
"""

from __future__ import annotations

import re
from dataclasses import replace

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import patterns
from . import yamlnodes as yn
from .launch import read_config_launch
from .model import Problem, RepoConfig

CONFIG_PATH = ".github/wavegate.yml"
CONFIG_KEYS = ("label", "protected", "strict", "branch_prefix", "update_branches", "close_issue_when_done",
               "launch", "allow_role")
MAX_CONFIG_BYTES = 64 * 1024
ALLOW_ROLES = ("triage", "write", "maintain", "admin")
MAX_LABEL_LENGTH = 50  # GitHub refuses longer label names

_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def ref_problem(ref: str, *, segment: bool = False) -> str | None:
    """None when ``ref`` is a valid branch name (``git check-ref-format --branch`` rules), else
    what is wrong. With ``segment=True`` it must also be a single component (no ``/``)."""
    if not ref:
        return "it is empty"
    if segment and "/" in ref:
        return "it may not contain `/`"
    if _BAD_REF_CHARS.search(ref):
        return "it may not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in ref or "@{" in ref or ref == "@":
        return "it may not contain `..` or `@{`, nor be `@`"
    if ref.startswith(("/", "-")) or ref.endswith(("/", ".")) or "//" in ref:
        return "it may not start with `/` or `-`, end with `/` or `.`, or contain `//`"
    if any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")):
        return "no part may start with `.` or end with `.lock`"
    return None


def parse_config(text: str | None, *, path: str = CONFIG_PATH) -> RepoConfig | list[Problem]:
    """The repository config; None or empty text gives the defaults. Unknown keys, wrong types
    and invalid patterns are problems (with "did you mean" and line), never silently ignored.

    ``text`` is the file's content; ``path`` the file's name as problem messages show it (the
    repository's ``.github/wavegate.yml``, or the file given on the command line). Problems carry
    ``field`` (the key) and the 1-based line in the file. Never raises.
    """
    try:
        return _parse(text, path)
    except Exception as exc:
        return [Problem("internal", f"{path} could not be read ({type(exc).__name__})",
                        "simplify the file")]


def _parse(text: str | None, path: str) -> RepoConfig | list[Problem]:
    if text is None or not text.strip():
        return RepoConfig()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        return [Problem("config-too-large", f"{path} is larger than {MAX_CONFIG_BYTES:,} bytes",
                        "keep only the settings Wavegate reads")]
    try:
        root = yn.compose(text.replace("\r\n", "\n"))
    except yn.YamlProblem as exc:
        line = exc.line + 1 if exc.line is not None else None
        return [Problem(exc.code, f"{path}: {exc.message}", exc.fix, line=line)]
    if root is None or yn.is_null(root):
        return RepoConfig()
    if not isinstance(root, MappingNode):
        return [Problem("wrong-type", f"{path} must be a mapping of settings, not {yn.kind(root)}",
                        "write `key: value` lines, e.g. `strict: true`", line=root.start_mark.line + 1)]
    problems: list[Problem] = []
    values: dict[str, object] = {}
    items, bad = yn.entries(root)
    for what, ln in bad:
        problems.append(Problem("duplicate-key" if what.startswith("duplicate") else "wrong-type", what,
                                "keep one of them", line=ln + 1))
    for e in items:
        line = e.key_node.start_mark.line + 1
        if e.key not in CONFIG_KEYS:
            message, fix = yn.unknown_key_message(e.key, CONFIG_KEYS)
            problems.append(Problem("unknown-key", message, fix, field=e.key, line=line))
            continue
        if e.key == "launch":
            # A section of its own, read by the launch module (several keys, several problems).
            launch = read_config_launch(e.value)
            if isinstance(launch, list):
                problems.extend(launch)
            else:
                values["launch"] = launch
            continue
        try:
            values[e.key] = _value(e.key, e.value)
        except _Bad as bad_value:
            problems.append(Problem(bad_value.code, bad_value.message, bad_value.fix, field=e.key,
                                    line=bad_value.node.start_mark.line + 1))
    if problems:
        # These reach the dispatch issue's dashboard beside plan problems: say which file to edit.
        return [replace(p, message=f"{path}: {p.message}") for p in problems]
    return RepoConfig(**values)  # type: ignore[arg-type]


class _Bad(Exception):
    def __init__(self, message: str, fix: str, node, code: str = "wrong-type"):
        super().__init__(message)
        self.message, self.fix, self.node, self.code = message, fix, node, code


def _value(key: str, node) -> object:
    if key in ("strict", "update_branches", "close_issue_when_done"):
        flag = yn.as_bool(node)
        if flag is None:
            raise _Bad(f"`{key}` must be `true` or `false`, not {yn.kind(node)}",
                       f"write `{key}: true` or `{key}: false`", node)
        return flag
    if key == "label":
        empty = yn.is_null(node) or (isinstance(node, ScalarNode) and node.tag == yn.STR_TAG
                                     and not node.value.strip())
        if empty:
            # A null (`label:`) is a missing value; an empty string is a string that names nothing.
            raise _Bad("`label` is empty: it must name the label that marks dispatch issues",
                       "write e.g. `label: dispatch`, or remove the key for the default `dispatch`", node,
                       "wrong-type" if yn.is_null(node) else "invalid-setting")
        if not (isinstance(node, ScalarNode) and node.tag == yn.STR_TAG):
            # `label: 5` or `label: 1.0` is a number to YAML; like the other keys, no silent conversion.
            raise _Bad(f"`label` must be a label name (a string), not {yn.kind(node)}",
                       "write e.g. `label: dispatch`; quote a label that YAML would read as a number "
                       "or true/false (`label: \"5\"`)", node)
        label = node.value
        if len(label.strip()) > MAX_LABEL_LENGTH:
            raise _Bad(f"`label` is longer than GitHub's {MAX_LABEL_LENGTH} characters",
                       "choose a shorter label", node, "invalid-setting")
        return label.strip()
    if key == "branch_prefix":
        prefix = yn.as_str(node)
        if prefix is None:
            raise _Bad(f"`branch_prefix` must be a string, not {yn.kind(node)}",
                       "write e.g. `branch_prefix: wavegate`", node)
        why = ref_problem(prefix.strip(), segment=True)
        if why:
            raise _Bad(f"`branch_prefix` `{prefix}` is not a valid branch name part: {why}",
                       "use letters, digits, `-` and `_`, e.g. `wavegate`", node, "invalid-setting")
        return prefix.strip()
    if key == "allow_role":
        return _allow_role(node)
    return _protected(node)


def _allow_role(node) -> str:
    """``allow_role``: one of GitHub's repository roles from ``triage`` up (who may let a PR
    through the territory check with ``/wavegate allow``)."""
    role = yn.as_str(node)
    if role is None or role.strip() not in ALLOW_ROLES:
        raise _Bad(f"`allow_role` must be one of {', '.join(ALLOW_ROLES)}",
                   "write e.g. `allow_role: maintain` (the default)", node, "invalid-setting")
    return role.strip()


def _protected(node) -> tuple[str, ...]:
    if isinstance(node, ScalarNode) and (one := yn.as_str(node)) is not None and one.strip():
        items = [(one.strip(), node)]
    elif isinstance(node, SequenceNode):
        items = []
        for item in node.value:
            text = yn.as_str(item)
            if text is None:
                raise _Bad(f"every item of `protected` must be a pattern string, not {yn.kind(item)}",
                           "quote the pattern", item)
            items.append((text, item))
    else:
        raise _Bad(f"`protected` must be a list of patterns, not {yn.kind(node)}",
                   "write e.g. `protected: [.github/workflows/]`, or `protected: []` for none", node)
    for text, item in items:
        why = patterns.pattern_problem(text)
        if why:
            raise _Bad(f"`protected` pattern `{text}`: {why}", patterns.pattern_fix(text), item,
                       "invalid-pattern")
    return tuple(t for t, _ in items)
