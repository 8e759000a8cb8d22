"""``/wavegate`` commands in comments on a dispatch issue or on a PR of its plan (DESIGN §3.5).

Grammar (one command a line, the verb case-insensitive)::

    /wavegate refresh
    /wavegate skip AGENT…
    /wavegate cancel
    /wavegate grant AGENT PATTERN… [— reason]
    /wavegate revoke AGENT PATTERN…
    /wavegate allow [#N] [— reason]          bare `allow`: the PR the comment is on
    /wavegate revoke #N                      ends PR #N's allowance
    /wavegate relaunch AGENT…
    /wavegate adopt

**Reason separator.** The reason starts at the first em dash ``—`` (U+2014) anywhere in the line,
or at the first word that is exactly ``--``, ``-`` or an en dash ``–`` standing alone. GitHub stores
what was typed (it never turns ``--`` into a dash), and a pattern never contains an em dash nor
consists of a lone dash, so none of these can cut a pattern in two. ``grant api src/x.py -- needs
the helper`` and ``grant api src/x.py — needs the helper`` read alike.

**Words.** Agent names are lower-cased and lose surrounding backticks and quotes (``skip `API```
names ``api``). Patterns keep their case; a pattern in backticks may contain spaces
(`` `docs/my notes.md` ``). PR numbers are ``#12`` or ``12``.

Parsing never checks permissions or the plan: each ``Command`` says which role it needs
(``needs``, data for the use case), and ``authorize`` decides against the sender's role.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    """What a command asks for. ``UNKNOWN`` covers unknown verbs and known verbs used wrongly."""

    REFRESH = "refresh"
    SKIP = "skip"
    CANCEL = "cancel"
    GRANT = "grant"
    REVOKE = "revoke"  # revoke AGENT PATTERN…: narrow a territory
    ALLOW = "allow"
    REVOKE_ALLOWANCE = "revoke-allowance"  # revoke #N: end PR #N's allowance
    RELAUNCH = "relaunch"
    ADOPT = "adopt"
    UNKNOWN = "unknown"


VERBS = ("refresh", "skip", "cancel", "grant", "revoke", "allow", "relaunch", "adopt")

# GitHub's repository roles, weakest first (``role_name`` of the collaborator permission endpoint;
# ``none`` for a non-collaborator). A custom role name ranks like ``none``: the refusal names the
# role needed, and an owner can rank the custom role by granting the base role.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
WRITE = "write"
ALLOW_ROLE = "allow_role"  # ``needs`` value: the repository setting decides (default maintain)
DEFAULT_ALLOW_ROLE = "maintain"

# A command is a line of its own, indented by at most three spaces (four make a Markdown code block).
_COMMAND = re.compile(r"^ {0,3}/wavegate(?:\s+(?P<rest>.*))?$", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")
_WORD = re.compile(r"`(?P<ticked>[^`]+)`|(?P<plain>\S+)")
_LONE_SEPARATORS = frozenset({"--", "-", "–"})
_EM_DASH = "—"
_PR = re.compile(r"#?(?P<number>[1-9][0-9]{0,9})")


@dataclass(frozen=True)
class Command:
    """A parsed command.

    ``verb`` is a ``Verb`` value (a ``str``: ``Command("refresh", (), raw)`` still compares
    equal). ``args`` are the words after the verb with the reason left out (agent names
    lower-cased for skip and relaunch; for ``unknown``, every word after ``/wavegate``).
    ``raw`` is the command line as written. ``agent`` and ``patterns`` are set for grant and
    revoke, ``pr`` for allow and revoke-allowance (None on ``allow``: the PR the comment is on),
    ``reason`` whenever one was given.
    ``needs`` is the role the sender must hold: ``write``, or ``allow_role`` for allow and
    revoke-allowance (the repository setting; see ``required_role``). On ``unknown``, ``usage``
    names the verb that was used wrongly and ``suggestion`` the verb a misspelt one most likely
    meant; both None otherwise.
    """

    verb: str
    args: tuple[str, ...] = ()
    raw: str = ""
    agent: str | None = None
    patterns: tuple[str, ...] = ()
    pr: int | None = None
    reason: str | None = None
    needs: str = WRITE
    usage: str | None = None
    suggestion: str | None = None

    def required_role(self, allow_role: str = DEFAULT_ALLOW_ROLE) -> str:
        """The GitHub role this command needs: ``write``, or ``allow_role`` (the repository's
        ``allow_role`` setting) for allow and revoke-allowance."""
        return allow_role if self.needs == ALLOW_ROLE else self.needs


@dataclass(frozen=True)
class Authorization:
    """Whether ``role`` (what GitHub reports for the sender) may run ``command``: ``needed`` is
    the role it takes, ``allowed`` the decision. Roles rank as ``ROLES``."""

    command: Command
    role: str
    needed: str
    allowed: bool


def role_rank(role: str | None) -> int:
    """0 (``none``) … 5 (``admin``); unknown and custom role names rank 0."""
    return ROLES.index(role) if role in ROLES else 0


def authorize(command: Command, role: str | None, allow_role: str = DEFAULT_ALLOW_ROLE) -> Authorization:
    """Decide whether a sender with GitHub role ``role`` may run ``command`` (``allow_role`` is
    the repository setting, default ``maintain``). Never raises."""
    needed = command.required_role(allow_role)
    return Authorization(command, role or "none", needed, role_rank(role) >= max(role_rank(needed), 1))


# --------------------------------------------------------------------------- words


def _words(text: str) -> list[str]:
    return [m["ticked"].strip() if m["ticked"] is not None else m["plain"] for m in _WORD.finditer(text)]


def _split_reason(rest: str) -> tuple[str, str | None]:
    """``(command words, reason)``; the reason None when there is no separator, and None too when
    the separator has nothing after it."""
    cut = rest.find(_EM_DASH)
    head, reason = (rest[:cut], rest[cut + 1:]) if cut >= 0 else (rest, None)
    for match in _WORD.finditer(head):
        if match["plain"] in _LONE_SEPARATORS:
            tail = head[match.end():]
            reason = tail if reason is None else f"{tail}{_EM_DASH}{reason}"
            head = head[:match.start()]
            break
    reason = " ".join(reason.split()) if reason is not None else None
    return head, reason or None


def _name(word: str) -> str:
    # Agent names are lowercase ([a-z0-9-]); `api`, api, and API all name the same agent.
    return word.strip("`'\",").lower()


def _pr_number(word: str) -> int | None:
    match = _PR.fullmatch(word)
    return int(match["number"]) if match else None


# --------------------------------------------------------------------------- verbs


def _unknown(words: list[str], raw: str, usage: str | None = None) -> Command:
    suggestion = None
    if usage is None and words:
        close = difflib.get_close_matches(words[0].lower(), VERBS, n=1, cutoff=0.7)
        suggestion = close[0] if close else None
    return Command(Verb.UNKNOWN, tuple(words), raw, usage=usage, suggestion=suggestion)


def _names_command(verb: Verb, args: list[str], reason: str | None, all_words: list[str],
                   raw: str) -> Command:
    names = tuple(n for n in (_name(w) for w in args) if n)
    if not names:
        return _unknown(all_words, raw, usage=verb.value)
    return Command(verb, names, raw, reason=reason)


def _territory_command(verb: Verb, args: list[str], reason: str | None, all_words: list[str],
                       raw: str) -> Command:
    if len(args) < 2:
        return _unknown(all_words, raw, usage=verb.value)
    agent, patterns = _name(args[0]), tuple(dict.fromkeys(args[1:]))
    return Command(verb, (agent, *patterns), raw, agent=agent, patterns=patterns, reason=reason)


def _allow(args: list[str], reason: str | None, all_words: list[str], raw: str) -> Command:
    if len(args) > 1 or (args and _pr_number(args[0]) is None):
        return _unknown(all_words, raw, usage="allow")
    pr = _pr_number(args[0]) if args else None
    return Command(Verb.ALLOW, tuple(args), raw, pr=pr, reason=reason, needs=ALLOW_ROLE)


def _revoke(args: list[str], reason: str | None, all_words: list[str], raw: str) -> Command:
    pr = _pr_number(args[0]) if len(args) == 1 else None
    if pr is not None:
        return Command(Verb.REVOKE_ALLOWANCE, tuple(args), raw, pr=pr, reason=reason, needs=ALLOW_ROLE)
    return _territory_command(Verb.REVOKE, args, reason, all_words, raw)


def _command(line: str, rest: str | None) -> Command:
    raw = line.strip()
    head, reason = _split_reason(rest or "")
    all_words = _words(rest or "")
    words = _words(head)
    if not words:
        return _unknown(all_words, raw)
    verb, args = words[0].lower(), words[1:]
    if verb == "skip":
        return _names_command(Verb.SKIP, args, reason, all_words, raw)
    if verb == "relaunch":
        return _names_command(Verb.RELAUNCH, args, reason, all_words, raw)
    if verb == "grant":
        return _territory_command(Verb.GRANT, args, reason, all_words, raw)
    if verb == "revoke":
        return _revoke(args, reason, all_words, raw)
    if verb == "allow":
        return _allow(args, reason, all_words, raw)
    if verb in ("refresh", "cancel", "adopt"):
        return Command(Verb(verb), tuple(args), raw, reason=reason)
    return _unknown(all_words, raw)


def parse_commands(body: str | None) -> list[Command]:
    """Every line starting with ``/wavegate`` in a comment body, in order (quoted lines, fenced
    code blocks and indented code ignored). The verb is case-insensitive.

    Returns ``Command``s (see the module docstring for the grammar): ``refresh``, ``cancel`` and
    ``adopt`` keep extra words in ``args``; ``skip`` and ``relaunch`` carry the lower-cased agent
    names in ``args``; ``grant`` and ``revoke`` carry ``agent``,
    ``patterns`` (duplicates dropped, order kept) and ``reason``; ``allow`` and ``revoke #N``
    (verb ``revoke-allowance``) carry ``pr`` and ``reason``. Anything else, a bare ``/wavegate``
    and a known verb without what it needs come back as verb ``unknown`` with every word after
    ``/wavegate`` in ``args`` (and ``usage`` or ``suggestion`` set for the help). Never raises.
    """
    if not body:
        return []
    commands: list[Command] = []
    fence: str | None = None
    for line in body.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:
            # A fence closes with the same character, at least as long as the opening one.
            if opening and opening["fence"][0] == fence[0] and len(opening["fence"]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening["fence"]
            continue
        if _QUOTE.match(line):
            continue
        match = _COMMAND.match(line.rstrip())
        if match:
            commands.append(_command(line, match["rest"]))
    return commands
