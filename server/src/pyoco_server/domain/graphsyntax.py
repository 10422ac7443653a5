"""Reading the text of `flow.graph` (and of its pipes) into a tree of chains and groups.

The tokens are pyoco's (names, `>>`, `:`, `pipe(NAME)`, `#` comments) plus `&`, `|` and
parentheses; the grammar is in `pyoco_server.domain.graph`. A term of pyoco's control flow
(`switch(`, `repeat(`, `foreach(`, `until(`) stops the reading with `ControlFlow`: such a graph
is pyoco's to read. Reading is bounded: groups and pipes nest at most `MAX_NESTING` deep and a
graph expands to at most `MAX_STEPS` tasks, so no text or pipe table makes it run long.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

from pyoco_server.domain.errors import InvalidWorkflow

MAX_NESTING = 100
"""How deeply parentheses and pipe references may nest."""
MAX_STEPS = 4096
"""How many tasks a graph may expand to (pyoco's own limit for expanded pipes)."""

_CONTROL = frozenset({"switch", "repeat", "foreach", "until"})
_TOKEN = re.compile(
    r"""(?P<skip>\s+|\#[^\n]*)
      | (?P<op>>>|[&|():])
      | (?P<name>[^\W\d]\w*)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


class ControlFlow(Exception):
    """The graph has switch, repeat, foreach or until: pyoco reads it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    """A task of the graph: `task` run as `name` (`name: task`, or just `task`)."""

    name: str
    task: str
    pos: int
    where: str = ""
    """'' in flow.graph, " in pipe 'NAME'" in a pipe."""


@dataclasses.dataclass(frozen=True, slots=True)
class Chain:
    """Parts joined by `>>`, each after the one before."""

    parts: tuple[Expr, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Group:
    """Parts joined by `&` (all of) or, when `any_of`, by `|` (any of)."""

    parts: tuple[Expr, ...]
    any_of: bool


Expr = Node | Chain | Group


def read_graph(graph: str, pipes: Mapping[str, str]) -> Expr:
    """Read the graph text, expanding `pipe(NAME)` from `pipes`.

    Raises:
        ControlFlow: the graph (or a pipe it uses) has a term of pyoco's control flow.
        InvalidWorkflow: `invalid_graph` (with the position) or `too_complex`.
    """
    return _Reader(pipes).read(graph, "")


def unparse(expr: Expr) -> str:
    """The graph text of `expr` (for messages), parenthesized where it nests."""
    if isinstance(expr, Node):
        return expr.task if expr.name == expr.task else f"{expr.name}: {expr.task}"
    if isinstance(expr, Chain):
        return " >> ".join(_nested(part, Group) for part in expr.parts)
    joiner = " | " if expr.any_of else " & "
    return joiner.join(_nested(part, (Group, Chain)) for part in expr.parts)


def _nested(part: Expr, kinds: type | tuple[type, ...]) -> str:
    text = unparse(part)
    return f"({text})" if isinstance(part, kinds) else text


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    """'name', 'string', 'other', 'end', or the operator itself ('>>', '&', '(', ...)."""
    text: str
    pos: int

    def described(self) -> str:
        return "the end of the graph" if self.kind == "end" else repr(self.text)


def _tokens(text: str, where: str) -> Iterator[_Token]:
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group()
        if kind == "skip":
            continue
        if kind == "other" and value == ">":
            raise _invalid(
                f"Unsupported operator '>' at position {match.start()}{where}. Use '>>' only."
            )
        yield _Token(value if kind == "op" else kind, value, match.start())
    yield _Token("end", "", len(text))


class _Stream:
    """The tokens of one text, with a look-ahead."""

    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self._tokens = list(_tokens(text, where))
        self._at = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._at + ahead, len(self._tokens) - 1)]

    def next(self) -> _Token:
        token = self.peek()
        self._at = min(self._at + 1, len(self._tokens) - 1)
        return token

    def take(self, kind: str) -> bool:
        if self.peek().kind != kind:
            return False
        self.next()
        return True

    def expect(self, kind: str, wanted: str, why: str = "") -> _Token:
        if self.peek().kind != kind:
            raise self.error(f"expected {wanted}", why)
        return self.next()

    def error(self, expected: str, why: str = "") -> InvalidWorkflow:
        token = self.peek()
        found = f"{expected} at position {token.pos}{self.where}, got {token.described()}"
        return _invalid(f"{found} ({why})" if why else found)


class _Reader:
    """A recursive-descent reader of one graph and the pipes it uses."""

    def __init__(self, pipes: Mapping[str, str]) -> None:
        self._pipes = pipes
        self._expanding: tuple[str, ...] = ()
        self._depth = 0
        self._steps = 0

    def read(self, text: str, where: str) -> Expr:
        stream = _Stream(text, where)
        expr = self._any(stream)
        if stream.peek().kind != "end":
            raise stream.error("expected '>>', '&', '|' or the end of the graph")
        return expr

    def _any(self, stream: _Stream) -> Expr:
        parts = [self._all(stream)]
        while stream.take("|"):
            parts.append(self._all(stream))
        return parts[0] if len(parts) == 1 else Group(tuple(parts), any_of=True)

    def _all(self, stream: _Stream) -> Expr:
        parts = [self._chain(stream)]
        while stream.take("&"):
            parts.append(self._chain(stream))
        return parts[0] if len(parts) == 1 else Group(tuple(parts), any_of=False)

    def _chain(self, stream: _Stream) -> Expr:
        parts = [self._primary(stream)]
        while stream.take(">>"):
            parts.append(self._primary(stream))
        return parts[0] if len(parts) == 1 else Chain(tuple(parts))

    def _primary(self, stream: _Stream) -> Expr:
        token = stream.peek()
        if token.kind == "(":
            stream.next()
            self._enter()
            expr = self._any(stream)
            self._depth -= 1
            stream.expect(")", "')'", f"to close the '(' at position {token.pos}")
            return expr
        if token.kind != "name":
            raise stream.error("expected a task name or '('")
        if stream.peek(1).kind == "(":
            return self._call(stream)
        stream.next()
        if not stream.take(":"):
            return self._node(token.text, token.text, token.pos, stream.where)
        task = stream.expect("name", f"a task name after '{token.text}:'")
        if stream.peek().kind == "(":
            raise _invalid(
                f"Named task '{token.text}' must reference a task term, got callable form at "
                f"position {stream.peek().pos}{stream.where}"
            )
        return self._node(token.text, task.text, token.pos, stream.where)

    def _call(self, stream: _Stream) -> Expr:
        token = stream.next()
        if token.text in _CONTROL:
            raise ControlFlow
        if token.text != "pipe":
            raise _invalid(
                f"Unknown callable term '{token.text}' at position {token.pos}{stream.where}; "
                "the graph knows pipe(NAME), switch, repeat, foreach and until"
            )
        stream.expect("(", "'('")
        name = stream.peek()
        if name.kind not in ("name", "string"):
            raise stream.error("expected a pipe name")
        stream.next()
        stream.expect(")", "')'")
        text = name.text if name.kind == "name" else re.sub(r"\\(.)", r"\1", name.text[1:-1])
        return self._pipe(text)

    def _pipe(self, name: str) -> Expr:
        if name not in self._pipes:
            known = ", ".join(self._pipes) or "(none)"
            raise _invalid(f"Unknown pipe reference: {name}; pipes: {known}")
        if name in self._expanding:
            cycle = " -> ".join((*self._expanding, name))
            raise _invalid(f"Cyclic pipe reference detected: {cycle}")
        self._enter()
        self._expanding += (name,)
        expr = self.read(self._pipes[name], f" in pipe '{name}'")
        self._expanding = self._expanding[:-1]
        self._depth -= 1
        return expr

    def _node(self, name: str, task: str, pos: int, where: str) -> Node:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise InvalidWorkflow(
                "too_complex", f"flow.graph expands to more than {MAX_STEPS} tasks"
            )
        return Node(name, task, pos, where)

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise InvalidWorkflow(
                "too_complex",
                f"flow.graph nests groups and pipes more than {MAX_NESTING} deep",
            )


def _invalid(detail: str) -> InvalidWorkflow:
    return InvalidWorkflow("invalid_graph", f"flow.graph: {detail}")
