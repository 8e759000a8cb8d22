"""Plan synthesis (``wavegate plan``): the rules, the Principal Broker acceptance, the property
that every proposal passes the pre-flight, and the texts (golden files ``synthesis-*.md``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import patterns, report_synthesis
from service.core.model import DashboardState, Plan, RepoConfig
from service.core.plan import preflight
from service.core.report_dashboard import dashboard
from service.core.synthesis import propose
from service.core.synthesis_issue import adopted_body, has_plan, issue_proposal
from service.core.synthesis_refs import RepoFacts, resolve
from tests.goldens import GOLDEN, assert_golden

ROOT = Path(__file__).resolve().parents[1]
BROKER = (ROOT / "fixtures" / "findings" / "principal-broker.md").read_text(encoding="utf-8")
BROKER_FILES = tuple((ROOT / "fixtures" / "plans" / "reference-repo-files.txt").read_text(encoding="utf-8").split())
# History of the reference repository: the connection work touched the halt store and the
# directives together three times.
BROKER_HISTORY = (
    ("broker/safety/halt_store.py", "broker/api/directives.py"),
    ("broker/safety/halt_store.py", "broker/api/directives.py", "tests/unit/test_halt_store.py"),
    ("broker/api/directives.py", "broker/safety/halt_store.py"),
    ("broker/api/auth.py",),
    BROKER_FILES,  # the initial import, which touched every file
)
BROKER_REPO = RepoFacts(BROKER_FILES, BROKER_HISTORY)
CONTESTED = ("broker/safety/halt_store.py", "broker/core/dispatcher.py", "broker/api/directives.py")


def owners(proposal, path: str) -> dict[int, list[str]]:
    """Per wave, the agents whose territory holds ``path``."""
    out: dict[int, list[str]] = {}
    for a in proposal.agents:
        if any(patterns.matches(p, path) for p in a.territory):
            out.setdefault(a.wave, []).append(a.name)
    return out


def placements(proposal) -> list[int]:
    return sorted(n for a in proposal.agents for n in a.findings)


def agent(proposal, name: str):
    return next(a for a in proposal.agents if a.name == name)


# --------------------------------------------------------------------------- Principal Broker


@pytest.mark.parametrize("limit", [1, 2, 4])
@pytest.mark.parametrize("repo", [None, BROKER_REPO], ids=["as-written", "checkout"])
def test_principal_broker_proposal(limit, repo):
    proposal = propose(BROKER, limit=limit, repo=repo)
    assert proposal.ok, report_synthesis.proposal_text(proposal)
    assert isinstance(preflight(proposal.block, RepoConfig(), BROKER_FILES), Plan)
    with_files = [f.number for f in proposal.findings if f.references]
    assert placements(proposal) == with_files  # every finding that names a file, exactly once
    assert proposal.unplaced == ()
    for path in CONTESTED:
        assert all(len(names) == 1 for names in owners(proposal, path).values()), path
    testing = agent(proposal, "testing")
    assert testing.wave == max(proposal.waves) and testing.territory == ("tests/",)
    for wave in proposal.waves:
        assert len([a for a in proposal.agents if a.wave == wave]) <= limit
    text = report_synthesis.proposal_text(proposal)
    for c in proposal.consolidations:
        assert f"`{c.path}`: findings from" in text and f"consolidated into `{c.agent}`" in text
    assert {c.path for c in proposal.consolidations} == set(CONTESTED)


def test_principal_broker_with_two_agents_per_wave_is_the_lessons_plan():
    proposal = propose(BROKER, limit=2)
    got = [(a.name, a.wave, a.after, a.territory) for a in proposal.agents]
    assert got == [
        ("security", 1, (), ("broker/api/auth.py", "broker/api/escalations.py", "broker/api/kill_switch.py",
                             "scripts/")),
        ("architecture", 1, (), ("broker/safety/halt_store.py", "broker/safety/kill_switch.py")),
        ("arch-perf", 2, (), ("broker/api/directives.py", "broker/core/", "broker/main.py",
                              "broker/safety/halt_store.py")),
        ("testing", 2, ("arch-perf",), ("tests/",)),
    ]


# --------------------------------------------------------------------------- rules


def shape(text: str, limit: int = 4, repo: RepoFacts | None = None, config: RepoConfig = RepoConfig()):
    proposal = propose(text, limit=limit, repo=repo, config=config)
    assert proposal.ok, report_synthesis.proposal_text(proposal)
    return [(a.name, a.wave, a.territory, a.findings, a.after) for a in proposal.agents]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(  # priorities are waves in order, and no wave is left empty (P0, P2 → 1, 2)
            "- P2: c (`c/x.py`)\n- P0: a (`a/x.py`)\n",
            [("a", 1, ("a/",), (2,), ()), ("c", 2, ("c/",), (1,), ())], id="priorities-to-waves"),
        pytest.param(  # findings sharing a file in one wave: one agent, named after both categories
            "## Architecture\n- P1: x (`s/halt.py`)\n## Performance\n- P1: y (`s/halt.py`)\n- P1: z (`s/halt.py`)\n",
            [("perf-arch", 1, ("s/",), (1, 2, 3), ())], id="shared-file-one-agent"),
        pytest.param(  # ... unless their priorities put them in different waves (then no folder either)
            "- P0: x (`s/halt.py`)\n- P1: y (`s/halt.py`)\n",
            [("s", 1, ("s/halt.py",), (1,), ()), ("s-2", 2, ("s/halt.py",), (2,), ())], id="shared-file-two-waves"),
        pytest.param(  # a folder and a file below it are one territory
            "- `lib/` rewrite\n- fix lib/x/y.py:3\n- docs/a.md typo\n",
            [("lib", 1, ("lib/",), (1, 2), ()), ("docs", 1, ("docs/",), (3,), ())], id="folder-holds-file"),
        pytest.param(  # a glob meets the files it matches
            "- all handlers `api/*.py`\n- api/a.py:1 leak\n- web/b.py\n",
            [("api", 1, ("api/",), (1, 2), ()), ("web", 1, ("web/",), (3,), ())], id="glob-meets-file"),
        pytest.param(  # a folder another wave's finding touches is not written compactly
            "- P0: x (`pkg/a.py`)\n- P1: y (`pkg/b.py`)\n",
            [("pkg", 1, ("pkg/a.py",), (1,), ()), ("pkg-2", 2, ("pkg/b.py",), (2,), ())], id="literal-when-shared"),
        pytest.param(  # without a priority: the last wave
            "- P0: x (`a/x.py`)\n- P1: y (`b/y.py`)\n- z (`c/z.py`)\n",
            [("a", 1, ("a/",), (1,), ()), ("b", 2, ("b/",), (2,), ()), ("c", 2, ("c/",), (3,), ())], id="no-priority"),
    ],
)
def test_rules(text, expected):
    assert shape(text) == expected


def test_agent_limit_merges_smallest_groups_preferring_a_shared_folder():
    text = "".join(f"- P0: f{i} (`{path}`)\n" for i, path in enumerate(
        ["a/x/1.py", "a/x/2.py", "a/y/3.py", "b/4.py", "b/5.py", "c/6.py"], start=1))
    got = shape(text, limit=2)
    # Without a category or a folder all its files share, an agent is called `agent`.
    assert [(name, findings) for name, _, _, findings, _ in got] == [("a", (1, 2, 3)), ("agent", (4, 5, 6))]
    proposal = propose(text, limit=2)
    assert [a.parts for a in proposal.agents] == [3, 3]
    assert "3 groups of findings that share no file" in report_synthesis.proposal_text(proposal)


def test_testing_goes_last_and_waits_for_the_code_it_tests():
    text = ("## Testing\n- P0: cover the parser (`tests/test_parser.py`)\n- P1: cover `src/api.py` (`tests/test_api.py`)\n"
            "## Core\n- P0: parser bug (`src/parser.py`)\n- P1: api bug (`src/api.py`)\n- P1: cli bug (`cli/main.py`)\n")
    proposal = propose(text)
    testing = agent(proposal, "testing")
    assert (testing.wave, testing.territory, testing.findings) == (2, ("tests/",), (1, 2))
    assert [a.name for a in proposal.agents] == ["core", "core-src", "core-cli", "testing"]
    assert testing.after == ("core-src",) and agent(proposal, "core-src").territory == ("src/api.py",)
    assert [(m.finding, m.priority_wave, m.wave, m.reason) for m in proposal.moves] == [(1, 1, 2, "testing")]


def test_with_one_agent_per_wave_testing_gets_a_wave_of_its_own():
    got = shape("- P0: a (`src/a.py`)\n- P0: test a (`tests/test_a.py`)\n", limit=1)
    assert got == [("src", 1, ("src/",), (1,), ()), ("testing", 2, ("tests/",), (2,), ())]


def test_findings_only_on_tests_are_one_testing_agent():
    assert shape("- flaky (`tests/a/test_x.py`)\n- slow (`tests/b/test_y.py`)\n") == [
        ("testing", 1, ("tests/",), (1, 2), ())]


def test_unplaced_and_invalid_references_are_listed_never_dropped():
    proposal = propose("- P0: no file here\n- P0: bad `../up.py`\n- P0: fine `a/b.py`\n")
    assert proposal.unplaced == (1, 2)
    assert [(n.kind, n.finding, n.reference) for n in proposal.notices] == [("invalid", 2, "../up.py")]
    text = report_synthesis.proposal_text(proposal)
    assert "line 1: P0: no file here" in text and "`../up.py` cannot be a territory pattern" in text


def test_protected_paths_are_never_given_to_an_agent():
    proposal = propose("- ci is slow (`.github/workflows/ci.yml`, `.github/actions/x.yml`)\n")
    assert proposal.ok and [a.territory for a in proposal.agents] == [(".github/actions/",)]
    assert [(n.kind, n.reference) for n in proposal.notices] == [("protected", ".github/workflows/ci.yml")]


def test_nothing_to_place_is_no_plan_with_the_reason():
    proposal = propose("- improve docs\n- be faster\n")
    assert not proposal.ok and proposal.unplaced == (1, 2)
    assert report_synthesis.proposal_text(proposal).startswith("No plan proposed: no finding names a file an agent can own (2 findings read")


def test_a_proposal_over_the_plans_limits_is_refused_with_the_problems():
    text = "".join(f"- P{p}: x (`d{p}x{i}/f.py`)\n" for p in range(10) for i in range(11))
    proposal = propose(text, limit=11)
    assert not proposal.ok and proposal.block == ""
    assert {p.code for p in proposal.problems} == {"too-many-agents"}
    assert "would not pass the pre-flight" in report_synthesis.proposal_text(proposal)


def test_a_plan_over_the_pattern_limit_writes_folders_per_wave():
    # Every folder holds files of both waves: written as files, the plan would need 1,040 patterns.
    text = "".join(f"- P0: x (`p{j}/d{i}/a.py`)\n- P1: y (`p{j}/d{i}/b.py`)\n" for j in range(4) for i in range(130))
    proposal = propose(text)
    assert proposal.ok and proposal.folders == "own-wave"
    assert [(a.name, a.wave, a.territory) for a in proposal.agents] == [
        ("p0", 1, ("p0/",)), ("p1", 1, ("p1/",)), ("p2", 1, ("p2/",)), ("p3", 1, ("p3/",)),
        ("p0-2", 2, ("p0/",)), ("p1-2", 2, ("p1/",)), ("p2-2", 2, ("p2/",)), ("p3-2", 2, ("p3/",))]
    assert "To keep the plan within its pattern limit" in report_synthesis.proposal_text(proposal)


def test_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        propose("- a.py", limit=0)


# --------------------------------------------------------------------------- repository


REPO = RepoFacts(
    tracked=("src/api/auth.py", "src/api/users.py", "src/db/conn.py", "src/db/pool.py", "lib/auth.py", "README.md"),
    commits=(("src/api/users.py", "src/db/pool.py"), ("src/db/pool.py", "src/api/users.py"), ("README.md",)),
)


def test_references_are_resolved_against_the_checkout():
    proposal = propose("- P0: `src/api/auht.py` typo\n- P0: `auth.py:3` which one\n- P0: `src/db` folder\n"
                       "- P0: `src/api/*.py` glob\n- P0: `docs/*.md` nothing\n", repo=REPO)
    notices = [(n.kind, n.finding, n.reference, n.suggestions) for n in proposal.notices]
    assert notices == [
        ("missing", 1, "src/api/auht.py", ("src/api/auth.py", "src/api/users.py", "lib/auth.py")),
        ("ambiguous", 2, "auth.py", ("lib/auth.py", "src/api/auth.py")),
        ("no-match", 5, "docs/*.md", ()),
    ]
    keys = resolve(proposal.findings, REPO).keys
    assert keys[1] == ("src/api/auht.py",)
    assert keys[2] == ("lib/auth.py", "src/api/auth.py")
    assert keys[3] == ("src/db/",)
    assert keys[4] == ("src/api/*.py",)  # a glob is kept as written
    text = report_synthesis.proposal_text(proposal)
    assert "`src/api/auht.py` is not a tracked file; kept (the agent may create it); did you mean `src/api/auth.py`, `src/api/users.py` and `lib/auth.py`?" in text


def test_files_changed_together_stay_in_one_agent():
    text = "- P0: users (`src/api/users.py`)\n- P0: pool (`src/db/pool.py`)\n"
    assert len(propose(text).agents) == 2
    proposal = propose(text, repo=REPO)
    assert [a.findings for a in proposal.agents] == [(1, 2)]
    assert [(t.path_a, t.path_b, t.commits) for t in proposal.together] == [("src/api/users.py", "src/db/pool.py", 2)]
    assert "changed together in 2 commits" in report_synthesis.proposal_text(proposal)


# --------------------------------------------------------------------------- property


FILES = ["a/x.py", "a/y.py", "a/b/z.py", "c/x.py", "c/d/e.py", "tests/test_x.py", "tests/u/test_y.py", "m.py"]
REFS = FILES + ["a/", "a/b/", "tests/", "a/*.py", "c/**", "**/z.py", "c/d/*"]
finding_line = st.tuples(
    st.sampled_from(["", "P0: ", "P1: ", "P2: "]),
    st.sampled_from(["", "Security: ", "Performance: ", "Testing: "]),
    st.lists(st.sampled_from(REFS), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(finding_line, min_size=1, max_size=12), st.integers(min_value=1, max_value=4),
       st.booleans())
def test_every_proposal_passes_the_preflight_and_places_every_finding_once(lines, limit, with_repo):
    text = "".join(f"- {p}{c}item {i} " + " ".join(f"`{r}`" for r in refs) + "\n"
                   for i, (p, c, refs) in enumerate(lines))
    repo = RepoFacts(tuple(FILES)) if with_repo else None
    proposal = propose(text, limit=limit, repo=repo)
    if not proposal.agents:
        assert proposal.unplaced == tuple(range(1, len(lines) + 1))
        return
    assert proposal.ok, report_synthesis.proposal_text(proposal)
    assert isinstance(preflight(proposal.block, RepoConfig(), FILES), Plan)
    assert sorted(placements(proposal) + list(proposal.unplaced)) == list(range(1, len(lines) + 1))
    assert not set(placements(proposal)) & set(proposal.unplaced)
    assert len(placements(proposal)) == len(set(placements(proposal)))
    for wave in proposal.waves:
        assert len([a for a in proposal.agents if a.wave == wave]) <= limit
    assert all(a.wave == max(proposal.waves) for a in proposal.agents if a.tests)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("- *`/.:P01ab#\n[]()!?\\ \t")), max_size=200))
def test_any_text_gets_an_answer(text):
    proposal = propose(text)
    assert proposal.ok or proposal.problems or not proposal.agents
    assert report_synthesis.proposal_text(proposal)


# --------------------------------------------------------------------------- the issue


def test_an_issue_with_findings_but_no_plan_gets_a_proposal_it_can_adopt():
    proposal = issue_proposal(BROKER, tracked=BROKER_FILES, limit=2)
    assert proposal is not None and proposal.ok and proposal.repo
    body = adopted_body(BROKER, proposal)
    assert body.startswith(BROKER.rstrip()) and has_plan(body)
    plan = preflight(body, RepoConfig(), BROKER_FILES)
    assert isinstance(plan, Plan) and plan.names == ("security", "architecture", "arch-perf", "testing")
    assert issue_proposal(body) is None  # adopted: the plan is the coordinator's now


def test_adopting_keeps_the_bodys_line_endings():
    body = BROKER.replace("\n", "\r\n")
    adopted = adopted_body(body, issue_proposal(body))
    assert "\n" not in adopted.replace("\r\n", "")


@pytest.mark.parametrize("body", [None, "", "- just words\n", "## Agent: api\nAuthorized files:\n- a.py\n",
                                  "```yaml dispatch\nagents: []\n```\n- P0: x (`a.py`)\n"])
def test_no_proposal_without_findings_or_with_a_plan(body):
    assert issue_proposal(body) is None


def test_adopting_a_refused_proposal_is_an_error():
    with pytest.raises(ValueError):
        adopted_body("- x", propose("- no file"))


def test_a_long_proposal_is_summarised_on_the_dashboard():
    text = "".join(f"- P0: finding {i} with a long description of what is wrong (`d{i % 40}/f{i}.py`)\n"
                   for i in range(600))
    section = report_synthesis.proposal_dashboard(propose(text))
    assert section.startswith(report_synthesis.PROPOSAL_MARKER) and "<details>" in section
    assert "The full plan is too long to show here" in section and len(section.encode()) < 60_000


# --------------------------------------------------------------------------- golden files


GOLDEN_CASES = {
    "synthesis-principal-broker": lambda: report_synthesis.proposal_text(propose(BROKER, repo=BROKER_REPO)),
    "synthesis-dashboard": lambda: report_synthesis.proposal_dashboard(issue_proposal(BROKER, limit=2)),
    "synthesis-refused": lambda: report_synthesis.proposal_text(propose(
        "- improve the docs\n- P0: `../outside.py` is wrong\n")) + "\n----- dashboard\n" + (
        report_synthesis.proposal_dashboard(propose("- P0: `.github/workflows/ci.yml` leaks a token\n"))),
    # The dispatch issue's dashboard while it holds findings but no plan, and /wavegate adopt's refusals.
    "synthesis-issue-dashboard": lambda: dashboard(DashboardState(issue=42, plan=None, proposal=(
        report_synthesis.proposal_dashboard(issue_proposal(BROKER, tracked=BROKER_FILES, limit=2))))),
    "synthesis-adopt-replies": lambda: report_synthesis.adopt_has_plan("maintainer-1") + "\n---\n\n" + (
        report_synthesis.adopt_nothing("maintainer-1", None)),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    assert_golden(name, GOLDEN_CASES[name]())


def test_every_synthesis_golden_file_has_a_case():
    assert {p.stem for p in GOLDEN.glob("synthesis-*.md")} == set(GOLDEN_CASES)


# --------------------------------------------------------------------------- names and territories a new user checks

NEW_USER_FILES = ("broker/api/auth.py", "broker/api/users.py", "broker/main.py", "service/a.py", "service/sub/b.py",
                  "service/core/model.py", "docs/r.md", "tests/test_x.py")


@pytest.mark.parametrize(
    "categories, expected",
    [
        (("Documentation", "Testing"), "documentation"),
        (("Error handling", "Observability"), "error-obs"),
        (("Internationalisation", "Reliability"), "internationalisation-rel"),
        (("Supercalifragilistic expialidocious words everywhere and more",), "supercalifragilistic-expialidocious"),
    ],
)
def test_names_never_cut_a_word(categories, expected):
    text = "".join(f"## {c}\n- P0: fix (`broker/main.py`)\n" for c in categories)
    (proposed,) = [a for a in propose(text).agents if not a.tests]
    assert proposed.name == expected


def test_a_docs_finding_under_a_testing_heading_does_not_make_testing_own_docs():
    text = "## Testing\n- P0: document the test layout in `docs/r.md`\n- P0: flaky `tests/test_x.py`\n"
    proposal = propose(text, repo=RepoFacts(NEW_USER_FILES))
    testing = agent(proposal, "testing")
    assert testing.territory == ("tests/test_x.py",) or testing.territory == ("tests/",)
    assert all("docs" not in p for p in testing.territory)
    assert [a.name for a in proposal.agents if "docs/" in a.territory or "docs/r.md" in a.territory] != ["testing"]


@pytest.mark.parametrize("repo", [None, RepoFacts(NEW_USER_FILES)], ids=["as-written", "checkout"])
def test_references_are_not_widened_past_what_the_agent_holds(repo):
    text = ("## Security\n- P0: token check (`broker/api/auth.py:46-51`)\n- P0: `service/*.py` cleanup\n"
            "- P0: missing `nothere/x.py`\n## Errors\n- P0: `broker/api/users.py` raise\n")
    territory = {p for a in propose(text, repo=repo).agents for p in a.territory}
    assert {"service/*.py", "broker/api/auth.py", "broker/api/users.py"} <= territory
    assert not territory & {"broker/", "service/", "broker/api/"}
    if repo is not None:  # only a checkout tells that `nothere/x.py` does not exist
        assert "nothere/x.py" in territory and "nothere/" not in territory


def test_a_path_fragment_in_prose_is_not_a_root_path():
    text = "- P0: fix the model docs (service/core/model.py) and core/model.py typo\n"
    for repo in (None, RepoFacts(NEW_USER_FILES)):
        keys = resolve(propose(text, repo=repo).findings, repo).keys
        assert keys[1] == ("service/core/model.py",)
    keys = resolve(propose("- P0: `core/model.py` typo\n").findings, RepoFacts(NEW_USER_FILES)).keys
    assert keys[1] == ("service/core/model.py",)


def test_files_sharing_a_folder_only_they_hold_become_the_deepest_such_folder():
    text = "## Security\n- P0: `service/a.py` and `service/sub/b.py`\n"
    (security,) = propose(text, repo=RepoFacts(NEW_USER_FILES)).agents
    assert security.territory == ("service/",)
