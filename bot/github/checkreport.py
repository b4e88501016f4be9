"""A validation report told to GitHub within its limits: a few annotations, the job summary, a JSON file.

GitHub shows at most 10 error and 10 warning annotations per step (actions/toolkit docs/problem-matchers.md),
a step summary of at most 1 MiB, and a comment of at most 65,536 characters. Every problem therefore goes to
the job summary (within its size) and to a JSON report the workflow uploads as an artifact
(``REPORT_ARTIFACT``); the annotations are a spread sample, and a notice says where the rest are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.validate.formats import REPORT_ARTIFACT, github_annotations, markdown_summary
from bot.validate.report import ValidationReport

REPORT_FILE = "validation-report.json"  # under the run's work folder; the workflows upload it


def where_to_look(run_url: str | None) -> str:
    """Where a reader finds every problem of this run."""
    place = f"the job summary and the artifact `{REPORT_ARTIFACT}` (JSON)"
    return f"{place} of the run {run_url}" if run_url else place


def write_json_report(report: ValidationReport, path: Path) -> Path:
    """The whole report (every listed problem of every file) as one JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def emit(
    report: ValidationReport,
    *,
    print_line: Callable[[str], None],
    write_summary: Callable[[str], None],
    report_path: Path | None,
    run_url: str | None,
    heading: str = "",
    extra: str = "",
) -> None:
    """Annotations and the totals notice on stdout, the summary (``heading`` + report + ``extra``), the JSON."""
    for line in github_annotations(report, where_to_look(run_url)):
        print_line(line)
    reserve = len(heading.encode()) + len(extra.encode()) + 4096
    summary = markdown_summary(report, limit=max(100_000, 1_000_000 - reserve))
    write_summary("\n\n".join(part for part in (heading, summary, extra) if part))
    if report_path is not None:
        write_json_report(report, report_path)
