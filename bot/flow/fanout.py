"""A big pull request checked by several jobs at once, with GitHub Actions as the engine.

``release-bot pr-plan`` splits the PR's field files into groups (at most ``validation.group_files`` files and
``validation.group_bytes`` bytes each, in field order) and writes them as the step output ``groups``, a JSON
list the workflow turns into a matrix (at most 256 jobs per matrix: docs.github.com, "Running variations of
jobs in a workflow"). Each matrix job runs ``release-bot pr-group --group N``: it fetches and validates its
group only and writes a JSON report, uploaded as an artifact. ``release-bot pr-gather`` merges the reports
into the one job summary, the annotations and the one check result. A small PR is one group.

Every job works out the same plan from git (the PR's commits and the base branch's configuration), so a
job is told only a group number; the gather refuses reports that do not match the plan, and a group
without a report (its job failed or was cancelled) fails the check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
from bot.flow.context import RunContext
from bot.flow.fields import committed_size, lfs_access
from bot.flow.pr_check import (
    PullFiles,
    Selection,
    publish_check,
    pull_range,
    pull_request_shas,
    select_pull_files,
    validate_selected,
)
from bot.flow.router import Payload
from bot.validate.report import FieldStats, FileReport, Problem, ValidationReport

MAX_GROUPS = 256  # GitHub runs at most 256 jobs of one matrix
GROUP_REPORT = "group-report.json"  # under the run's work folder; the workflow uploads it


@dataclass(frozen=True)
class Group:
    index: int
    paths: tuple[str, ...]
    size: int  # bytes to fetch (an LFS object's size, or the blob's)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "files": len(self.paths), "bytes": self.size, "paths": list(self.paths)}


def group_files(sized: list[tuple[str, int]], max_files: int, max_bytes: int) -> list[Group]:
    """Consecutive groups of at most ``max_files`` files and ``max_bytes`` bytes (a bigger file alone);
    never more than MAX_GROUPS, and always one group, empty when there is nothing to validate."""
    if len(sized) > MAX_GROUPS * max_files:
        max_files, max_bytes = -(-len(sized) // MAX_GROUPS), sum(size for _, size in sized)
    groups: list[list[tuple[str, int]]] = [[]]
    for path, size in sized:
        current = groups[-1]
        if current and (len(current) >= max_files or sum(s for _, s in current) + size > max_bytes):
            groups.append(current := [])
        current.append((path, size))
    return [Group(i, tuple(p for p, _ in g), sum(s for _, s in g)) for i, g in enumerate(groups)]


@dataclass(frozen=True)
class CheckPlan:
    base: str
    head: str
    selection: Selection
    groups: list[Group]


def plan_check(repo: Path, config: Config, payload: Payload) -> CheckPlan:
    """The groups of a ``pull_request`` event's check: the same in every job of the run."""
    base, head = pull_range(repo, *pull_request_shas(payload))
    chosen = select_pull_files(repo, config, base=base, head=head)
    sized = [(path, committed_size(repo, head, path) or 0) for path in chosen.paths.values()]
    groups = group_files(sized, config.validation.group_files, config.validation.group_bytes)
    return CheckPlan(base, head, chosen, groups)


# -- the three jobs ----------------------------------------------------------------------------------


def on_plan(ctx: RunContext, payload: Payload) -> int:
    """``release-bot pr-plan``: the step output ``groups`` (JSON) for the workflow's matrix."""
    plan = plan_check(ctx.repo_dir, ctx.config, payload)
    ctx.set_output("groups", json.dumps([g.to_json() for g in plan.groups], separators=(",", ":")))
    files = sum(len(g.paths) for g in plan.groups)
    print(f"{files} field file(s) to validate in {len(plan.groups)} group(s) "
          f"(at most {ctx.config.validation.group_files} files and {ctx.config.validation.group_bytes:,} bytes each)")
    for g in plan.groups:
        print(f"  group {g.index}: {len(g.paths)} file(s), {g.size:,} bytes")
    return EXIT_OK


def on_group(ctx: RunContext, payload: Payload, index: int) -> int:
    """``release-bot pr-group --group N``: fetch and validate group N's files, write its JSON report."""
    plan = plan_check(ctx.repo_dir, ctx.config, payload)
    if not 0 <= index < len(plan.groups):
        raise UsageError(f"--group {index}: the plan has groups 0 to {len(plan.groups) - 1}",
                         hint="pass a group number from the plan job's output")
    group = plan.groups[index]
    paths = {f: p for f, p in plan.selection.paths.items() if p in group.paths}
    report = validate_selected(ctx.repo_dir, ctx.config, plan.head, paths, ctx.workdir / "pr-fields",
                               lfs_access(ctx))
    out = ctx.workdir / GROUP_REPORT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"group": index, "head": plan.head, "paths": list(group.paths),
                               "report": report_json(report)}, ensure_ascii=False) + "\n", encoding="utf-8")
    bad = sum(not f.valid for f in report.files)
    print(f"group {index}: {len(report.files)} file(s) validated, {bad} invalid; report in {out}")
    return EXIT_OK


def gather(plan: CheckPlan, reports_dir: Path) -> ValidationReport:
    """The plan's groups' reports, in order, as one report; a group with no matching report is a failure."""
    found: dict[int, dict[str, Any]] = {}
    for path in sorted(reports_dir.rglob(GROUP_REPORT)):
        doc = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault(int(doc["group"]), doc)
    files: list[FileReport] = []
    for group in plan.groups:
        doc = found.get(group.index)
        try:
            report = report_from_json(doc["report"]) if doc else None
        except (KeyError, TypeError, ValueError):
            report = None  # not a report this bot wrote: the group counts as unchecked
        if (doc is None or doc.get("head") != plan.head or tuple(doc.get("paths") or ()) != group.paths
                or report is None or tuple(f.path for f in report.files) != group.paths):
            files += [_unchecked(p, group.index) for p in group.paths]
        else:
            files += report.files
    return ValidationReport(files=[*files, *plan.selection.refused])


def on_gather(ctx: RunContext, payload: Payload, reports_dir: Path) -> int:
    """``release-bot pr-gather --reports DIR``: the one summary, annotations, JSON report and verdict."""
    plan = plan_check(ctx.repo_dir, ctx.config, payload)
    report = gather(plan, reports_dir)
    chosen = plan.selection
    publish_check(ctx, PullFiles(report, chosen.added, chosen.replaced, chosen.removed))
    return EXIT_OK if report.valid else EXIT_FINDING


def _unchecked(path: str, index: int) -> FileReport:
    return FileReport.refused(
        path, "not-checked",
        f"{path} was not checked: the job of group {index} left no matching report (it failed, was cancelled or "
        "ran on another commit); re-run the failed jobs of this workflow run",
    )


# -- reports as JSON, and back -------------------------------------------------------------------------


def report_json(report: ValidationReport) -> dict[str, Any]:
    """A report with every listed problem kept with its file, so ``report_from_json`` gives it back whole."""
    return {"files": [{**f.to_json(), "errors": [p.to_json() for p in f.errors],
                       "warnings": [p.to_json() for p in f.warnings]} for f in report.files]}


def report_from_json(doc: dict[str, Any]) -> ValidationReport:
    files = []
    for f in doc["files"]:
        stats = FieldStats(**f["stats"]) if f.get("stats") else None
        files.append(FileReport(
            f["path"], f["field"], f["rows"], f["valid"], [Problem(**p) for p in f["errors"]], f["error_count"],
            stats, [Problem(**p) for p in f["warnings"]], f["warning_count"],
        ))
    return ValidationReport(files=files)
