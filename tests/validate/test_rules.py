"""The row schema and its compiled checks: same verdicts as plain per-row jsonschema, cell by cell."""

from __future__ import annotations

import json
import math
import random
import re
import tempfile
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import ValidationSettings
from bot.local.sample import field_csv_bytes
from bot.scope import ALL_COLUMNS, CLASS_COLUMNS, METADATA_COLUMNS
from bot.validate.engine import validate_file
from bot.validate.rules import SchemaError, compile_rules, load_row_schema, row_rules

SCHEMA = load_row_schema()


def _ecma_pattern(validator, pattern, instance, schema):
    """``pattern`` as JSON Schema defines it (ECMA-262): ``$`` is the end of the text. Python's ``$`` also
    matches before a final line feed, so python-jsonschema alone would take "0\n" for the score "0"."""
    if not validator.is_type(instance, "string"):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if not re.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


VALIDATOR = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})(SCHEMA)
# Codes that come from the row schema (the rest are file-level rules the schema cannot state).
SCHEMA_CODES = {"empty-cell", "not-a-number", "not-an-integer", "out-of-range", "too-many-decimals", "bad-format",
                "not-allowed", "bad-length", "bad-value"}


# -- the mapping, written again from the schema's description (an independent oracle) -----------------
def to_instance(kind: str, cell: str) -> object:
    if kind == "integer" and re.fullmatch(r"-?(0|[1-9][0-9]*)", cell):
        return int(cell)
    if kind == "number" and re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", cell):
        value = float(cell)
        if math.isfinite(value):
            return value
    return cell


def _kind(column: str) -> str:
    spec = SCHEMA["properties"][column]
    if "$ref" in spec:
        spec = SCHEMA["$defs"][spec["$ref"].split("/")[-1]]
    return spec["type"]


KINDS = {c: _kind(c) for c in ALL_COLUMNS}


def test_schema_is_valid_2020_12_and_names_every_catalog_column() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert list(SCHEMA["properties"]) == list(ALL_COLUMNS)
    assert set(SCHEMA["required"]) == set(ALL_COLUMNS)
    assert SCHEMA["additionalProperties"] is False
    assert list(row_rules()) == list(ALL_COLUMNS)


def test_every_sample_row_is_valid_for_plain_jsonschema() -> None:
    lines = field_csv_bytes(296, 30).decode().splitlines()
    names = lines[0].split(",")
    for line in lines[1:]:
        instance = {n: to_instance(KINDS[n], c) for n, c in zip(names, line.split(","), strict=True)}
        assert list(VALIDATOR.iter_errors(instance)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"multipleOf": 2}, "cannot be compiled"),
        ({"type": "boolean"}, "'type' must be"),
        ({"type": ["integer", "null"]}, "'type' must be"),
        ({"type": "string", "minimum": 1}, "numeric bounds on a string"),
        ({"type": "integer", "maximum": 2**64}, "within int64"),
    ],
)
def test_the_compiler_refuses_what_it_cannot_check(change: dict, message: str) -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["ccd"] = {**{"type": "integer"}, **change}
    with pytest.raises(SchemaError, match=message):
        compile_rules(schema)


def test_the_compiler_needs_one_key_per_column() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["additionalProperties"] = True
    with pytest.raises(SchemaError, match="forbid others"):
        compile_rules(schema)
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["ccd"] = {"$ref": "https://example.org/x.json"}
    with pytest.raises(SchemaError, match="local"):
        compile_rules(schema)


def test_a_tightened_schema_changes_the_compiled_check() -> None:
    """The checks come from the schema: edit the schema, the verdict follows."""
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["ccd"] = {"type": "integer", "minimum": 1, "maximum": 8}
    schema["properties"]["ra"] = {"type": "number", "exclusiveMinimum": 10, "maximum": 20}
    schema["properties"]["filter"] = {"type": "integer", "enum": [1, 2]}
    rules = compile_rules(schema)
    assert rules["ccd"].evaluate(pa.array(["8", "9", "1"])).ok.to_pylist() == [True, False, True]
    assert rules["ra"].evaluate(pa.array(["10", "10.5", "20", "20.1"])).ok.to_pylist() == [False, True, True, False]
    assert rules["filter"].evaluate(pa.array(["1", "2", "3"])).ok.to_pylist() == [True, True, False]


def test_both_inclusive_and_exclusive_bounds_keep_the_tighter() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["properties"]["period"] = {"type": "number", "minimum": 0, "exclusiveMinimum": 0, "maximum": 5,
                                      "exclusiveMaximum": 4}
    rule = compile_rules(schema)["period"]
    cells = ["0", "0.1", "4", "3.9", "5"]
    got = rule.evaluate(pa.array(cells)).ok.to_pylist()
    want = [not list(jsonschema.Draft202012Validator(schema["properties"]["period"]).iter_errors(
        to_instance("number", c))) for c in cells]
    assert got == want == [False, True, False, True, False]


# -- the property: engine and per-row jsonschema agree on every cell ------------------------------------
_TEXT = st.text(alphabet="0123456789+-.eE x\"nai٣,\n", max_size=8)


def _integers(column: str) -> st.SearchStrategy[str]:
    spec = row_rules()[column]
    lo, hi = spec.minimum.value, spec.maximum.value
    near = [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**25]
    return st.one_of(
        st.integers(lo, hi).map(str),
        st.sampled_from(near).map(str),
        st.integers(-(10**20), 10**20).map(str),
        st.sampled_from(["-0", "007", "+3", " 3", "3 ", "3.0", "1e3", "nan", "", "0x10", "1_000", "٣"]),
        st.integers(0, 99).map(lambda n: f"0{n}"),
        _TEXT,
    )


def _numbers() -> st.SearchStrategy[str]:
    floats = st.floats(-400, 400, allow_nan=False)
    return st.one_of(
        floats.map(repr),
        floats.map(lambda x: f"{x:.3e}"),
        floats.map(lambda x: f"{x:.20f}"),
        st.sampled_from(["0", "-0", "-0.0", "360", "359.99999999999999999", "360.0", "-90", "90", "90.000000001",
                         "-90.0000001", "1e400", "-1e400", "1e-400", "nan", "inf", "-inf", "Infinity", "+1", ".5",
                         "5.", "1E2", "1e+2", "01.5", " 1", "1 ", "", "0x1p3", "1_0", "٣"]),
        _TEXT,
    )


def _scores() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 100).map(lambda n: repr(n / 100)),
        st.integers(0, 1000).map(lambda n: f"{n / 1000:.3f}"),
        st.sampled_from(["0", "1", "1.0", "1.00", "1.000", "1.01", "0.70", "0.700", ".5", "0.7e0", "7e-1", "+0.5",
                         " 0.5", "-0", "-0.0", "00.5", "0.", "2", "0.5 ", "", "nan", '"0.5"']),
        _TEXT,
    )


def _cell(column: str) -> st.SearchStrategy[str]:
    kind = KINDS[column]
    if kind == "integer":
        return _integers(column)
    return _numbers() if kind == "number" else _scores()


_TARGETS = [*METADATA_COLUMNS, *CLASS_COLUMNS[:3], "rrlyr_xgb", "yso_xgb"]


@st.composite
def _edits(draw: st.DrawFn) -> list[tuple[int, str, str]]:
    """A few (row, column, cell) changes to a valid synthetic file."""
    edits = []
    for _ in range(draw(st.integers(1, 12))):
        column = draw(st.sampled_from(_TARGETS))
        edits.append((draw(st.integers(0, 5)), column, draw(_cell(column))))
    return edits


def _write_csv(names: list[str], rows: list[list[str]], rng: random.Random, quoting: float) -> tuple[str, dict]:
    """RFC 4180 text of the rows, quoting at random (and wherever a cell needs it), and where each cell starts.

    A cell must be quoted when it holds a comma or a line feed or starts with a quote; inside quotes a quote is
    doubled. A quote inside an unquoted cell stays as it is (not RFC 4180, but every reader takes it literally).
    Returns the text and {(row, column): (physical line, 1-based character position)}.
    """
    out = [",".join(names) + "\n"]
    line, where = 2, {}
    for i, row in enumerate(rows):
        at = 0
        for k, cell in enumerate(row):
            if k:
                out.append(",")
                at += 1
            where[(i, names[k])] = (line, at + 1)
            must = "," in cell or "\n" in cell or cell.startswith('"')
            text = '"' + cell.replace('"', '""') + '"' if must or rng.random() < quoting else cell
            out.append(text)
            line += text.count("\n")
            at = len(text) - text.rfind("\n") - 1 if "\n" in text else at + len(text)
        out.append("\n")
        line += 1
    return "".join(out), where


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_edits(), st.sampled_from([0.0, 0.2, 1.0]), st.integers(0, 2**32))
@example([(0, "_id", "9223372036854775807"), (1, "Gaia_EDR3___id", "9223372036854775808")], 0.0, 0)
@example([(0, "ra", "359.99999999999999999"), (1, "dec", "-0"), (2, "period", "1e-400")], 0.0, 0)
@example([(0, "vnv_dnn", "0.071"), (1, "vnv_dnn", "1.00"), (2, "rrlyr_xgb", "7e-2")], 1.0, 0)
@example([(3, "ccd", "٣"), (4, "quad", "+3"), (5, "filter", " 2")], 0.2, 1)
@example([(0, "period", "1e400"), (1, "filter", "02"), (2, "field", "-0"), (3, "AllWISE___id", "-0")], 0.0,
         0)
@example([(0, "vnv_dnn", "0\n")], 0.0, 0)  # a score with a final line feed: "$" is the end of the text
@example([(0, "ra", "12,5"), (1, "period", "1\n2"), (2, "ccd", '1"2'), (4, "dec", '"'), (5, "quad", "1")], 0.2,
         2)
def test_engine_and_per_row_jsonschema_agree(edits: list[tuple[int, str, str]], quoting: float, seed: int) -> None:
    """Random cells, written with random RFC 4180 quoting: the engine finds exactly the cells jsonschema rejects,
    at the line and character where each cell starts."""
    lines = field_csv_bytes(296, 6).decode().split("\n")[:-1]
    names = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    for row, column, cell in edits:
        rows[row][names.index(column)] = cell
    text, where = _write_csv(names, rows, random.Random(seed), quoting)
    if "\n\n" in text:
        return  # a row written as an empty line is a blank line, a file-level rule
    expected = set()
    for i, r in enumerate(rows):
        instance = {n: to_instance(KINDS[n], c) for n, c in zip(names, r, strict=True)}
        expected |= {(*where[(i, e.path[0])], e.path[0]) for e in VALIDATOR.iter_errors(instance)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "field_296.csv"
        path.write_text(text, encoding="utf-8")
        report = validate_file(path, settings=ValidationSettings(max_errors_per_file=10_000))
    got = {(p.line, p.col, p.column) for p in report.errors if p.code in SCHEMA_CODES}
    assert got == expected
    assert report.error_count == len(report.errors)
