"""``wavegate check --json``: the pre-flight's result as a versioned JSON document for CI.

Shape (version 1; a new key may be added within a version, a change of meaning bumps it)::

    {"format": "wavegate-check", "version": 1, "passed": true|false,
     "plan": null | {"form", "base", "strict",
                     "agents": [{"name", "wave", "after", "territory", "do_not_modify",
                                 "findings", "branch", "line"}]},
     "problems": [{"code", "message", "fix", "agent", "field", "line", "more"}],
     "warnings": [{"code", "message", "fix", "agent", "field", "line", "pattern", "suggestion"}]}

``plan`` is null when the plan could not be read (its problems say why). ``territory`` keeps
exclusions as written (``!src/gen/``). ``line`` is 1-based or null.
"""

from __future__ import annotations

from typing import Any

from .model import Agent, Plan, PlanCheck, PlanWarning, Problem

FORMAT = "wavegate-check"
VERSION = 1


def check_json(found: PlanCheck) -> dict[str, Any]:
    """The JSON-ready document (plain dicts, lists, strings, numbers, booleans and None)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "passed": found.passed,
        "plan": _plan(found.plan) if found.plan is not None else None,
        "problems": [_problem(p) for p in found.problems],
        "warnings": [_warning(w) for w in found.warnings],
    }


def _plan(plan: Plan) -> dict[str, Any]:
    return {"form": plan.form, "base": plan.base, "strict": plan.strict, "agents": [_agent(a) for a in plan.agents]}


def _agent(a: Agent) -> dict[str, Any]:
    return {"name": a.name, "wave": a.wave, "after": list(a.after), "territory": list(a.territory),
            "do_not_modify": list(a.do_not_modify), "findings": list(a.findings), "branch": a.branch,
            "line": a.line}


def _problem(p: Problem) -> dict[str, Any]:
    return {"code": p.code, "message": p.message, "fix": p.fix, "agent": p.agent, "field": p.field,
            "line": p.line, "more": p.more}


def _warning(w: PlanWarning) -> dict[str, Any]:
    return {"code": w.code, "message": w.message, "fix": w.fix, "agent": w.agent, "field": w.field,
            "line": w.line, "pattern": w.pattern, "suggestion": w.suggestion}
