"""YAML read as a node graph with line numbers, for the plan block and ``.github/wavegate.yml``.

The text is only *composed* (``yaml.compose`` with the safe resolver), never constructed, so tags
never run code and every mapping key keeps its line. Aliases are refused (an alias bomb, "billion
laughs", expands only through aliases) and nesting is capped, because the composer recurses once
per level. Every failure becomes a ``YamlProblem`` with a 0-based line inside the text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 32

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
STANDARD_TAGS = frozenset(
    {STR_TAG, INT_TAG, FLOAT_TAG, BOOL_TAG, NULL_TAG, "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
)


class YamlProblem(Exception):
    """The text is not YAML Wavegate reads. ``line`` is 0-based within the text, or None."""

    def __init__(self, code: str, message: str, fix: str = "", line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix
        self.line = line


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        _refuse(event)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep(event.start_mark.line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_CLoader = getattr(yaml, "CSafeLoader", None)
# An issue body is JSON, which may carry lone surrogates (``\ud800``) that no YAML reader accepts;
# they become U+FFFD. YAML also breaks lines at NEL, LS and PS, while GitHub's editor (and the
# line numbers users see) break only at ``\n``: those become spaces so the lines agree.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")
_NOT_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


class OverLimit(YamlProblem):
    """The text holds more than ``compose`` was allowed to build: more than ``limit`` items in
    the list under the root mapping's ``key``, or (``key`` None) more than ``limit`` values in
    the whole document. ``line`` (0-based) is where the first value past the limit starts.
    ``code`` is ``"over-limit"``; the caller words the problem."""

    def __init__(self, key: str | None, limit: int, line: int):
        what = f"`{key}` has more than {limit:,} items" if key else f"more than {limit:,} values"
        super().__init__("over-limit", what, "", line)
        self.key = key
        self.limit = limit


def compose(text: str, *, max_values: int | None = None,
            list_limits: Mapping[str, int] | None = None) -> Node | None:
    """The root node of the single YAML document in ``text`` (None for an empty document).

    Raises ``YamlProblem`` for syntax errors (with the line GitHub users see in their editor,
    0-based here), several documents, aliases, tags other than the standard ones and nesting
    deeper than ``MAX_DEPTH``. Raises ``OverLimit`` when the document holds more than
    ``max_values`` values (scalars, lists and mappings) or when a list under a key of the root
    mapping holds more items than ``list_limits[key]``: the screening stops there and nothing is
    composed, so refusing a 250 KB list costs about as much as reading the limit's worth of it.
    Uses libyaml when PyYAML was built with it (a 256 KiB block takes well under a second there,
    and many seconds in pure Python): the events are screened first, then composed.
    """
    text = _NOT_LINE_BREAKS.sub(" ", _LONE_SURROGATES.sub("\ufffd", text))
    try:
        if _CLoader is not None:
            _screen(yaml.parse(text, Loader=_CLoader), max_values, list_limits or {})
            return yaml.compose(text, Loader=_CLoader)
        if max_values is not None or list_limits:
            _screen(yaml.parse(text, Loader=yaml.SafeLoader), max_values, list_limits or {})
        loader = _Loader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except YamlProblem:
        raise
    except yaml.reader.ReaderError as exc:
        char = f" (U+{exc.character:04X})" if isinstance(exc.character, int) else ""
        raise YamlProblem("yaml-syntax", f"the YAML holds a character it does not allow{char}",
                          "remove control characters from the block",
                          text[: exc.position].count("\n")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        fix = "fix the YAML syntax"
        lines = text.split("\n")
        if mark and mark.line < len(lines) and "\t" in lines[mark.line]:
            fix = "indent with spaces: YAML does not allow tabs for indentation"
        raise YamlProblem("yaml-syntax", f"YAML syntax error: {what}", fix,
                          mark.line if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlProblem("yaml-syntax", f"YAML error: {exc}", "fix the YAML syntax") from None


def _screen(events, max_values: int | None, list_limits: Mapping[str, int]) -> None:
    """Refuse aliases, foreign tags, deep nesting and the limits of ``compose`` from the event
    stream alone (one pass, nothing built; it stops at the first refusal)."""
    screen = _Screen(max_values, list_limits)
    for event in events:
        _refuse(event)
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            screen.value(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            screen.close()


class _Screen:
    """The running counts of ``_screen``: nesting depth, values read, and the items of the
    root-level list being read against its limit."""

    def __init__(self, max_values: int | None, list_limits: Mapping[str, int]) -> None:
        self.max_values, self.list_limits = max_values, list_limits
        self.depth = self.values = self.items = 0
        self.root_is_map = False
        self.expect_key = True  # at depth 1 of the root mapping: is the next value a key?
        self.key: str | None = None
        self.limit: int | None = None  # items allowed in the root-level list being read (depth 2)

    def value(self, event) -> None:
        self.values += 1
        if self.max_values is not None and self.values > self.max_values:
            raise OverLimit(None, self.max_values, event.start_mark.line)
        if self.depth == 2 and self.limit is not None:
            self.items += 1
            if self.items > self.limit:
                raise OverLimit(self.key, self.limit, event.start_mark.line)
        elif self.depth == 1 and self.root_is_map:
            self._root_entry(event)
        if isinstance(event, yaml.CollectionStartEvent):
            self._open(event)

    def _root_entry(self, event) -> None:
        if self.expect_key:
            self.key = event.value if isinstance(event, yaml.ScalarEvent) else None
        elif isinstance(event, yaml.SequenceStartEvent) and self.key is not None and self.key in self.list_limits:
            self.limit, self.items = self.list_limits[self.key], 0
        self.expect_key = not self.expect_key

    def _open(self, event) -> None:
        self.root_is_map = self.root_is_map or (self.depth == 0 and isinstance(event, yaml.MappingStartEvent))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _too_deep(event.start_mark.line)

    def close(self) -> None:
        self.depth -= 1
        if self.depth == 1:
            self.limit = None


def _refuse(event) -> None:
    if isinstance(event, yaml.AliasEvent):
        raise YamlProblem("yaml-alias", "YAML aliases (`*name`) are not accepted",
                          "write the values out in full", event.start_mark.line)
    tag = getattr(event, "tag", None)
    if tag not in (None, "!") and tag not in STANDARD_TAGS:
        raise YamlProblem(
            "yaml-tag", f"the YAML tag `{tag}` is not accepted",
            "remove the tag; plans hold only strings, numbers, true/false, lists and mappings. "
            f"A territory exclusion is written in quotes: `\"{tag}\"`",
            event.start_mark.line,
        )


def _too_deep(line: int) -> YamlProblem:
    return YamlProblem("yaml-too-deep", f"the YAML is nested more than {MAX_DEPTH} levels deep",
                       "a plan needs three levels: top-level keys, agents, their lists", line)


def line_of(node: Node) -> int:
    """0-based line where ``node`` starts."""
    return node.start_mark.line


def kind(node: Node) -> str:
    """What the node is, in words for messages: a list, a mapping, a number, a string …"""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {
        STR_TAG: "a string",
        INT_TAG: "a number",
        FLOAT_TAG: "a number",
        BOOL_TAG: "true/false",
        NULL_TAG: "empty",
    }.get(node.tag, f"a value tagged `{node.tag}`")


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def as_str(node: Node) -> str | None:
    """The text of a string-like scalar (strings, and numbers as written: ``1.0`` stays ``1.0``);
    None for anything else, including YAML 1.1 booleans such as ``yes``/``no``/``on`` and nulls."""
    if isinstance(node, ScalarNode) and node.tag in (STR_TAG, INT_TAG, FLOAT_TAG):
        return node.value
    return None


def as_bool(node: Node) -> bool | None:
    """``true``/``false`` (YAML 1.1 also reads ``yes``/``no``/``on``/``off``); None otherwise."""
    if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
        return yaml.constructor.SafeConstructor.bool_values[node.value.lower()]
    return None


def as_int(node: Node) -> int | None:
    """An integer scalar (``1``, ``0x10``, ``1_000``); None for anything else, booleans included."""
    if isinstance(node, ScalarNode) and node.tag == INT_TAG:
        try:
            return yaml.constructor.SafeConstructor().construct_yaml_int(node)
        except (ValueError, yaml.YAMLError):
            return None
    return None


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` of a mapping, the key as written."""

    key: str
    key_node: Node
    value: Node


def entries(node: MappingNode) -> tuple[list[Entry], list[tuple[str, int]]]:
    """The mapping's entries, plus ``(what, 0-based line)`` for keys that are not plain scalars
    or that repeat (YAML libraries differ on duplicates; a silent "last one wins" would drop one)."""
    out: list[Entry] = []
    bad: list[tuple[str, int]] = []
    seen: set[str] = set()
    for key_node, value in node.value:
        if not isinstance(key_node, ScalarNode):
            bad.append(("a key must be a plain word, not " + kind(key_node), line_of(key_node)))
            continue
        key = key_node.value
        if key in seen:
            bad.append((f"duplicate key `{key}`", line_of(key_node)))
            continue
        seen.add(key)
        out.append(Entry(key, key_node, value))
    return out, bad


def suggest(key: str, allowed: Sequence[str]) -> tuple[str | None, bool]:
    """The allowed key a misspelt ``key`` most likely means, and whether only case differs.

    ``Wave`` → (``wave``, True); ``do-not-modify`` → (``do_not_modify``, False); ``teritory`` →
    (``territory``, False); ``owner`` → (None, False).
    """
    if not isinstance(key, str) or not key:
        return None, False
    normal = key.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in allowed:
        return normal, key.lower() == normal
    close = difflib.get_close_matches(normal, list(allowed), n=1, cutoff=0.6)
    return (close[0], False) if close else (None, False)


def unknown_key_message(key: str, allowed: Sequence[str]) -> tuple[str, str]:
    """``(message, fix)`` for an unknown key, with "did you mean" when a key is close."""
    guess, case_only = suggest(key, allowed)
    if guess:
        message = f"unknown key `{key}`; did you mean `{guess}`?"
        if case_only:
            message += " (keys are case-sensitive)"
        return message, f"rename `{key}` to `{guess}`"
    return (
        f"unknown key `{key}`",
        "remove it; the keys allowed here are " + ", ".join(f"`{k}`" for k in allowed),
    )
