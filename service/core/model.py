"""The frozen records every Wavegate decision is made of and explained by.

Nothing here does I/O. Records are immutable and hashable so decisions can be compared,
cached and pinned by tests. Times are ``datetime`` objects in UTC; durations are seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dividend import AgentWork
    from .launch import LaunchSettings, LaunchState

TERRITORY_CHECK = "wavegate/territory"
GATE_CHECK = "wavegate/wave-gate"
CHECK_NAMES = (TERRITORY_CHECK, GATE_CHECK)
EXEMPT_FILE = "SCOPE-EXPANSIONS.md"


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Agent:
    """One unit of parallel work: one branch, one pull request.

    ``line`` is the 1-based line of the agent's definition in the issue body (None if unknown).
    ``branch`` is the explicit branch from the plan, or None for the default
    ``<branch_prefix>/<issue>/<name>`` (see ``markers.branch_name``).
    """

    name: str
    territory: tuple[str, ...]
    wave: int = 1
    after: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    do_not_modify: tuple[str, ...] = ()
    branch: str | None = None
    line: int | None = None
    launch: LaunchSettings | None = None  # the plan's per-agent `launch:` (None: the repository's)

    @property
    def exclusions(self) -> tuple[str, ...]:
        """What the agent's territory leaves out of its scope: its ``!`` entries (without the
        ``!``), then its DO-NOT-MODIFY patterns; the repository's protected list comes on top."""
        own = tuple(p[1:] for p in self.territory if p.startswith("!"))
        return own + tuple(p for p in self.do_not_modify if p not in own)


@dataclass(frozen=True)
class Plan:
    """A validated dispatch plan. ``form`` is ``"yaml"`` or ``"prose"``.

    ``strict`` is None when the plan does not say (the repository config decides).
    ``base`` is None for the repository's default branch.
    """

    agents: tuple[Agent, ...]
    base: str | None = None
    strict: bool | None = None
    form: str = "yaml"

    def agent(self, name: str) -> Agent | None:
        for a in self.agents:
            if a.name == name:
                return a
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.agents)

    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(sorted({a.wave for a in self.agents}))


@dataclass(frozen=True)
class _Located:
    """What a problem and a warning share: the stable ``code``, the ``message`` and ``fix`` for the
    plan's author, and where it is (``agent``, ``field``, the 1-based ``line``) when known."""

    code: str
    message: str
    fix: str = ""
    agent: str | None = None
    field: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Problem(_Located):
    """One thing wrong with a plan or a config, phrased for the person who wrote it.

    ``code`` is a stable machine-readable kind (``unknown-key``, ``overlap``, ``wave-gap`` …);
    ``message`` says what is wrong, ``fix`` how to fix it; ``agent``, ``field`` and the 1-based
    ``line`` locate it where known. ``more`` is set only on the ``too-many-problems`` entry that
    closes a cut list: how many problems it stands for.
    """

    more: int = 0


@dataclass(frozen=True)
class PlanWarning(_Located):
    """Something in a plan that is probably a mistake but blocks nothing (agents may create new
    files), e.g. a pattern that matches no tracked file. Same location fields as ``Problem``;
    ``pattern`` is the entry warned about as written, ``suggestion`` the pattern the author
    probably meant (None when nothing is close)."""

    suggestion: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class PlanCheck:
    """Everything the pre-flight found: the plan (None when it could not be read at all), every
    problem (any problem refuses the plan) and every warning (none refuses it)."""

    plan: Plan | None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()

    @property
    def passed(self) -> bool:
        return self.plan is not None and not self.problems


def count_problems(problems: Sequence[Problem]) -> int:
    """How many problems a list stands for: a closing ``too-many-problems`` entry counts as the
    ``more`` problems it replaces."""
    return sum(p.more or 1 for p in problems)


@dataclass(frozen=True)
class RepoConfig:
    """Repository settings from ``.github/wavegate.yml`` on the default branch (DESIGN §2.5)."""

    label: str = "dispatch"
    protected: tuple[str, ...] = (".github/workflows/",)
    strict: bool = False
    branch_prefix: str = "wavegate"
    update_branches: bool = True
    close_issue_when_done: bool = True
    launch: LaunchSettings | None = None  # None: no `launch` section, no agent is started
    allow_role: str = "maintain"  # the role `/wavegate allow #N` and `revoke #N` need


@dataclass(frozen=True)
class Overlap:
    """Two concurrently running agents whose territories share paths.

    ``witnesses`` are example paths matched by both, real repository files first, otherwise the
    shortest possible path. ``pattern_a`` / ``pattern_b`` are the patterns that meet.
    """

    agent_a: str
    agent_b: str
    pattern_a: str
    pattern_b: str
    witnesses: tuple[str, ...]


# --------------------------------------------------------------------------- pull requests


class PrState(StrEnum):
    MISSING = "missing"  # no PR for the agent yet
    OPEN = "open"
    MERGED = "merged"
    CLOSED = "closed"  # closed without merging


@dataclass(frozen=True)
class AgentPR:
    """What GitHub currently says about one agent's pull request."""

    agent: str
    number: int | None = None
    state: PrState = PrState.MISSING
    head_sha: str | None = None
    opened_at: datetime | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None


@dataclass(frozen=True)
class ChangedFile:
    """One entry of a pull request's file list.

    ``status`` is GitHub's string as sent (``added``, ``removed``, ``modified``, ``renamed``,
    ``copied``, ``changed``, ``unchanged`` or any future value); ``previous_path`` is
    ``previous_filename`` for renames and copies. Both paths count as touched.
    """

    path: str
    status: str = "modified"
    previous_path: str | None = None


class FileSource(StrEnum):
    FILES = "files"  # the PR's file list, complete
    TREE = "tree"  # the list was capped or inconsistent; merge-base and head trees were diffed
    TRUNCATED = "truncated"  # the list was capped and a tree listing was truncated: fail closed


@dataclass(frozen=True)
class ChangeSet:
    """Every path a PR changes, and how that list was obtained.

    ``listed`` is how many entries the file list returned, ``changed`` the PR's ``changed_files``.
    """

    files: tuple[ChangedFile, ...]
    source: FileSource = FileSource.FILES
    listed: int | None = None
    changed: int | None = None


# --------------------------------------------------------------------------- territory


class PathKind(StrEnum):
    OWN = "own"
    EXEMPT = "exempt"
    CROSSING = "crossing"
    FORBIDDEN = "forbidden"
    UNOWNED = "unowned"
    FREE = "free"  # non-agent PR: the path is in no active territory


class Side(StrEnum):
    NEW = "new"  # ``filename``
    OLD = "old"  # ``previous_filename`` of a rename or copy


@dataclass(frozen=True)
class PathVerdict:
    """How one touched path relates to the plan.

    ``owner`` / ``owner_pr`` name the agent (and its PR number, if any) that owns the path, for
    own and crossing paths; ``rule`` is the pattern that matched; ``source`` says why a forbidden
    path is forbidden (``do_not_modify`` or ``protected``).
    """

    path: str
    kind: PathKind
    status: str = "modified"
    side: Side = Side.NEW
    counterpart: str | None = None
    owner: str | None = None
    owner_pr: int | None = None
    rule: str | None = None
    source: str | None = None


class Conclusion(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class TerritoryVerdict:
    """The territory check's decision for one PR head.

    ``agent`` is None for a PR that is not an agent PR. ``offending`` lists the paths that make it
    fail; ``notices`` the unowned paths reported without failing (non-strict plans).
    """

    conclusion: Conclusion
    agent: str | None
    paths: tuple[PathVerdict, ...]
    strict: bool = False
    source: FileSource = FileSource.FILES
    listed: int | None = None
    changed: int | None = None

    @property
    def offending(self) -> tuple[PathVerdict, ...]:
        bad = {PathKind.CROSSING, PathKind.FORBIDDEN}
        return tuple(
            p for p in self.paths if p.kind in bad or (p.kind is PathKind.UNOWNED and self.strict)
        )

    @property
    def notices(self) -> tuple[PathVerdict, ...]:
        if self.strict:
            return ()
        return tuple(p for p in self.paths if p.kind is PathKind.UNOWNED)


# --------------------------------------------------------------------------- gates


class GateState(StrEnum):
    UNLOCKED = "unlocked"  # every dependency merged (or skipped): success
    WAITING = "waiting"  # some dependency still open or not yet opened: in_progress
    BLOCKED = "blocked"  # a dependency closed without merging: failure
    MERGED = "merged"  # the agent's own PR merged
    SKIPPED = "skipped"  # /wavegate skip AGENT: treated as done
    CANCELLED = "cancelled"  # /wavegate cancel: success with a note
    REMOVED = "removed"  # the agent left the plan after dispatch: failure


@dataclass(frozen=True)
class Dependency:
    """A dependency of an agent, with the PR that stands for it."""

    agent: str
    wave: int
    number: int | None
    state: PrState


@dataclass(frozen=True)
class GateDecision:
    """The wave gate for one agent: its state and whom it waits on or is blocked by."""

    agent: str
    wave: int
    state: GateState
    waiting_on: tuple[Dependency, ...] = ()
    blocked_by: tuple[Dependency, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.state in {
            GateState.UNLOCKED,
            GateState.MERGED,
            GateState.SKIPPED,
            GateState.CANCELLED,
        }


# --------------------------------------------------------------------------- check runs


@dataclass(frozen=True)
class Annotation:
    """One check-run annotation (GitHub: path, lines, level notice|warning|failure, message)."""

    path: str
    message: str
    annotation_level: str = "failure"
    title: str | None = None
    start_line: int = 1
    end_line: int = 1


@dataclass(frozen=True)
class CheckOutput:
    """Everything one check run shows. ``status`` is queued|in_progress|completed; ``conclusion``
    is set only when completed. ``annotations`` are all of them; the adapter sends 50 a request."""

    name: str
    status: str
    conclusion: str | None
    title: str
    summary: str
    text: str | None = None
    annotations: tuple[Annotation, ...] = ()
    external_id: str | None = None  # the plan version judged (``version.PlanVersion.external_id``)


# --------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class AgentRow:
    """One agent's line on the dashboard."""

    agent: str
    wave: int
    territory: tuple[str, ...]
    pr: AgentPR
    territory_conclusion: str | None = None  # success | failure | neutral | None (not yet)
    gate: GateDecision | None = None
    scope_expansions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Amendment:
    """A valid edit of a dispatched plan: the plan hash before and after, and what changed."""

    old_hash: str
    new_hash: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    at: datetime | None = None


@dataclass(frozen=True)
class DashboardState:
    """All the dashboard comment shows (DESIGN §3.6).

    ``notice`` is a one-off message (a refused sender, an API failure with its job id).
    ``dispatched_at`` starts the parallelism dividend's wall clock.
    """

    issue: int
    plan: Plan | None
    plan_hash: str | None = None
    problems: tuple[Problem, ...] = ()
    rows: tuple[AgentRow, ...] = ()
    cancelled: bool = False
    skipped: frozenset[str] = field(default_factory=frozenset)
    amendments: tuple[Amendment, ...] = ()
    notice: str | None = None
    dispatched_at: datetime | None = None
    warnings: tuple[PlanWarning, ...] = ()
    proposal: str | None = None  # the folded plan proposed from the issue's findings (no plan yet)
    launches: tuple[LaunchState, ...] = ()  # each agent's launch state, when launching is configured
    work: tuple[AgentWork, ...] = ()  # agents' work time for the dividend (empty: PR opened → merged)
    audit: tuple[Any, ...] = ()  # ``audit.AuditEntry``, newest first
    allowances: tuple[Any, ...] = ()  # ``audit.Allowance``, revoked ones included
