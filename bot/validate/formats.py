"""A validation report for people and machines: rich tables, GitHub annotations and job summary, JSON."""

from __future__ import annotations

import html
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.validate.report import FileReport, Problem, ValidationReport

SUMMARY_ERRORS_PER_FILE = 10  # the job summary shows the first errors; annotations and logs have the rest
_SUMMARY_LIMIT = 900_000  # GitHub refuses step summaries over 1 MiB


# -- text ---------------------------------------------------------------------------------------------
def render_text(report: ValidationReport, console: Console) -> None:
    """A table per file (rows, status, errors with line/column/code/message), then a one-line verdict."""
    for file in report.files:
        status = Text("valid", style="bold green") if file.valid else Text("INVALID", style="bold red")
        title = Text(file.path) + Text(f"  {file.rows:,} rows  ") + status
        if file.valid:
            console.print(title)
            continue
        table = Table(title=title, title_justify="left", show_lines=False, expand=False)
        for name, justify in (("line", "right"), ("column", "left"), ("code", "left"), ("message", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for p in file.errors:
            # Cell text comes from the file: never let it be read as rich markup.
            table.add_row(_or_dash(p.line), Text(p.column or "-"), Text(p.code), Text(p.message))
        console.print(table)
        if file.truncated:
            console.print(Text(f"  … and {file.error_count - len(file.errors):,} more errors in {file.path} "
                               f"({file.error_count:,} in all)", style="yellow"))
    bad = sum(not f.valid for f in report.files)
    verdict = (
        Text(f"{len(report.files)} file(s) valid", style="bold green") if report.valid
        else Text(f"{bad} of {len(report.files)} file(s) invalid, {report.error_count:,} error(s)", style="bold red")
    )
    console.print(verdict)


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


# -- GitHub workflow commands ---------------------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """``::error file=…,line=…,col=…,title=…::message`` with GitHub's escaping rules."""
    props = [f"file={_escape_property(problem.path)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.col is not None:
            props.append(f"col={problem.col}")
    props.append(f"title={_escape_property(problem.code)}")
    message = problem.message if problem.column is None else f"{problem.column}: {problem.message}"
    return f"::error {','.join(props)}::{_escape_data(message)}"


def github_annotations(report: ValidationReport) -> list[str]:
    """One ``::error`` line per listed problem, plus one per truncated file saying how many more there are."""
    lines: list[str] = []
    for file in report.files:
        lines += [annotation(p) for p in file.errors]
        if file.truncated:
            more = Problem(file.path, None, None, "more-errors",
                           f"{file.error_count - len(file.errors):,} more errors not listed "
                           f"({file.error_count:,} in all); run `release-bot validate {file.path}` to see them")
            lines.append(annotation(more))
    return lines


# -- Markdown job summary -------------------------------------------------------------------------------
def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell: no HTML, no code spans, no pipes, one line."""
    out = html.escape(str(text), quote=False)
    out = out.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    out = out.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")
    return " ".join(out.split())


def markdown_summary(report: ValidationReport) -> str:
    """The job summary: a table of files, then the first errors of each invalid file."""
    if not report.files:
        return "## Field file validation\n\nNo field files to validate."
    bad = [f for f in report.files if not f.valid]
    verdict = (f"✅ {len(report.files)} field file(s) valid" if not bad
               else f"❌ {len(bad)} of {len(report.files)} field file(s) invalid "
                    f"({report.error_count:,} error(s))")
    out = ["## Field file validation", "", verdict, "", "| file | rows | status | errors |", "|---|---:|---|---:|"]
    for f in report.files:
        out.append(f"| {_cell(f.path)} | {f.rows:,} | {'valid' if f.valid else '**invalid**'} | {f.error_count:,} |")
    for f in bad:
        block = _file_errors(f)
        if sum(map(len, out)) + sum(map(len, block)) > _SUMMARY_LIMIT:
            out += ["", "_(further files left out: the summary would be too long; see the annotations)_"]
            break
        out += block
    return "\n".join(out)


def _file_errors(f: FileReport) -> list[str]:
    shown = f.errors[:SUMMARY_ERRORS_PER_FILE]
    block = ["", f"### {_cell(f.path)}", "", "| line | column | code | message |", "|---:|---|---|---|"]
    for p in shown:
        block.append(f"| {_or_dash(p.line)} | {_cell(p.column or '-')} | {_cell(p.code)} | {_cell(p.message)} |")
    if f.error_count > len(shown):
        block += ["", f"… and {f.error_count - len(shown):,} more error(s)."]
    return block


# -- JSON -----------------------------------------------------------------------------------------------
def render_json(report: ValidationReport) -> str:
    """Exactly one JSON object: {"files": [...], "errors": [...], ...}."""
    return json.dumps(report.to_json(), ensure_ascii=False)
