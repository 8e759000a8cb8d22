"""Classify a PR's changed paths against the plan: own, exempt, crossing, forbidden, unowned
(agent PRs) or crossing / free (any other PR). DESIGN §3.3."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

from .model import (
    EXEMPT_FILE,
    AgentPR,
    ChangeSet,
    Conclusion,
    FileSource,
    PathKind,
    PathVerdict,
    Plan,
    PrState,
    RepoConfig,
    Side,
    TerritoryVerdict,
)
from .patterns import (
    literal_prefix,
    matches,
    may_meet,
    pattern_problem,
    split_territory,
    territory_regex,
    to_regex,
)

# One alternative of a compiled alternation: (kind, owning agent index or -1, pattern, source).
_Rule = tuple[PathKind, int, str, str | None]


def _alternation(rules: Sequence[_Rule], excluded: Sequence[tuple[str, ...]] = ()
                 ) -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
    """One regex with a capturing group per rule, in order: ``fullmatch`` picks the FIRST rule
    whose pattern matches (Python's alternation is ordered), ``lastindex`` says which.

    ``excluded[i]`` are agent i's exclusions: a rule owned by agent i (index ≥ 0) gets a
    lookahead refusing the paths they match, so a path an agent's territory excludes is never
    that agent's."""
    rx = "|".join(f"({_guarded(pattern, excluded[ai] if 0 <= ai < len(excluded) else ())})"
                  for _, ai, pattern, _ in rules) or "(?!)"
    return re.compile(rx), tuple(rules)


def _guarded(pattern: str, excluded: tuple[str, ...]) -> str:
    # Only exclusions whose literal text can meet the pattern's cost a lookahead.
    meeting = [e for e in excluded if may_meet(e, pattern)]
    if not meeting:
        return to_regex(pattern)
    guard = "|".join(f"(?:{to_regex(e)})" for e in meeting)
    return rf"(?!(?:{guard})\Z){to_regex(pattern)}"


class _Bucket:
    """The territory patterns that can match the paths that reach one place in the trie, in plan
    order as (agent index, pattern index, pattern), with their compiled alternations."""

    __slots__ = ("candidates", "owners", "by_agent")

    def __init__(self, candidates: list[tuple[int, int, str]]) -> None:
        self.candidates = sorted(candidates)
        self.owners: tuple[re.Pattern[str], tuple[_Rule, ...]] | None = None
        self.by_agent: dict[int, tuple[re.Pattern[str], tuple[_Rule, ...]]] = {}


class _Node:
    """A trie node keyed by literal leading path segments.

    ``entries`` are the patterns whose literal segments end here; ``partials`` those whose next
    segment starts with literal text before a wildcard (``svc1-`` of ``scripts/svc1-*.sh``),
    keyed by that text, so a folder shared by many agents is split once more. Every pattern
    that can match a path is filed on the path's walk through the trie.
    """

    __slots__ = ("children", "entries", "partials", "head_lengths", "parent", "_bucket")

    def __init__(self, parent: _Node | None = None) -> None:
        self.children: dict[str, _Node] = {}
        self.entries: list[tuple[int, int, str]] = []
        self.partials: dict[str, list[tuple[int, int, str]]] = {}
        self.head_lengths: tuple[int, ...] = ()
        self.parent = parent
        self._bucket: _Bucket | None = None

    def chain_entries(self) -> list[tuple[int, int, str]]:
        entries: list[tuple[int, int, str]] = []
        node: _Node | None = self
        while node is not None:
            entries.extend(node.entries)
            node = node.parent
        return entries

    def bucket(self) -> _Bucket:
        if self._bucket is None:
            self._bucket = _Bucket(self.chain_entries())
        return self._bucket

    def heads(self, segment: str) -> tuple[tuple[_Node, str], ...]:
        """The ``partials`` keys that ``segment`` (the path segment after this node) starts with."""
        found: tuple[tuple[_Node, str], ...] = ()
        for n in self.head_lengths:
            head = segment[:n]
            if len(head) == n and head in self.partials:
                found += ((self, head),)
        return found


def _head(segment: str) -> str:
    cut = min((i for i in (segment.find("*"), segment.find("?")) if i >= 0), default=len(segment))
    return segment[:cut]


def _valid(patterns: Sequence[str]) -> tuple[str, ...]:
    # Invalid patterns never match anything here; plan validation reports them.
    return tuple(p for p in patterns if pattern_problem(p) is None)


# PathVerdict is a plain frozen dataclass (no __slots__, no __post_init__); its generated
# __init__ costs a setattr per field, a third of the time of classifying a path. Filling the
# instance dict directly gives an equal, equally hashable record.
_FAST_VERDICT = "__slots__" not in vars(PathVerdict) and not hasattr(PathVerdict, "__post_init__")


def _verdict(
    path: str,
    kind: PathKind,
    status: str,
    side: Side,
    counterpart: str | None,
    owner: str | None = None,
    owner_pr: int | None = None,
    rule: str | None = None,
    source: str | None = None,
) -> PathVerdict:
    if not _FAST_VERDICT:
        return PathVerdict(path, kind, status, side, counterpart, owner, owner_pr, rule, source)
    v = object.__new__(PathVerdict)
    v.__dict__.update(
        path=path, kind=kind, status=status, side=side, counterpart=counterpart,
        owner=owner, owner_pr=owner_pr, rule=rule, source=source,
    )
    return v


class PlanMatcher:
    """One combined matcher per plan: which agents own a path, without looping over patterns.

    Territory patterns are filed in a trie by their literal leading segments (and the literal
    head of the next segment). The place a path reaches holds ONE compiled alternation of every
    pattern that can match the path, one capturing group per pattern, so a single ``fullmatch``
    decides it:

    - for ``owners``: the territory patterns in plan order (group → agent, pattern);
    - for classifying agent X's PR: X's DO-NOT-MODIFY, then the protected list, then X's own
      patterns, then every other agent's in plan order. The alternation's order IS the
      precedence forbidden → own → crossing, so the first group that matches is the verdict.

    An agent's patterns carry a lookahead refusing what its territory excludes (its ``!``
    entries, its DO-NOT-MODIFY list and the protected list), so an excluded path is never that
    agent's: not its own, not crossing into it, not among its ``owners``.

    Regexes are compiled lazily per trie place (and per agent). Invalid patterns are ignored (plan
    validation reports them). ``config`` supplies the ``protected`` list.
    """

    _MAX_DIRS = 50_000

    def __init__(self, plan: Plan, config: RepoConfig = RepoConfig()) -> None:
        self.plan = plan
        self.config = config
        self.names: tuple[str, ...] = plan.names
        self._index = {name: i for i, name in enumerate(self.names)}
        self._territories = tuple(_valid(a.territory) for a in plan.agents)
        self._do_not_modify = tuple(_valid(a.do_not_modify) for a in plan.agents)
        self._protected = _valid(config.protected)
        # What each agent's territory excludes: its `!` entries, its DO-NOT-MODIFY, protected.
        self._excluded = tuple(split_territory(a.territory)[1] + self._do_not_modify[i] + self._protected
                               for i, a in enumerate(plan.agents))
        self._root = _Node()
        for ai, patterns in enumerate(self._territories):
            for pi, pattern in enumerate(patterns):
                node = self._root
                prefix = literal_prefix(pattern)
                for seg in prefix:
                    child = node.children.get(seg)
                    if child is None:
                        child = node.children[seg] = _Node(node)
                    node = child
                segments = pattern.lstrip("/").split("/")
                rest = segments[len(prefix)] if len(segments) > len(prefix) else ""
                head = _head(rest) if rest != "**" else ""
                if head:
                    node.partials.setdefault(head, []).append((ai, pi, pattern))
                else:
                    node.entries.append((ai, pi, pattern))
        stack = [self._root]
        while stack:
            node = stack.pop()
            node.head_lengths = tuple(sorted({len(h) for h in node.partials}))
            stack.extend(node.children.values())
        # directory → (deepest trie node along it, whether the whole directory was walked,
        # partial heads matched on the way)
        self._dirs: dict[str, tuple[_Node, bool, tuple[tuple[_Node, str], ...]]] = {}
        self._buckets: dict[tuple[_Node, tuple[tuple[_Node, str], ...]], _Bucket] = {}

    # ------------------------------------------------------------------ lookups

    def _bucket(self, path: str) -> _Bucket:
        directory, _, name = path.rpartition("/")
        hit = self._dirs.get(directory)
        if hit is None:
            node, complete = self._root, True
            heads: tuple[tuple[_Node, str], ...] = ()
            if directory:
                for seg in directory.split("/"):
                    if node.head_lengths:
                        heads += node.heads(seg)
                    child = node.children.get(seg)
                    if child is None:
                        complete = False
                        break
                    node = child
            if len(self._dirs) >= self._MAX_DIRS:
                self._dirs.clear()
            hit = self._dirs[directory] = (node, complete, heads)
        node, complete, heads = hit
        if complete:
            if node.head_lengths:
                heads += node.heads(name)
            node = node.children.get(name, node)
        if not heads:
            return node.bucket()
        bucket = self._buckets.get((node, heads))
        if bucket is None:
            extra = [e for owner, head in heads for e in owner.partials[head]]
            bucket = self._buckets[(node, heads)] = _Bucket(node.chain_entries() + extra)
        return bucket

    def _owners_regex(self, bucket: _Bucket) -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
        if bucket.owners is None:
            bucket.owners = _alternation([(PathKind.OWN, ai, p, None) for ai, _, p in bucket.candidates],
                                         self._excluded)
        return bucket.owners

    def _agent_regex(self, bucket: _Bucket, ai: int) -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
        compiled = bucket.by_agent.get(ai)
        if compiled is None:
            candidates = bucket.candidates
            rules: list[_Rule] = [(PathKind.FORBIDDEN, -1, p, "do_not_modify") for p in self._do_not_modify[ai]]
            rules += [(PathKind.FORBIDDEN, -1, p, "protected") for p in self._protected]
            rules += [(PathKind.OWN, ai, p, None) for aj, _, p in candidates if aj == ai]
            rules += [(PathKind.CROSSING, aj, p, None) for aj, _, p in candidates if aj != ai]
            compiled = bucket.by_agent[ai] = _alternation(rules, self._excluded)
        return compiled

    def rule(self, agent: str, path: str) -> str | None:
        """The first of ``agent``'s territory patterns that matches ``path``, or None."""
        ai = self._index[agent]
        patterns = self._territories[ai]
        if not territory_regex((*patterns, *(f"!{e}" for e in self._excluded[ai]))).fullmatch(path):
            return None
        return next(p for p in patterns if matches(p, path))

    def match(self, path: str) -> tuple[tuple[str, str], ...]:
        """``(agent, pattern)`` for every agent whose territory matches ``path``, in plan order,
        with the first pattern of that agent that matches."""
        rx, table = self._owners_regex(self._bucket(path))
        m = rx.fullmatch(path)
        if m is None:
            return ()
        first, rule = table[m.lastindex - 1][1:3]  # type: ignore[operator]
        out = [(self.names[first], rule)]
        # Only agents with a pattern filed along this path's trie branch can match it.
        for ai in sorted({r[1] for r in table if r[1] > first}):
            name = self.names[ai]
            later = self.rule(name, path)
            if later is not None:
                out.append((name, later))
        return tuple(out)

    def owners(self, path: str) -> tuple[str, ...]:
        """Names of the agents whose territory matches ``path``, in plan order."""
        return tuple(name for name, _ in self.match(path))

    # ------------------------------------------------------------------ agent PRs

    def classify(
        self,
        agent: str,
        path: str,
        prs: Mapping[str, AgentPR] = {},  # noqa: B006
        status: str = "modified",
        side: Side = Side.NEW,
        counterpart: str | None = None,
    ) -> PathVerdict:
        """The verdict for one path changed by ``agent``'s PR, with precedence exempt →
        forbidden (own DO-NOT-MODIFY, then protected) → own → crossing (the first other owner in
        plan order) → unowned. KeyError if ``agent`` is not in the plan."""
        return self.classify_many(agent, [(path, status, side, counterpart)], prs)[0]

    def classify_many(
        self,
        agent: str,
        touched: Iterable[tuple[str, str, Side, str | None]],
        prs: Mapping[str, AgentPR] = {},  # noqa: B006
    ) -> list[PathVerdict]:
        """``classify`` for many ``(path, status, side, counterpart)`` at once (the hot loop)."""
        ai = self._index[agent]
        names = self.names
        numbers = {name: pr.number for name, pr in prs.items()}
        bucket_of, regex_of = self._bucket, self._agent_regex
        out: list[PathVerdict] = []
        for path, status, side, counterpart in touched:
            if path == EXEMPT_FILE:
                out.append(_verdict(path, PathKind.EXEMPT, status, side, counterpart))
                continue
            rx, table = regex_of(bucket_of(path), ai)
            m = rx.fullmatch(path)
            if m is None:
                out.append(_verdict(path, PathKind.UNOWNED, status, side, counterpart))
                continue
            kind, owner_index, rule, source = table[m.lastindex - 1]  # type: ignore[operator]
            if owner_index < 0:
                out.append(_verdict(path, kind, status, side, counterpart, rule=rule, source=source))
            else:
                owner = names[owner_index]
                out.append(_verdict(path, kind, status, side, counterpart, owner, numbers.get(owner), rule))
        return out


@lru_cache(maxsize=64)
def matcher_for(plan: Plan, config: RepoConfig = RepoConfig()) -> PlanMatcher:
    """A cached ``PlanMatcher`` for a (hashable, frozen) plan and config."""
    return PlanMatcher(plan, config)


def unseen_paths(source: FileSource, changed: int | None, found: int) -> int:
    """How many of the files GitHub counts as changed (``changed``, the PR's ``changed_files``)
    a tree comparison did not find (``found`` paths): 0 unless ``source`` is ``TREE``. Comparing
    the merge-base and head trees sees every added, removed or modified entry (type, mode and SHA,
    submodules included) and lists a rename as two paths, so it never finds fewer paths than GitHub
    counts unless a change went unseen; the territory check then fails closed."""
    if source is not FileSource.TREE or changed is None:
        return 0
    return max(0, changed - found)


def fails_closed(changes: ChangeSet) -> bool:
    """True when ``changes`` cannot be trusted to hold every changed path: a tree listing was
    truncated, or the tree comparison found fewer paths than GitHub's ``changed_files``."""
    return changes.source is FileSource.TRUNCATED or unseen_paths(
        changes.source, changes.changed, len(changes.files)) > 0


def touched_paths(changes: ChangeSet) -> Iterator[tuple[str, str, Side, str | None]]:
    """Every ``(path, status, side, counterpart)`` a change set touches: each entry's ``path``
    (``Side.NEW``, counterpart = its ``previous_path``) and its ``previous_path`` (``Side.OLD``,
    counterpart = the new path), whatever GitHub's ``status`` says (``removed``, ``renamed``,
    ``copied``, ``changed``, ``unchanged`` or a future value). GitHub names a moved file once,
    the old path only in ``previous_filename``, so both must be read. A path is yielded once per
    side."""
    seen_new: set[str] = set()
    seen_old: set[str] = set()
    for f in changes.files:
        path, previous = f.path, f.previous_path
        if path not in seen_new:
            seen_new.add(path)
            yield path, f.status, Side.NEW, previous
        if previous and previous != path and previous not in seen_old:
            seen_old.add(previous)
            yield previous, f.status, Side.OLD, path


def classify_agent_pr(
    plan: Plan,
    agent: str,
    changes: ChangeSet,
    prs: Mapping[str, AgentPR],
    config: RepoConfig = RepoConfig(),
    matcher: PlanMatcher | None = None,
) -> TerritoryVerdict:
    """The territory verdict for ``agent``'s PR. Both sides of renames and copies count, every
    status counts (removed included). A truncated change set fails closed.

    Args: ``plan`` and the ``agent`` name (KeyError if the plan has no such agent); ``changes``
    the PR's change set; ``prs`` agent name → its PR (for naming the owner's PR number);
    ``config`` the repository settings (protected list, strict default); ``matcher`` a prebuilt
    ``PlanMatcher`` for this plan and config (a cached one is used when None).

    Per path, first that applies: exempt (``SCOPE-EXPANSIONS.md`` at the root), forbidden (own
    DO-NOT-MODIFY, then the protected list), own, crossing (the first other agent in plan order
    whose territory matches), unowned. Conclusion: failure when any path is crossing or
    forbidden, when any is unowned and the plan is strict (``plan.strict``, else
    ``config.strict``), or when the change set cannot hold every changed path (``fails_closed``:
    a truncated tree listing, or a tree comparison finding fewer paths than GitHub counts: fail
    closed, even with no offending path); success otherwise.
    """
    if plan.agent(agent) is None:
        raise KeyError(f"the plan has no agent {agent!r}")
    strict = plan.strict if plan.strict is not None else config.strict
    m = matcher if matcher is not None else matcher_for(plan, config)
    verdicts = m.classify_many(agent, touched_paths(changes), prs)
    failing = fails_closed(changes) or any(
        v.kind is PathKind.CROSSING or v.kind is PathKind.FORBIDDEN or (strict and v.kind is PathKind.UNOWNED)
        for v in verdicts
    )
    return TerritoryVerdict(
        conclusion=Conclusion.FAILURE if failing else Conclusion.SUCCESS,
        agent=agent,
        paths=tuple(verdicts),
        strict=strict,
        source=changes.source,
        listed=changes.listed,
        changed=changes.changed,
    )


def classify_other_pr(
    active: Sequence[tuple[Plan, Mapping[str, AgentPR]]],
    changes: ChangeSet,
) -> TerritoryVerdict:
    """The verdict for a PR that is no agent's (forks included): failure when a path is in the
    territory of an agent whose PR has not merged (skipped and cancelled agents are left out by
    the caller), success otherwise.

    Args: ``active`` the repository's active plans, each with agent name → its PR. An agent
    absent from that mapping counts as not merged (its PR is still to come), so a caller leaves
    an agent out by dropping it from the plan. Paths are checked against the plans in order and
    their agents in plan order; the first unmerged owner is named (CROSSING, with its PR
    number); other paths are FREE. A change set that cannot hold every changed path fails closed
    (``fails_closed``).
    """
    matchers = [(matcher_for(plan), prs) for plan, prs in active]
    verdicts: list[PathVerdict] = []
    for path, status, side, counterpart in touched_paths(changes):
        verdict = _verdict(path, PathKind.FREE, status, side, counterpart)
        for m, prs in matchers:
            hit = next(((a, r) for a, r in m.match(path) if _state(prs, a) is not PrState.MERGED), None)
            if hit is not None:
                owner, rule = hit
                pr = prs.get(owner)
                number = pr.number if pr is not None else None
                verdict = _verdict(path, PathKind.CROSSING, status, side, counterpart, owner, number, rule)
                break
        verdicts.append(verdict)
    failing = fails_closed(changes) or any(v.kind is PathKind.CROSSING for v in verdicts)
    return TerritoryVerdict(
        conclusion=Conclusion.FAILURE if failing else Conclusion.SUCCESS,
        agent=None,
        paths=tuple(verdicts),
        strict=False,
        source=changes.source,
        listed=changes.listed,
        changed=changes.changed,
    )


def _state(prs: Mapping[str, AgentPR], agent: str) -> PrState:
    pr = prs.get(agent)
    return pr.state if pr is not None else PrState.MISSING
