"""The ``_id`` layout warning: where it is reported, that it never makes a file invalid, what it skips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.config import ValidationSettings
from bot.local.sample import field_csv_bytes
from bot.scope import FIELD_RANGES
from bot.validate import idlayout
from bot.validate.engine import validate_file

BAD = Path(__file__).parent.parent / "data" / "bad" / "id_layout" / "field_296.csv"


def _layout_id(field: int, ccd: int, quad: int, flt: int, seq: int) -> int:
    """The layout as bot.local.sample writes it, spelt out again."""
    return int(f"1{field:04d}{4 * (ccd - 1) + (quad - 1):02d}{flt}{seq:06d}")


def _warns(light_curve_id: int, field: int, ccd: int, quad: int, flt: int) -> bool:
    one = [np.array([x]) for x in (ccd, quad, flt)]
    return not bool(idlayout.layout_ok(np.array([light_curve_id], dtype=np.int64), field, *one)[0])


# -- the check itself, property-tested ---------------------------------------------------------------------
fields = st.one_of(*(st.integers(lo, hi) for lo, hi in FIELD_RANGES))
ccds, quads, filters = st.integers(1, 16), st.integers(1, 4), st.integers(1, 3)
sequences = st.one_of(st.integers(0, 999_999), st.integers(1_000_000, 10**10))  # more digits past a million


@settings(max_examples=300, deadline=None)
@given(fields, ccds, quads, filters, sequences)
def test_ids_built_with_the_layout_never_warn(field: int, ccd: int, quad: int, flt: int, seq: int) -> None:
    assert not _warns(_layout_id(field, ccd, quad, flt, seq), field, ccd, quad, flt)


@settings(max_examples=300, deadline=None)
@given(fields, ccds, quads, filters, st.integers(0, 999_999), st.sampled_from(["field", "rcid", "filter"]),
       st.data())
def test_ids_with_a_wrong_field_rcid_or_filter_always_warn(
    field: int, ccd: int, quad: int, flt: int, seq: int, part: str, data: st.DataObject
) -> None:
    rcid = 4 * (ccd - 1) + (quad - 1)
    digits = {"field": f"{field:04d}", "rcid": f"{rcid:02d}", "filter": str(flt)}
    width = len(digits[part])
    wrong = data.draw(st.integers(0, 10**width - 1).filter(lambda x: x != int(digits[part])), label=part)
    digits[part] = f"{wrong:0{width}d}"
    light_curve_id = int(f"1{digits['field']}{digits['rcid']}{digits['filter']}{seq:06d}")
    assert _warns(light_curve_id, field, ccd, quad, flt)


@given(st.integers(1, 10**13 - 1), fields, ccds, quads, filters)
def test_ids_shorter_than_14_digits_always_warn(light_curve_id: int, field: int, ccd: int, quad: int,
                                               flt: int) -> None:
    assert _warns(light_curve_id, field, ccd, quad, flt)


def test_the_check_agrees_with_the_sample_files_on_many_rows() -> None:
    for field in (1, 296, 487, 881, 1001, 1897):
        lines = field_csv_bytes(field, 3000).decode().splitlines()[1:]
        rows = np.array([[int(c) for c in (r[0], r[8], r[9], r[10])] for r in (x.split(",") for x in lines)])
        assert idlayout.layout_ok(rows[:, 0], field, rows[:, 1], rows[:, 2], rows[:, 3]).all()


def test_the_largest_ids_do_not_overflow() -> None:
    ids = np.array([2**63 - 1, 10**18, 10296001 * 10**11 + 5, 10296001 * 10**9, 10296000 * 10**9])
    ones = np.ones(len(ids), dtype=np.int64)
    assert idlayout.layout_ok(ids, 296, ones, ones, ones).tolist() == [False, False, True, True, False]


def test_the_message_says_what_differs_and_that_it_is_only_a_warning() -> None:
    message = idlayout.explain(10297499000004, 296, 13, 2, 2)
    assert "1 + 4-digit field + 2-digit rcid" in message and "would start 10296492" in message
    assert "field digits 0297, not 0296" in message and "filter digit 9, not 2" in message
    assert "rcid digits" not in message  # they are right
    assert "warning, not an error" in message and "stays valid" in message
    assert "it has 2 digits" in idlayout.explain(42, 296, 1, 1, 1)


# -- in the engine -----------------------------------------------------------------------------------------
def test_a_warning_is_located_and_never_makes_the_file_invalid() -> None:
    report = validate_file(BAD, display_path="fields/field_296.csv")
    assert report.valid and report.errors == [] and report.error_count == 0
    assert report.warning_count == 2
    assert [(p.line, p.column, p.col, p.code, p.severity) for p in report.warnings] == [
        (6, "_id", 1, "id-layout", "warning"), (9, "_id", 1, "id-layout", "warning")]
    assert "10296499000004" in report.warnings[0].message and "filter digit 9, not 2" in report.warnings[0].message
    assert report.stats is not None and report.stats.rows == 12


def test_the_col_points_at_the_id_cell_wherever_it_sits(make_field) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        out = []
        for line in lines:  # _id third: a column-order error, but the rows are still checked
            cells = line.split(b",")
            cells[0], cells[2] = cells[2], cells[0]
            out.append(b",".join(cells))
        cells = out[3].split(b",")
        cells[2] = b"19999999000001"
        out[3] = b",".join(cells)
        return out

    path = make_field(296, 10, edit=edit)
    report = validate_file(path)
    assert [p.code for p in report.errors] == ["column-order"]
    (w,) = report.warnings
    line = path.read_bytes().split(b"\n")[3]
    assert w.line == 4 and w.col == line.index(b"19999999000001") + 1


def test_rows_with_an_invalid_cell_get_the_error_not_the_warning(make_field, set_cell) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        set_cell(lines, 3, "ccd", b"17")  # the layout cannot be judged
        set_cell(lines, 4, "field", b"297")  # field-mismatch
        set_cell(lines, 5, "filter", b"x")
        set_cell(lines, 6, "_id", b"-1")
        set_cell(lines, 7, "quad", b"3")  # valid, but no longer what the id encodes: the one warning
        return lines

    report = validate_file(make_field(296, 10, edit=edit))
    assert [(p.line, p.code) for p in report.errors] == [
        (3, "out-of-range"), (4, "field-mismatch"), (5, "not-an-integer"), (6, "out-of-range")]
    assert [(p.line, p.code) for p in report.warnings] == [(7, "id-layout")]


def test_no_layout_check_without_a_ztf_field_number(make_field) -> None:
    report = validate_file(make_field(296, 5, name="field_0296.csv"))
    assert [p.code for p in report.errors] == ["bad-file-name"] and report.warning_count == 0


def test_warnings_are_listed_up_to_the_limit_and_all_counted(make_field) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        for i in range(1, 41):
            cells = lines[i].split(b",")
            cells[0] = str(20000000000000 + i).encode()
            lines[i] = b",".join(cells)
        return lines

    report = validate_file(make_field(296, 60, edit=edit), settings=ValidationSettings(max_errors_per_file=7))
    assert report.valid and report.warning_count == 40 and report.warnings_truncated
    assert [p.line for p in report.warnings] == [2, 3, 4, 5, 6, 7, 8]
    assert report.to_json()["warning_count"] == 40


# -- through the CLI: exit code, github and json ----------------------------------------------------------
def test_the_cli_exits_0_and_shows_warnings_in_every_format(tmp_path: Path, monkeypatch, capsys) -> None:
    for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fields").mkdir()
    (tmp_path / "fields" / "field_296.csv").write_bytes(BAD.read_bytes())
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert main(["validate", "--format", "github", "fields"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("::warning file=fields/field_296.csv,line=6,col=1,title=id-layout::_id: 10296499")
    assert out[1].startswith("::warning file=fields/field_296.csv,line=9,col=1,title=id-layout::")
    assert not any(line.startswith("::error") for line in out)
    assert out[-1] == "1 file(s) checked, 0 invalid, 0 error(s), 2 warning(s)"
    text = summary.read_text()
    assert "| fields/field\\_296.csv | 12 | valid, 2 warnings | 0 | 2 |" in text
    assert "| 6 | \\_id | id-layout |" in text

    assert main(["validate", "--format", "json", "fields"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["errors"] == [] and doc["error_count"] == 0
    assert doc["warning_count"] == 2 and doc["files"][0]["warning_count"] == 2
    assert [(w["path"], w["line"], w["column"], w["col"], w["code"], w["severity"]) for w in doc["warnings"]] == [
        ("fields/field_296.csv", 6, "_id", 1, "id-layout", "warning"),
        ("fields/field_296.csv", 9, "_id", 1, "id-layout", "warning")]

    assert main(["validate", "fields"]) == 0
    out = capsys.readouterr().out
    assert "valid, 2 warning(s)" in out and "id-layout" in out and "1 file(s) valid, 2 warning(s)" in out
