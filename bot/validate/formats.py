"""A validation report for people and machines: rich tables, GitHub annotations and job summary, JSON."""

from __future__ import annotations

import html
import json

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from bot.validate.report import WARNING, FileReport, Problem, ValidationReport

# GitHub refuses a step summary over 1 MiB ("$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of
# 1024k"; docs.github.com, workflow commands, "Adding a job summary"): the validation part keeps some room for the rest.
SUMMARY_BYTES = 1_000_000


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
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("line", "right"), ("column", "left"), ("level", "left"), ("code", "left"), ("message", "left"))
        for name, justify in columns:
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


# GitHub shows at most 10 error, 10 warning and 10 notice annotations per step and 50 per job; the rest
# stay in the log, unseen (actions/toolkit docs/problem-matchers.md, "Limitations"). So the bot chooses.
ANNOTATIONS_PER_KIND = 10
REPORT_ARTIFACT = "validation-report"  # the name the workflows upload the JSON report under


def _spread(files: list[list[Problem]], limit: int) -> list[Problem]:
    """Up to ``limit`` problems: each file's first, then each file's second, and so on."""
    chosen: list[Problem] = []
    depth = 0
    while len(chosen) < limit and any(len(problems) > depth for problems in files):
        chosen += [problems[depth] for problems in files if len(problems) > depth][: limit - len(chosen)]
        depth += 1
    return chosen


def totals_notice(report: ValidationReport, shown_errors: int, shown_warnings: int, where: str = "") -> str:
    """The one ``::notice`` saying how many problems there are, how many are annotated, where the rest are."""
    bad = sum(not f.valid for f in report.files)
    text = (f"{len(report.files)} field file(s), {bad} invalid: {report.error_count:,} error(s) and "
            f"{report.warning_count:,} warning(s); {shown_errors} error(s) and {shown_warnings} warning(s) shown "
            f"as annotations (GitHub shows at most {ANNOTATIONS_PER_KIND} of each per step; each file's first "
            "problem comes first).")
    if report.error_count + report.warning_count > shown_errors + shown_warnings:
        text += f" Every problem: {where or 'the job summary, or `release-bot validate PATH` locally'}."
    return f"::notice title={_escape_property('Field file validation')}::{_escape_data(text)}"


def github_annotations(report: ValidationReport, where: str = "") -> list[str]:
    """At most 10 ``::error`` and 10 ``::warning`` lines, spread over the files, then one totals ``::notice``.

    ``where`` says where every problem can be read (the job summary, the run's JSON artifact).
    """
    if not report.files:
        return []
    errors = _spread([f.errors for f in report.files], ANNOTATIONS_PER_KIND)
    warnings = _spread([f.warnings for f in report.files], ANNOTATIONS_PER_KIND)
    lines = [annotation(p) for p in [*errors, *warnings]]
    return [*lines, totals_notice(report, len(errors), len(warnings), where)]


# -- Markdown job summary -------------------------------------------------------------------------------
def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell: no HTML, no code spans, no pipes, one line."""
    out = html.escape(str(text), quote=False)
    out = out.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    out = out.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")
    return " ".join(out.split())


def markdown_summary(report: ValidationReport, limit: int = SUMMARY_BYTES) -> str:
    """The job summary: a table of files, then every listed error and warning of each file that has any.

    GitHub refuses a step summary over 1 MiB, so when everything would not fit in ``limit`` bytes each file
    shows only its first problems (the same number for every file) and says how many more the JSON report has.
    """
    if not report.files:
        return "## Field file validation\n\nNo field files to validate."
    bad = [f for f in report.files if not f.valid]
    verdict = (f"✅ {len(report.files)} field file(s) valid" if not bad
               else f"❌ {len(bad)} of {len(report.files)} field file(s) invalid "
                    f"({report.error_count:,} error(s))")
    if report.warning_count:
        verdict += f"; ⚠️ {report.warning_count:,} warning(s) (warnings never make a file invalid)"
    head = ["## Field file validation", "", verdict, "",
            "| file | rows | status | errors | warnings |", "|---|---:|---|---:|---:|"]
    for f in report.files:
        head.append(f"| {_cell(f.path)} | {f.rows:,} | {_status(f)} | {f.error_count:,} | {f.warning_count:,} |")
    listed = max((max(len(f.errors), len(f.warnings)) for f in report.files), default=0)
    text = _with_problems(head, report, listed)
    if _size(text) <= limit:
        return text
    low, high = 0, listed  # the largest per-file count that fits: the size grows with it
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _size(_with_problems(head, report, mid)) <= limit else (low, mid - 1)
    text = _with_problems(head, report, low)
    if _size(text) <= limit:
        return text
    cut = "\n".join(head).encode()[: max(0, limit - 200)].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    return cut + "\n\n_(the table is cut short: the summary would be too long; the JSON report has every file)_"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _with_problems(head: list[str], report: ValidationReport, per_file: int) -> str:
    out = list(head)
    for f in report.files:
        if f.errors or f.warnings or not f.valid:
            out += _file_errors(f, per_file)
    return "\n".join(out)


def _status(f: FileReport) -> str:
    status = "valid" if f.valid else "**invalid**"
    return f"{status}, {f.warning_count:,} warning{'s' if f.warning_count != 1 else ''}" if f.warning_count else status


def _file_errors(f: FileReport, per_file: int) -> list[str]:
    block = ["", f"### {_cell(f.path)}"]
    if f.errors or not f.valid:
        block += _problem_table(f.errors, per_file, f.error_count, "error")
    if f.warnings:
        block += ["", "Warnings (these never make the file invalid):"]
        block += _problem_table(f.warnings, per_file, f.warning_count, "warning")
    return block


def _problem_table(listed: list[Problem], per_file: int, count: int, kind: str) -> list[str]:
    shown = listed[:per_file]
    block = ["", "| line | column | code | message |", "|---:|---|---|---|"]
    for p in shown:
        block.append(f"| {_or_dash(p.line)} | {_cell(p.column or '-')} | {_cell(p.code)} | {_cell(p.message)} |")
    if count > len(shown):
        more = f"… and {count - len(shown):,} more {kind}(s) ({count:,} in all"
        if len(listed) > len(shown):
            more += f"; the JSON report `{REPORT_ARTIFACT}` lists the first {len(listed):,}"
        block += ["", more + ")."]
    return block


# -- JSON -----------------------------------------------------------------------------------------------
def render_json(report: ValidationReport) -> str:
    """Exactly one JSON object: {"files": [...], "errors": [...], "warnings": [...], ...}."""
    return json.dumps(report.to_json(), ensure_ascii=False)
