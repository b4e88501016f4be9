"""The report renderers: GitHub workflow-command escaping, a Markdown summary that hostile text cannot break."""

from __future__ import annotations

import io
import re

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


def test_a_truncated_file_says_how_many_more_errors_there_are() -> None:
    p = Problem("fields/field_296.csv", 2, "ccd", "out-of-range", "bad")
    lines = github_annotations(_report(p, error_count=120))
    assert len(lines) == 2
    assert "119 more errors not listed (120 in all)" in lines[1]


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
    rows = [line for line in text.splitlines() if line.startswith("|")]
    # every table row keeps its cell count: pipes inside cells are escaped
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        assert len(cells) == 4, row
    assert "second line" in text and "\nsecond line" not in text


def test_the_summary_lists_the_first_errors_and_counts_the_rest() -> None:
    problems = [Problem("fields/field_296.csv", i, "ccd", "out-of-range", f"error {i}") for i in range(2, 40)]
    text = markdown_summary(_report(*problems, error_count=500))
    assert "error 11" in text and "error 12" not in text
    assert "490 more error(s)" in text
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
