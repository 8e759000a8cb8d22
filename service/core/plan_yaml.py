"""Stage 1 of the canonical form: the fenced ``dispatch`` YAML block read into a ``PlanDraft``
(DESIGN §2.1). Structure and types only; ``plan.py`` checks the meaning.

Decisions: a list field (``territory``, ``findings``, ``do_not_modify``, ``after``) may be given
as one plain string without spaces or commas (``territory: tests/``), read as a one-item list; a
string with a comma or space there is refused, since it most likely meant several items. An
empty optional list (``findings:`` with nothing after it) is an empty list. Any other key that
is present but unreadable is a problem: it is never replaced by its default.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlnodes as yn
from .launch import parse_agent_launch
from .model import Problem
from .plan_draft import (
    AGENT_KEYS,
    MAX_AGENTS,
    MAX_YAML_VALUES,
    TOP_KEYS,
    AgentDraft,
    Item,
    PlanDraft,
    bounded_wave,
    too_many_agents,
    too_many_values,
)
from .plan_source import Fence


def read_yaml_plan(fence: Fence) -> PlanDraft:
    """The draft of the plan in ``fence`` (a dispatch block). Never raises."""
    reader = _Reader(fence.first_content_line)
    try:
        # The limits are counted on the event stream, before any node is built: a 250 KB block of
        # agents or of one-character items is refused at the cost of reading up to the limit.
        root = yn.compose("\n".join(fence.lines), max_values=MAX_YAML_VALUES, list_limits={"agents": MAX_AGENTS})
    except yn.OverLimit as exc:
        make = too_many_agents if exc.key == "agents" else too_many_values
        reader.draft.problems.append(make(reader.line(exc.line)))
        return reader.draft
    except yn.YamlProblem as exc:
        reader.problem(exc.code, exc.message, exc.fix, line=reader.line(exc.line))
        return reader.draft
    if not fence.closed:
        reader.problem("unclosed-block", "the dispatch block has no closing fence",
                       "end the block with a line of three backticks", line=fence.open_line)
    reader.read_root(root, fence.open_line)
    return reader.draft


class _Reader:
    def __init__(self, offset: int):
        self.offset = offset
        self.draft = PlanDraft(form="yaml")

    def line(self, node_or_line: Node | int | None) -> int | None:
        if node_or_line is None:
            return None
        n = node_or_line if isinstance(node_or_line, int) else yn.line_of(node_or_line)
        return self.offset + n

    def problem(self, code: str, message: str, fix: str = "", *, agent: str | None = None,
                field: str | None = None, line: int | None = None) -> None:
        self.draft.problems.append(Problem(code, message, fix, agent, field, line))

    # ----------------------------------------------------------------- top level

    def read_root(self, root: Node | None, open_line: int) -> None:
        if root is None or not isinstance(root, MappingNode):
            found = "nothing" if root is None else yn.kind(root)
            self.problem("no-agents", f"the dispatch block holds {found}, not a plan",
                         "write a mapping with an `agents:` list, as in the example in the docs",
                         line=open_line if root is None else self.line(root))
            return
        items, bad = yn.entries(root)
        for what, ln in bad:
            self.problem("duplicate-key" if what.startswith("duplicate") else "wrong-type", what,
                         "keep one of them" if what.startswith("duplicate") else "use a plain key",
                         line=self.line(ln))
        agents_seen = False
        for e in items:
            if e.key == "base":
                self.read_base(e)
            elif e.key == "strict":
                value = yn.as_bool(e.value)
                if value is None:
                    self.wrong_type(e, "`strict` must be `true` or `false`", None)
                else:
                    self.draft.strict = value
            elif e.key == "agents":
                agents_seen = True
                self.read_agents(e)
            else:
                message, fix = yn.unknown_key_message(e.key, TOP_KEYS)
                self.problem("unknown-key", message, fix, field=e.key, line=self.line(e.key_node))
                # `agent:` for `agents:` is one mistake, reported once
                agents_seen = agents_seen or yn.suggest(e.key, TOP_KEYS)[0] == "agents"
        if not agents_seen:
            self.problem("no-agents", "the plan has no `agents:` list",
                         "add `agents:` with one entry per agent", field="agents",
                         line=self.line(root))

    def read_base(self, e: yn.Entry) -> None:
        value = yn.as_str(e.value)
        if value is None or not value.strip():
            self.wrong_type(e, "`base` must be a branch name", None)
            return
        self.draft.base = value.strip()
        self.draft.base_line = self.line(e.value)

    def wrong_type(self, e: yn.Entry, what: str, agent: str | None) -> None:
        self.problem("wrong-type", f"{what}, not {yn.kind(e.value)}",
                     _TYPE_FIX.get(e.key, f"give `{e.key}` a value of the right type"),
                     agent=agent, field=e.key, line=self.line(e.value if not yn.is_null(e.value)
                                                               else e.key_node))

    # ----------------------------------------------------------------- agents

    def read_agents(self, e: yn.Entry) -> None:
        if not isinstance(e.value, SequenceNode):
            self.wrong_type(e, "`agents` must be a list of agents (`- name: …`)", None)
            return
        if not e.value.value:
            self.problem("no-agents", "`agents` is empty", "add at least one agent",
                         field="agents", line=self.line(e.key_node))
        for node in e.value.value:
            if not isinstance(node, MappingNode):
                self.problem("wrong-type", f"an agent must be a mapping (`- name: …`), not {yn.kind(node)}",
                             "give each agent `name:` and `territory:` keys", field="agents",
                             line=self.line(node))
                continue
            self.draft.agents.append(self.read_agent(node))

    def read_agent(self, node: MappingNode) -> AgentDraft:
        agent = AgentDraft(line=self.line(node))
        items, bad = yn.entries(node)
        # The name is read first, whatever the key order, so every problem can name its agent.
        for e in items:
            if e.key == "name":
                name = yn.as_str(e.value)
                if name is None or not name.strip():
                    agent.broken.add("name")
                    self.wrong_type(e, "`name` must be a string", None)
                else:
                    agent.name = name.strip()
        who = agent.name
        for what, ln in bad:
            self.problem("duplicate-key" if what.startswith("duplicate") else "wrong-type", what,
                         "keep one of them", agent=who, line=self.line(ln))
        for e in items:
            agent.field_lines.setdefault(e.key, self.line(e.key_node))
            if e.key == "name":
                continue
            if e.key == "wave":
                value = yn.as_int(e.value)
                if value is None:
                    agent.broken.add("wave")
                    self.wrong_type(e, "`wave` must be a whole number ≥ 1", who)
                else:
                    agent.wave, agent.wave_line = bounded_wave(value), self.line(e.value)
            elif e.key == "branch":
                text = yn.as_str(e.value)
                if text is None or not text.strip():
                    agent.broken.add("branch")
                    self.wrong_type(e, "`branch` must be a branch name", who)
                else:
                    agent.branch, agent.branch_line = text.strip(), self.line(e.value)
            elif e.key in ("territory", "do_not_modify", "after", "findings"):
                self.read_list_field(agent, e, who)
            elif e.key == "launch":
                got = parse_agent_launch(e.value, self.line(e.value), agent=who, line_of=self.line)
                if isinstance(got, list):
                    agent.broken.add("launch")
                    self.draft.problems.extend(got)
                else:
                    agent.launch = got
            else:
                message, fix = yn.unknown_key_message(e.key, AGENT_KEYS)
                self.problem("unknown-key", message, fix, agent=who, field=e.key,
                             line=self.line(e.key_node))
        return agent

    def read_list_field(self, agent: AgentDraft, e: yn.Entry, who: str | None) -> None:
        """One of the agent's list fields (findings as text with their lines, the others as items)."""
        values = self.read_list(e, who, optional=e.key != "territory")
        if values is None:
            agent.broken.add(e.key)
        elif e.key == "findings":
            agent.findings, agent.finding_lines = [v.value for v in values], [v.line for v in values]
        else:
            setattr(agent, e.key, values)

    def read_list(self, e: yn.Entry, who: str | None, *, optional: bool) -> list[Item] | None:
        """The list's string items, or None when it cannot be read (reported)."""
        node = e.value
        if yn.is_null(node):
            if optional:
                return []
            self._required(e, who)
            return None
        if isinstance(node, ScalarNode):
            text = yn.as_str(node)
            if text is not None and text.strip() and not any(c in text for c in ", \t"):
                return [Item(text.strip(), self.line(node))]
            self.wrong_type(e, f"`{e.key}` must be a list (`[a, b]` or one `- item` a line)", who)
            return None
        if not isinstance(node, SequenceNode):
            self.wrong_type(e, f"`{e.key}` must be a list", who)
            return None
        out: list[Item] = []
        ok = True
        for item in node.value:
            text = yn.as_str(item)
            if text is None:
                ok = False
                hint = ("quote the item: `- \"P0: …\"`: an unquoted `: ` makes YAML read a mapping"
                        if isinstance(item, MappingNode) else "write each item as a string; quote it if needed")
                self.problem("wrong-type", f"every item of `{e.key}` must be a string, not {yn.kind(item)}",
                             hint, agent=who, field=e.key, line=self.line(item))
                continue
            out.append(Item(text, self.line(item)))
        return out if ok else None

    def _required(self, e: yn.Entry, who: str | None) -> None:
        self.problem("empty-territory", f"`{e.key}` is required and must be non-empty",
                     f"list the paths `{who or 'this agent'}` may change under `{e.key}:`",
                     agent=who, field=e.key, line=self.line(e.key_node))


_TYPE_FIX = {
    "strict": "write `strict: true` or `strict: false`, or remove the key",
    "base": "write the base branch name, e.g. `base: main`, or remove the key for the default branch",
    "wave": "write a whole number, e.g. `wave: 2`, or remove the key for wave 1",
    "branch": "write a branch name, e.g. `branch: security/p0-auth`, or remove the key",
    "name": "write a name such as `security`: lower-case letters, digits and `-`",
    "agents": "write `agents:` followed by one `- name: …` entry per agent",
}
