"""The report renderers: GitHub workflow-command escaping, a Markdown summary that hostile text cannot break."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from bot.validate.formats import annotation, github_annotations, markdown_summary, render_json, render_text
from bot.validate.report import FileReport, Problem, ValidationReport


def _report(*problems: Problem, rows: int = 3, error_count: int | None = None) -> ValidationReport:
    path = problems[0].path if problems else "fields/field_296.csv"
    count = len(problems) if error_count is None else error_count
    return ValidationReport([FileReport(path, 296, rows, not problems, list(problems), count, None)])


def test_annotations_escape_properties_and_data_as_github_requires() -> None:
    p = Problem("fields/a,b:c%.csv", 7, "ra", "out-of-range", "50% off\r\nnext: line, here", col=12)
    assert annotation(p) == (
        "::error file=fields/a%2Cb%3Ac%25.csv,line=7,col=12,title=out-of-range::ra: 50%25 off%0D%0Anext: line, here"
    )


def test_file_level_problems_have_no_line_or_col() -> None:
    p = Problem("fields/notes.txt", None, None, "not-a-field-file", "not a field file", col=3)
    assert annotation(p) == "::error file=fields/notes.txt,title=not-a-field-file::not a field file"


def _bad_files(files: int, errors: int) -> ValidationReport:
    out = []
    for n in range(1, files + 1):
        path = f"fields/field_{n}.csv"
        problems = [Problem(path, line, "ra", "bad-format", f"f{n} e{line}") for line in range(2, 2 + errors)]
        out.append(FileReport(path, n, 10, False, problems, errors * 3, None))
    return ValidationReport(out)


def _annotated(lines: list[str], kind: str) -> list[tuple[str, int]]:
    found = [re.search(r"file=([^,]+),line=(\d+)", line) for line in lines if line.startswith(f"::{kind} ")]
    return [(m.group(1), int(m.group(2))) for m in found if m]


def test_ten_error_annotations_at_most_each_files_first_problem_first() -> None:
    lines = github_annotations(_bad_files(30, 5), "the artifact")
    assert _annotated(lines, "error") == [(f"fields/field_{n}.csv", 2) for n in range(1, 11)]
    (notice,) = [line for line in lines if line.startswith("::notice")]
    assert lines[-1] == notice and len(lines) == 11
    assert "30 field file(s), 30 invalid: 450 error(s)" in notice and "10 error(s) and 0 warning(s) shown" in notice
    assert notice.endswith("Every problem: the artifact.")


def test_with_few_files_the_annotations_go_round_the_files_again() -> None:
    lines = github_annotations(_bad_files(3, 20))
    shown = _annotated(lines, "error")
    assert shown == [(f"fields/field_{n}.csv", line) for line in (2, 3, 4) for n in (1, 2, 3)] + [
        ("fields/field_1.csv", 5)]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40), st.text(max_size=60))
def test_an_annotation_is_always_one_command_line(path: str, message: str) -> None:
    line = annotation(Problem(path or "x", 3, "ra", "bad-format", message))
    assert "\n" not in line and "\r" not in line
    head, _, body = line.partition("::")[2].partition("::")
    props = head[len("error "):].split(",")
    assert [p.split("=", 1)[0] for p in props] == ["file", "line", "title"]
    decoded = body.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    assert decoded == "ra: " + message


HOSTILE = "a | b `code` <script>alert(1)</script> [link](http://x) **bold**\nsecond line"


def test_the_markdown_summary_neutralises_cell_text() -> None:
    p = Problem(f"fields/{HOSTILE}", 4, "r|a", "bad-format", HOSTILE)
    text = markdown_summary(_report(p))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "`code`" not in text and "\\`code\\`" in text
    # every table row keeps its table's cell count: pipes inside cells are escaped
    tables = _tables(text)
    assert [t[0] for t in tables] == ["| file | rows | status | errors | warnings |",
                                      "| line | column | code | message |"]
    for table in tables:
        width = len(_cells(table[0]))
        for row in table:
            assert len(_cells(row)) == width, row
    assert "second line" in text and "\nsecond line" not in text


def _cells(row: str) -> list[str]:
    return re.split(r"(?<!\\)\|", row)[1:-1]


def _tables(text: str) -> list[list[str]]:
    """The Markdown tables of a text, each a list of its lines (header first)."""
    tables: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("|"):
            if not inside:
                tables.append([])
            tables[-1].append(line)
        inside = line.startswith("|")
    return tables


def test_the_summary_lists_every_listed_error_and_counts_the_rest() -> None:
    problems = [Problem("fields/field_296.csv", i, "ccd", "out-of-range", f"error {i}") for i in range(2, 40)]
    text = markdown_summary(_report(*problems, error_count=500))
    assert all(f"error {i} |" in text for i in range(2, 40))
    assert "462 more error(s) (500 in all)" in text
    assert "| fields/field\\_296.csv | 3 | **invalid** | 500 |" in text


def test_a_valid_report_summary_and_json() -> None:
    report = _report()
    assert "✅ 1 field file(s) valid" in markdown_summary(report)
    assert render_json(report).count("\n") == 0


def test_text_output_never_interprets_markup_from_the_file() -> None:
    p = Problem("fields/field_296.csv", 4, "ra", "bad-format", '"[bold red]x[/bold red]" is not a number')
    out = io.StringIO()
    render_text(_report(p), Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "[bold red]x[/bold red]" in text
    assert "1 of 1 file(s) invalid, 1 error(s)" in text


# -- warnings --------------------------------------------------------------------------------------------
def _warning(line: int, message: str = "off the layout") -> Problem:
    return Problem("fields/field_296.csv", line, "_id", "id-layout", message, col=1, severity="warning")


def _warned(*warnings: Problem, errors: tuple[Problem, ...] = (), warning_count: int | None = None):
    count = len(warnings) if warning_count is None else warning_count
    return ValidationReport([FileReport("fields/field_296.csv", 296, 3, not errors, list(errors), len(errors), None,
                                        warnings=list(warnings), warning_count=count)])


def test_a_warning_is_a_warning_annotation_and_never_invalidates() -> None:
    assert annotation(_warning(6)) == (
        "::warning file=fields/field_296.csv,line=6,col=1,title=id-layout::_id: off the layout")
    report = _warned(_warning(6), _warning(9), warning_count=120)
    assert report.valid and report.error_count == 0 and report.warning_count == 120
    lines = github_annotations(report)
    assert [line.split(" ", 1)[0] for line in lines] == ["::warning", "::warning", "::notice"]
    assert "0 error(s) and 120 warning(s); 0 error(s) and 2 warning(s) shown" in lines[2]
    many = _warned(*[_warning(n) for n in range(2, 40)])
    assert [line.split(" ", 1)[0] for line in github_annotations(many)] == ["::warning"] * 10 + ["::notice"]


def test_problems_are_errors_unless_told_and_know_no_other_severity() -> None:
    assert Problem("f", 1, None, "x", "m").severity == "error"
    with pytest.raises(ValueError, match="severity"):
        Problem("f", 1, None, "x", "m", severity="info")


def test_the_summary_counts_warnings_and_lists_the_first_ones() -> None:
    warnings = [_warning(i, f"warning {i}") for i in range(2, 30)]
    text = markdown_summary(_warned(*warnings, warning_count=40))
    assert "✅ 1 field file(s) valid; ⚠️ 40 warning(s)" in text
    assert "| fields/field\\_296.csv | 3 | valid, 40 warnings | 0 | 40 |" in text
    assert "warning 29 |" in text and "12 more warning(s) (40 in all)" in text
    assert [t[0] for t in _tables(text)] == ["| file | rows | status | errors | warnings |",
                                             "| line | column | code | message |"]
    error = Problem("fields/field_296.csv", 4, "ccd", "out-of-range", "bad ccd")
    both = markdown_summary(_warned(_warning(6), errors=(error,)))
    assert "| **invalid**, 1 warning | 1 | 1 |" in both
    assert both.index("bad ccd") < both.index("Warnings") < both.index("off the layout")
    assert "| fields/field\\_296.csv | 3 | valid | 0 | 0 |" in markdown_summary(_report())


def test_text_output_shows_warnings_in_yellow_after_the_errors() -> None:
    error = Problem("fields/field_296.csv", 4, "ccd", "out-of-range", "bad ccd")
    out = io.StringIO()
    render_text(_warned(_warning(6), errors=(error,)), Console(file=out, width=250, color_system="standard"))
    text = out.getvalue()
    assert "\x1b[33m" in text.split("off the layout")[0].rsplit("\n", 1)[1]  # the warning's row is yellow
    assert text.index("bad ccd") < text.index("off the layout")
    plain = io.StringIO()
    render_text(_warned(_warning(6)), Console(file=plain, width=250, color_system=None))
    shown = plain.getvalue()
    assert "valid, 1 warning(s)" in shown and "warning" in shown.split("off the layout")[0].rsplit("\n", 1)[1]
    assert shown.rstrip().endswith("1 file(s) valid, 1 warning(s)")


def test_json_lists_warnings_beside_errors_with_the_same_keys() -> None:
    error = Problem("fields/field_296.csv", 4, "ccd", "out-of-range", "bad ccd")
    doc = json.loads(render_json(_warned(_warning(6), errors=(error,))))
    assert doc["error_count"] == 1 and doc["warning_count"] == 1 and doc["valid"] is False
    assert set(doc["errors"][0]) == set(doc["warnings"][0])
    assert (doc["errors"][0]["severity"], doc["warnings"][0]["severity"]) == ("error", "warning")
    assert doc["files"][0]["warning_count"] == 1


def test_a_summary_that_would_pass_githubs_limit_shows_each_file_the_same_number_of_problems() -> None:
    """GitHub refuses a job summary over 1 MiB: the file table stays whole, each file shows its first problems."""
    files = []
    for field in range(1, 121):
        path = f"fields/field_{field}.csv"
        problems = [Problem(path, line, "ra", "bad-format", f"{line}: " + "x" * 2000) for line in range(2, 12)]
        files.append(FileReport(path, field, 10, False, problems, 10, None))
    text = markdown_summary(ValidationReport(files))
    assert len(text.encode()) <= 1_000_000
    assert all(f"| fields/field\\_{field}.csv | 10 | **invalid** | 10 |" in text for field in range(1, 121))
    shown = [block.count("| bad-format |") for block in text.split("### ")[1:]]
    assert len(shown) == 120 and len(set(shown)) == 1 and 0 < shown[0] < 10, shown
    assert "the JSON report `validation-report` lists the first 10" in text
    smaller = markdown_summary(ValidationReport(files), limit=50_000)
    assert len(smaller.encode()) <= 50_000 and "| fields/field\\_120.csv |" in smaller


def test_an_empty_report_says_there_was_nothing_to_validate() -> None:
    report = ValidationReport([])
    assert report.valid
    assert markdown_summary(report) == "## Field file validation\n\nNo field files to validate."
    assert github_annotations(report) == []
