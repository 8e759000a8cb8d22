"""From findings to dispatched agents on real processes: an issue labelled ``dispatch`` that lists
findings but no plan gets the proposed plan on its dashboard; ``/wavegate adopt`` writes it into the
body and the agents' branches and PRs follow."""

import pytest

from demo.stack import wait_until

from .conftest import running_stack

pytestmark = pytest.mark.e2e
REPO = "acme/findings"
FILES = {"src/api/auth.py": "def check(token):\n    return bool(token)\n",
         "src/core/engine.py": "def route():\n    pass\n", "docs/guide.md": "# Guide\n"}
FINDINGS = """Audit of the service.

## Security
- P0: auth middleware accepts any non-empty token (`src/api/auth.py:1-2`)

## Performance
- P1: the engine recomputes every route on each request (`src/core/engine.py`)
"""


@pytest.fixture(scope="module")
def stack(request):
    yield from running_stack(request, "wavegate-e2e-propose-")


def dashboard(issue) -> str | None:
    return next((c.body for c in issue.get_comments() if c.body.startswith("<!-- wavegate dashboard -->")), None)


def test_findings_are_proposed_adopted_and_dispatched(stack):
    stack.create_repo(REPO, FILES)
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Audit fixes", body=FINDINGS)
    issue.add_to_labels("dispatch")

    shown = wait_until(lambda: (d := dashboard(issue)) and "<!-- wavegate proposal -->" in d and d, 60,
                       "the proposal on the dashboard")
    assert "/wavegate adopt" in shown and "```yaml dispatch" in shown
    assert not list(coordinator.get_pulls(state="all"))

    issue.create_comment("/wavegate adopt")

    def agent_prs():
        prs = {pr.head.ref.rsplit("/", 1)[1] for pr in coordinator.get_pulls(state="open")}
        return prs if len(prs) == 2 else None

    agents = wait_until(agent_prs, 60, "the adopted plan's agent PRs")
    body = coordinator.get_issue(issue.number).body
    assert body.startswith(FINDINGS.rstrip()) and "```yaml dispatch" in body
    assert all(name in body for name in agents)
    wait_until(lambda: (d := dashboard(issue)) and "<!-- wavegate proposal -->" not in d
               and "### Agents" in d, 60, "the dispatched dashboard")
