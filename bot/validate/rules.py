"""The row schema compiled into vectorised column checks.

``schemas/row.schema.json`` is the only place that states what a valid cell is. This module reads each
property's keywords (type, minimum/maximum, exclusive*, pattern, enum, min/maxLength) and builds a
``ColumnRule`` that checks a whole Arrow string array at once with ``pyarrow.compute``. A keyword it does
not understand is a ``SchemaError``: the schema can never say more than the engine checks.

The cell -> JSON instance mapping (documented in the schema's description) lives here too, in
``ColumnRule.to_instance``; it explains failures for the few cells that fail, never decides verdicts.
"""

from __future__ import annotations

import json
import math
import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bot.validate import arrow

# The JSON grammar for the text of a number: what a cell must look like to become one.
INTEGER_TEXT = r"-?(?:0|[1-9][0-9]*)"
NUMBER_TEXT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_INTEGER_RE = re.compile(INTEGER_TEXT)
_NUMBER_RE = re.compile(NUMBER_TEXT)
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)

# Keywords that only annotate; everything else must be compiled or the schema is refused.
_ANNOTATIONS = {"description", "title", "$comment", "examples", "default"}
_CONSTRAINTS = {
    "type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum",
    "minLength", "maxLength",
}
# Small integer ranges and patterned strings repeat a handful of values: read them dictionary-encoded
# and check each distinct value once.
_SMALL_RANGE = 4096
_ZERO = arrow.scalar("0", pa.string())  # stands in for a cell that cannot be cast, so the cast cannot fail


class SchemaError(ValueError):
    """The row schema uses something the compiler cannot turn into a vectorised check."""


@dataclass(frozen=True)
class Bound:
    value: int | float
    exclusive: bool

    def admits_below(self, x: int | float) -> bool:  # as a maximum
        return x < self.value if self.exclusive else x <= self.value

    def admits_above(self, x: int | float) -> bool:  # as a minimum
        return x > self.value if self.exclusive else x >= self.value


@dataclass(frozen=True)
class Evaluation:
    ok: pa.BooleanArray  # one flag per cell, never null
    values: pa.Array | None  # int64 / float64 values (null where the cell is not a number), None for strings
    codes: pa.Array | None = None  # for a vocabulary rule: each cell's index in the vocabulary (null if absent)


@dataclass(frozen=True)
class ColumnRule:
    column: str
    type: str  # "integer" | "number" | "string"
    minimum: Bound | None = None
    maximum: Bound | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    description: str = ""
    explain: str | None = None  # x-explain: what a valid value looks like, for messages
    number_hint: dict[str, Any] | None = None  # x-number: the meaning of a patterned numeric string
    # Every valid text, when the pattern/enum allows only a few: a hash lookup replaces the regex.
    vocabulary: tuple[str, ...] | None = None

    @property
    def check_key(self) -> tuple[object, ...]:
        """Equal for rules that check cells the same way (whatever their column)."""
        return (self.type, self.minimum, self.maximum, self.pattern, self.enum, self.min_length, self.max_length)

    # -- the verdict, vectorised -------------------------------------------------------------------
    def evaluate(self, cells: pa.Array | pa.ChunkedArray) -> Evaluation:
        """Check string cells (no nulls); cells that would not become a valid JSON value fail."""
        if self.type == "integer":
            return self._evaluate_integer(cells)
        if self.type == "number":
            return self._evaluate_number(cells)
        if self.vocabulary is not None:
            codes = pc.index_in(cells, value_set=_value_set(self.vocabulary))
            return Evaluation(pc.is_valid(codes), None, codes)
        return Evaluation(self._string_ok(cells), None)

    def _evaluate_integer(self, cells: pa.Array) -> Evaluation:
        lengths = pc.binary_length(cells)
        if _every(pc.ascii_is_decimal(cells)):
            # All digits (the usual case): the grammar only forbids leading zeros; cheaper than the regex.
            syntax = pc.invert(pc.and_(pc.starts_with(cells, "0"), pc.greater(lengths, arrow.scalar(1, pa.int32()))))
        else:
            syntax = pc.match_substring_regex(cells, f"^{INTEGER_TEXT}$")
        over_pos = over_neg = None
        castable = syntax
        if len(cells) and pc.max(lengths).as_py() >= 19:
            # Beyond int64 the value cannot be cast: it is above (or below) every bound the compiler allows.
            neg = pc.starts_with(cells, "-")
            digits = pc.subtract(lengths, pc.cast(neg, pa.int32()))
            big = pc.or_(
                pc.greater(digits, arrow.scalar(19, pa.int32())),
                pc.and_(
                    pc.equal(digits, arrow.scalar(19, pa.int32())),
                    pc.if_else(neg, pc.greater(cells, arrow.scalar(str(_INT64_MIN), pa.string())),
                               pc.greater(cells, arrow.scalar(str(_INT64_MAX), pa.string()))),
                ),
            )
            big = pc.and_(syntax, big)
            if pc.any(big).as_py():
                over_pos, over_neg = pc.and_not(big, neg), pc.and_(big, neg)
                castable = pc.and_not(syntax, big)
        every = _every(castable)
        ints = pc.cast(cells if every else pc.if_else(castable, cells, _ZERO), pa.int64())
        ok = pc.and_(castable, self._bounds_ok(ints))
        if self.enum is not None:
            ok = pc.and_(ok, pc.is_in(ints, value_set=arrow.numbers(np.array(self.enum, dtype=np.int64))))
        if over_pos is not None and self.maximum is None:
            ok = pc.or_(ok, over_pos)
        if over_neg is not None and self.minimum is None:
            ok = pc.or_(ok, over_neg)
        values = ints if every else pc.if_else(castable, ints, arrow.scalar(None, pa.int64()))
        return Evaluation(ok, values)

    def _evaluate_number(self, cells: pa.Array) -> Evaluation:
        syntax = pc.match_substring_regex(cells, f"^{NUMBER_TEXT}$")
        every = _every(syntax)
        floats = pc.cast(cells if every else pc.if_else(syntax, cells, _ZERO), pa.float64())
        number = pc.and_(syntax, pc.is_finite(floats))
        ok = pc.and_(number, self._bounds_ok(floats))
        if self.enum is not None:
            ok = pc.and_(ok, pc.is_in(floats, value_set=arrow.numbers(np.array(self.enum, dtype=np.float64))))
        if _every(number):
            return Evaluation(ok, floats)
        return Evaluation(ok, pc.if_else(number, floats, arrow.scalar(None, pa.float64())))

    def _bounds_ok(self, values: pa.Array) -> pa.BooleanArray:
        ok = pc.is_valid(values)
        if self.minimum is not None:
            cmp = pc.greater if self.minimum.exclusive else pc.greater_equal
            ok = pc.and_(ok, cmp(values, _number(self.minimum.value)))
        if self.maximum is not None:
            cmp = pc.less if self.maximum.exclusive else pc.less_equal
            ok = pc.and_(ok, cmp(values, _number(self.maximum.value)))
        return ok

    def _string_ok(self, cells: pa.Array) -> pa.BooleanArray:
        ok = pc.is_valid(cells)
        if self.pattern is not None:
            ok = pc.and_(ok, pc.match_substring_regex(cells, self.pattern))
        if self.min_length is not None or self.max_length is not None:
            n = pc.utf8_length(cells)
            if self.min_length is not None:
                ok = pc.and_(ok, pc.greater_equal(n, arrow.scalar(self.min_length, pa.int32())))
            if self.max_length is not None:
                ok = pc.and_(ok, pc.less_equal(n, arrow.scalar(self.max_length, pa.int32())))
        if self.enum is not None:
            ok = pc.and_(ok, pc.is_in(cells, value_set=arrow.strings(tuple(str(v) for v in self.enum))))
        return ok

    # -- the mapping and the explanation, per cell ----------------------------------------------------
    def to_instance(self, text: str) -> Any:
        """The JSON value a cell becomes (see the schema's description)."""
        if self.type == "integer" and _INTEGER_RE.fullmatch(text):
            return int(text)
        if self.type == "number" and _NUMBER_RE.fullmatch(text):
            value = float(text)
            if math.isfinite(value):
                return value
        return text

    def diagnose(self, text: str) -> tuple[str, str]:
        """(code, message) for a cell that failed; the message says what a valid cell looks like."""
        shown = show_value(text)
        want = self.expectation()
        if text == "":
            return "empty-cell", f"empty cell; write {want}"
        value = self.to_instance(text)
        if self.type in ("integer", "number") and isinstance(value, str):
            kind = "an integer" if self.type == "integer" else "a number"
            return f"not-{'an-integer' if self.type == 'integer' else 'a-number'}", (
                f"{shown} is not {kind}{_spelling_hint(text, self.type)}; write {want}"
            )
        if isinstance(value, int | float) and not self._in_bounds(value):
            return "out-of-range", f"{shown} is out of range; write {want}"
        if self.enum is not None and value not in self.enum:
            return "not-allowed", f"{shown} is not one of {', '.join(map(str, self.enum))}"
        if self.type == "string":
            return self._diagnose_text(text, shown, want)
        return "bad-value", f"{shown} is not valid; write {want}"

    def _diagnose_text(self, text: str, shown: str, want: str) -> tuple[str, str]:
        hint = self.number_hint
        if hint and self.pattern and not re.search(self.pattern, text):
            if not _NUMBER_RE.fullmatch(text) or not math.isfinite(float(text)):
                return "not-a-number", f"{shown} is not a number{_spelling_hint(text, 'number')}; write {want}"
            value = float(text)
            if ("minimum" in hint and value < hint["minimum"]) or ("maximum" in hint and value > hint["maximum"]):
                return "out-of-range", f"{shown} is out of range; write {want}"
            decimals = hint.get("decimals")
            mantissa = text.split("e")[0].split("E")[0]
            if decimals is not None and "." in mantissa and len(mantissa.split(".")[1]) > decimals:
                return "too-many-decimals", f"{shown} has more than {decimals} decimals; write {want}"
            return "bad-format", f"{shown} is written in a form the catalog does not use; write {want}"
        if (self.min_length is not None and len(text) < self.min_length) or (
            self.max_length is not None and len(text) > self.max_length
        ):
            return "bad-length", f"{shown} has the wrong length; write {want}"
        return "bad-format", f"{shown} does not have the expected form; write {want}"

    def _in_bounds(self, value: int | float) -> bool:
        return (self.minimum is None or self.minimum.admits_above(value)) and (
            self.maximum is None or self.maximum.admits_below(value)
        )

    def expectation(self) -> str:
        """What a valid cell is, in words, e.g. 'an integer from 1 to 16 (ZTF CCD, 1-16)'."""
        if self.explain:
            return self.explain
        kind = {"integer": "an integer", "number": "a number"}.get(self.type, "text")
        lo, hi = self.minimum, self.maximum
        if lo and hi:
            if lo.value == 0 and hi.value == _INT64_MAX and not (lo.exclusive or hi.exclusive):
                span = " >= 0 (int64)"
            elif hi.value == _INT64_MAX and not hi.exclusive:
                span = f" {'>' if lo.exclusive else '>='} {lo.value} (int64)"
            else:
                span = f" in {'(' if lo.exclusive else '['}{lo.value}, {hi.value}{')' if hi.exclusive else ']'}"
        elif lo:
            span = f" {'>' if lo.exclusive else '>='} {lo.value}"
        elif hi:
            span = f" {'<' if hi.exclusive else '<='} {hi.value}"
        else:
            span = ""
        about = f" ({self.description})" if self.description else ""
        return f"{kind}{span}{about}"


def _number(value: int | float) -> pa.Scalar:
    return arrow.scalar(value, pa.int64() if isinstance(value, int) else pa.float64())


@cache
def _value_set(vocabulary: tuple[str, ...]) -> pa.Array:
    return arrow.strings(vocabulary)


def _every(mask: pa.Array | pa.ChunkedArray) -> bool:
    return len(mask) == 0 or bool(pc.all(mask).as_py())


def show_value(text: str, limit: int = 40) -> str:
    """A cell quoted for a message: whitespace and control characters visible, long values cut."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return json.dumps(cut, ensure_ascii=False)


def _spelling_hint(text: str, kind: str) -> str:
    if "," in text:
        return " (a quoted cell holds a comma: write the number with a decimal point and no quotes)"
    if "\n" in text or "\r" in text:
        return " (a quoted cell holds a line break; remove it)"
    if '"' in text:
        return " (remove the quote characters; a whole cell may be quoted, as \"0.5\")"
    if text != text.strip():
        return " (remove the spaces)"
    if text.startswith("+"):
        return " (drop the '+')"
    if text.lower().lstrip("-") in ("nan", "inf", "infinity"):
        return " (nan and infinity are not allowed)"
    if kind == "integer" and _NUMBER_RE.fullmatch(text):
        return " (write it without a decimal point or exponent)"
    if re.fullmatch(r"-?0[0-9]+(\.[0-9]+)?", text):
        return " (remove the leading zeros)"
    return ""


# -- compiling the schema ----------------------------------------------------------------------------
@cache
def load_row_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files("bot.schemas").joinpath("row.schema.json").read_text(encoding="utf-8"))
    return schema


def compile_rules(schema: dict[str, Any]) -> dict[str, ColumnRule]:
    """One ColumnRule per property of the row schema, in the schema's order."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        raise SchemaError("the row schema must describe an object with 'properties'")
    props: dict[str, Any] = schema["properties"]
    if set(schema.get("required", ())) != set(props) or schema.get("additionalProperties") is not False:
        raise SchemaError("the row schema must require every property and forbid others (one key per column)")
    return {name: _compile_property(name, _resolve(schema, spec, name)) for name, spec in props.items()}


@cache
def row_rules() -> dict[str, ColumnRule]:
    """The compiled rules of the bundled row schema."""
    return compile_rules(load_row_schema())


def _resolve(root: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    """Inline a local ``$ref`` (``#/$defs/...``); sibling keywords may annotate but not constrain twice."""
    if "$ref" not in spec:
        return spec
    ref = spec["$ref"]
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        raise SchemaError(f"{where}: only local '#/$defs/...' references are supported, not {ref!r}")
    target = root.get("$defs", {}).get(ref[len("#/$defs/"):])
    if not isinstance(target, dict):
        raise SchemaError(f"{where}: {ref} does not exist")
    target = _resolve(root, target, ref)
    siblings = {k: v for k, v in spec.items() if k != "$ref"}
    clash = set(siblings) & set(target) & _CONSTRAINTS
    if clash:
        raise SchemaError(f"{where}: {sorted(clash)} given both beside $ref and in {ref}")
    return {**target, **siblings}


def _compile_property(name: str, spec: dict[str, Any]) -> ColumnRule:
    unknown = [k for k in spec if k not in _CONSTRAINTS | _ANNOTATIONS and not k.startswith("x-")]
    if unknown:
        raise SchemaError(f"{name}: keyword(s) {unknown} cannot be compiled into a column check")
    kind = spec.get("type")
    if kind not in ("integer", "number", "string"):
        raise SchemaError(f"{name}: 'type' must be integer, number or string, not {kind!r}")
    numeric = kind in ("integer", "number")
    if not numeric and any(k in spec for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
        raise SchemaError(f"{name}: numeric bounds on a string column")
    if numeric and any(k in spec for k in ("pattern", "minLength", "maxLength")):
        raise SchemaError(f"{name}: pattern/length rules on a numeric column")
    minimum = _bound(spec, "minimum", "exclusiveMinimum", max, name)
    maximum = _bound(spec, "maximum", "exclusiveMaximum", min, name)
    if kind == "integer":
        for b in (minimum, maximum):
            if b is not None and not (_INT64_MIN <= b.value <= _INT64_MAX):
                raise SchemaError(f"{name}: integer bounds must lie within int64")
    pattern = spec.get("pattern")
    if pattern is not None:
        re.compile(pattern)  # a broken pattern fails here, with Python's message
    enum = spec.get("enum")
    if enum is not None and not all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in enum):
        raise SchemaError(f"{name}: enum values must be numbers or strings")
    return ColumnRule(
        column=name,
        type=kind,
        minimum=minimum,
        maximum=maximum,
        pattern=pattern,
        enum=tuple(enum) if enum is not None else None,
        min_length=spec.get("minLength"),
        max_length=spec.get("maxLength"),
        description=spec.get("description", ""),
        explain=spec.get("x-explain"),
        number_hint=spec.get("x-number"),
        vocabulary=_vocabulary(kind, pattern, enum, spec.get("minLength"), spec.get("maxLength")),
    )


# -- finite patterns ---------------------------------------------------------------------------------
_VOCABULARY_LIMIT = 4096


def _vocabulary(
    kind: str, pattern: str | None, enum: list[Any] | None, min_length: int | None, max_length: int | None
) -> tuple[str, ...] | None:
    """Every string a string column accepts, when that is a small finite set; else None."""
    if kind != "string" or (pattern is None and enum is None):
        return None
    words = finite_language(pattern) if pattern is not None else None
    if enum is not None:
        texts = {str(v) for v in enum if isinstance(v, str)}
        words = texts if words is None else words & texts
    if words is None:
        return None
    words = {
        w for w in words
        if (min_length is None or len(w) >= min_length) and (max_length is None or len(w) <= max_length)
        and (pattern is None or re.search(pattern, w))
    }
    return tuple(sorted(words, key=_by_value))


def _by_value(word: str) -> tuple[int, float, str]:
    """Numbers first, in numeric order (so the words at or above a threshold form one run), then other words."""
    try:
        value = float(word)
    except ValueError:
        return (1, 0.0, word)
    return (0, value, word) if math.isfinite(value) else (1, 0.0, word)


def finite_language(pattern: str) -> set[str] | None:
    """The strings a pattern anchored at both ends (^...$) matches, if few; None if infinite or too many.

    Understands literals, [ranges], groups, | and bounded repeats: what a value vocabulary needs.
    Anything else (\\d, ., *, flags, look-arounds) gives None and the regex is used instead.
    """
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    items = list(tree)
    if tree.state.flags & ~(sre.SRE_FLAG_UNICODE) or len(items) < 2:
        return None
    if items[0] != (sre.AT, sre.AT_BEGINNING) or items[-1] not in ((sre.AT, sre.AT_END), (sre.AT, sre.AT_END_STRING)):
        return None

    return _sequence(items[1:-1])


def _sequence(nodes: list[Any]) -> set[str] | None:
    out = {""}
    for node in nodes:
        part = _one_node(node)
        if part is None:
            return None
        out = {a + b for a in out for b in part}
        if len(out) > _VOCABULARY_LIMIT:
            return None
    return out


def _one_node(node: tuple[Any, Any]) -> set[str] | None:
    op, arg = node
    if op is sre.LITERAL:
        return {chr(arg)}
    if op is sre.IN:
        return _char_class(arg)
    if op is sre.SUBPATTERN:
        _group, add, remove, sub = arg
        return _sequence(list(sub)) if not add and not remove else None
    if op is sre.BRANCH:
        out: set[str] = set()
        for alternative in arg[1]:
            part = _sequence(list(alternative))
            if part is None:
                return None
            out |= part
        return out
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _repeat(*arg)
    return None


def _char_class(items: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for kind, value in items:
        if kind is sre.LITERAL:
            chars.add(chr(value))
        elif kind is sre.RANGE and value[1] - value[0] < 256:
            chars |= {chr(x) for x in range(value[0], value[1] + 1)}
        else:
            return None
    return chars


def _repeat(lo: int, hi: Any, sub: Any) -> set[str] | None:
    if hi is sre.MAXREPEAT or hi > 64:
        return None
    body = _sequence(list(sub))
    if body is None:
        return None
    out: set[str] = set()
    power = {""}
    for k in range(hi + 1):
        if k >= lo:
            out |= power
        if k < hi:
            power = {a + b for a in power for b in body}
        if len(out) > _VOCABULARY_LIMIT or len(power) > _VOCABULARY_LIMIT:
            return None
    return out


def _bound(spec: dict[str, Any], inclusive: str, exclusive: str, tighter: Any, name: str) -> Bound | None:
    found = [Bound(spec[k], k == exclusive) for k in (inclusive, exclusive) if k in spec]
    for b in found:
        if isinstance(b.value, bool) or not isinstance(b.value, int | float):
            raise SchemaError(f"{name}: {inclusive}/{exclusive} must be a number")
    if len(found) == 2:
        # Both given: the tighter one decides (an exclusive bound wins a tie).
        a, b = found
        if a.value == b.value:
            return Bound(a.value, True)
        return a if tighter(a.value, b.value) == a.value else b
    return found[0] if found else None
