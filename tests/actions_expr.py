"""The part of GitHub Actions' expression language the workflows' ``if:`` use, to test them on payloads.

docs.github.com/actions/reference/evaluate-expressions-in-workflows-and-actions: literals, property access
(a missing property is null), ``!``, ``==``/``!=`` (strings compared ignoring case), ``&&``/``||``
(returning an operand), and the functions contains, startsWith, endsWith (ignoring case), fromJSON, always.
Falsy: false, 0, '', null.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>&&|\|\||==|!=|[!().,\[\]])"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read the expression at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _loose(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


class _Parser:
    def __init__(self, text: str, context: dict[str, Any]) -> None:
        self.toks, self.i, self.ctx = _tokens(text), 0, context

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> Any:
        left = self.conj()
        while self.peek() == "||":
            self.take()
            right = self.conj()
            left = left if truthy(left) else right
        return left

    def conj(self) -> Any:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left = right if truthy(left) else left
        return left

    def comparison(self) -> Any:
        left = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            equal = _loose(left) == _loose(self.unary())
            left = equal if op == "==" else not equal
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self.peek() == "(":
            return self.call(text)
        value: Any = self.ctx.get(text)
        while self.peek() == ".":
            self.take()
            key = self.take()[1]
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.expr())
            if self.peek() == ",":
                self.take()
        self.take(")")
        fn = name.lower()
        if fn == "always":
            return True
        if fn == "fromjson":
            return json.loads(args[0])
        if fn == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(_loose(x) == _loose(needle) for x in hay)
            return str(needle).casefold() in str(hay or "").casefold()
        if fn in ("startswith", "endswith"):
            hay, part = (str(a or "").casefold() for a in args)
            return hay.startswith(part) if fn == "startswith" else hay.endswith(part)
        raise ValueError(f"function {name} is not modelled here")


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The value of an ``if:`` (with or without ``${{ }}``) in ``context`` (github, needs, ...)."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    parser = _Parser(text, context)
    value = parser.expr()
    if parser.i != len(parser.toks):
        raise ValueError(f"unread tokens after {parser.toks[parser.i - 1][1]!r}")
    return value
