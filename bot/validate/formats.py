"""A validation report for people and machines: rich tables, GitHub annotations and job summary, JSON."""

from __future__ import annotations

import html
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.validate.report import WARNING, FileReport, Problem, ValidationReport

SUMMARY_ERRORS_PER_FILE = 10  # the summary shows a file's first errors and warnings; annotations have the rest
_SUMMARY_LIMIT = 900_000  # GitHub refuses step summaries over 1 MiB


# -- text ---------------------------------------------------------------------------------------------
def render_text(report: ValidationReport, console: Console) -> None:
    """A table per file (rows, status, errors then warnings with line/column/code/message), then a verdict.

    Warnings are yellow and say "warning" in their own column, so they read apart without colour too.
    """
    for file in report.files:
        status = Text("valid", style="bold green") if file.valid else Text("INVALID", style="bold red")
        if file.warning_count:
            status += Text(f", {file.warning_count:,} warning(s)", style="bold yellow")
        title = Text(file.path) + Text(f"  {file.rows:,} rows  ") + status
        if not file.errors and not file.warnings:
            console.print(title)
            continue
        table = Table(title=title, title_justify="left", show_lines=False, expand=False)
        for name, justify in (("line", "right"), ("column", "left"), ("level", "left"), ("code", "left"),
                              ("message", "left")):
            table.add_column(name, justify=justify, overflow="fold")
        for p in [*file.errors, *file.warnings]:
            # Cell text comes from the file: never let it be read as rich markup.
            warning = p.severity == WARNING
            table.add_row(_or_dash(p.line), Text(p.column or "-"), Text(p.severity), Text(p.code), Text(p.message),
                          style="yellow" if warning else None)
        console.print(table)
        if file.truncated:
            console.print(Text(f"  … and {file.error_count - len(file.errors):,} more errors in {file.path} "
                               f"({file.error_count:,} in all)", style="red"))
        if file.warnings_truncated:
            console.print(Text(f"  … and {file.warning_count - len(file.warnings):,} more warnings in {file.path} "
                               f"({file.warning_count:,} in all)", style="yellow"))
    bad = sum(not f.valid for f in report.files)
    verdict = (
        Text(f"{len(report.files)} file(s) valid", style="bold green") if report.valid
        else Text(f"{bad} of {len(report.files)} file(s) invalid, {report.error_count:,} error(s)", style="bold red")
    )
    if report.warning_count:
        verdict += Text(f", {report.warning_count:,} warning(s)", style="bold yellow")
    console.print(verdict)


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


# -- GitHub workflow commands ---------------------------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """``::error file=…,line=…,col=…,title=…::message`` (``::warning`` for a warning), GitHub's escaping rules."""
    props = [f"file={_escape_property(problem.path)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.col is not None:
            props.append(f"col={problem.col}")
    props.append(f"title={_escape_property(problem.code)}")
    message = problem.message if problem.column is None else f"{problem.column}: {problem.message}"
    command = "warning" if problem.severity == WARNING else "error"
    return f"::{command} {','.join(props)}::{_escape_data(message)}"


def github_annotations(report: ValidationReport) -> list[str]:
    """One ``::error`` line per listed error and one ``::warning`` line per listed warning, plus one line per
    truncated list saying how many more there are."""
    lines: list[str] = []
    for file in report.files:
        lines += [annotation(p) for p in file.errors]
        if file.truncated:
            more = Problem(file.path, None, None, "more-errors",
                           f"{file.error_count - len(file.errors):,} more errors not listed "
                           f"({file.error_count:,} in all); run `release-bot validate {file.path}` to see them")
            lines.append(annotation(more))
        lines += [annotation(p) for p in file.warnings]
        if file.warnings_truncated:
            more = Problem(file.path, None, None, "more-warnings",
                           f"{file.warning_count - len(file.warnings):,} more warnings not listed "
                           f"({file.warning_count:,} in all); run `release-bot validate {file.path}` to see them",
                           severity=WARNING)
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
    """The job summary: a table of files, then the first errors and warnings of each file that has any."""
    if not report.files:
        return "## Field file validation\n\nNo field files to validate."
    bad = [f for f in report.files if not f.valid]
    verdict = (f"✅ {len(report.files)} field file(s) valid" if not bad
               else f"❌ {len(bad)} of {len(report.files)} field file(s) invalid "
                    f"({report.error_count:,} error(s))")
    if report.warning_count:
        verdict += f"; ⚠️ {report.warning_count:,} warning(s) (warnings never make a file invalid)"
    out = ["## Field file validation", "", verdict, "",
           "| file | rows | status | errors | warnings |", "|---|---:|---|---:|---:|"]
    for f in report.files:
        out.append(f"| {_cell(f.path)} | {f.rows:,} | {_status(f)} | {f.error_count:,} | {f.warning_count:,} |")
    for f in report.files:
        if not f.errors and not f.warnings and f.valid:
            continue
        block = _file_errors(f)
        if sum(map(len, out)) + sum(map(len, block)) > _SUMMARY_LIMIT:
            out += ["", "_(further files left out: the summary would be too long; see the annotations)_"]
            break
        out += block
    return "\n".join(out)


def _status(f: FileReport) -> str:
    status = "valid" if f.valid else "**invalid**"
    return f"{status}, {f.warning_count:,} warning{'s' if f.warning_count != 1 else ''}" if f.warning_count else status


def _file_errors(f: FileReport) -> list[str]:
    block = ["", f"### {_cell(f.path)}"]
    if f.errors or not f.valid:
        block += _problem_table(f.errors, f.error_count, "error")
    if f.warnings:
        block += ["", "Warnings (these never make the file invalid):"]
        block += _problem_table(f.warnings, f.warning_count, "warning")
    return block


def _problem_table(problems: list[Problem], count: int, kind: str) -> list[str]:
    shown = problems[:SUMMARY_ERRORS_PER_FILE]
    block = ["", "| line | column | code | message |", "|---:|---|---|---|"]
    for p in shown:
        block.append(f"| {_or_dash(p.line)} | {_cell(p.column or '-')} | {_cell(p.code)} | {_cell(p.message)} |")
    if count > len(shown):
        block += ["", f"… and {count - len(shown):,} more {kind}(s)."]
    return block


# -- JSON -----------------------------------------------------------------------------------------------
def render_json(report: ValidationReport) -> str:
    """Exactly one JSON object: {"files": [...], "errors": [...], "warnings": [...], ...}."""
    return json.dumps(report.to_json(), ensure_ascii=False)
