"""A pull request's check: validate the field files it adds or changes, annotate, summarise.

Runs with a read-only token and no Zenodo token (pull requests from forks get nothing more), so it
writes nothing remotely: annotations and the job summary are how it talks.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from bot import gitrepo
from bot.release.context import RunContext
from bot.release.files import validate_fields
from bot.scope import field_from_filename
from bot.validate.formats import github_annotations, markdown_summary
from bot.validate.report import FileReport, Problem, ValidationReport


def _preview(report: ValidationReport, added: set[int], replaced: set[int], removed: list[int]) -> str:
    """What merging would put in the next release, for a valid PR."""
    lines = ["### What merging this pull request would release", ""]
    for label, fields in (("added", sorted(added)), ("replaced", sorted(replaced)), ("removed", removed)):
        if fields:
            lines.append(f"- {label}: " + ", ".join(f"field {f}" for f in fields))
    rows = sum(f.rows for f in report.files)
    lines += ["", f"{rows:,} light curves in {len(report.files)} file(s). "
              "The version number, the catalog zip and the DOI are decided when the merge is drafted."]
    return "\n".join(lines)


def check_pull_request(ctx: RunContext, *, base: str, head: str, number: int = 0) -> ValidationReport:
    """Validate the PR's field files (as committed at ``head``), print annotations, write the summary."""
    fields_dir = ctx.config.catalog.fields_dir
    changed = gitrepo.changed_files(ctx.repo_dir, base, head, fields_dir)
    new_paths: dict[int, str] = {}
    stray: list[FileReport] = []
    added, replaced, removed = set(), set(), []
    for change in changed:
        name = PurePosixPath(change.path).name
        field = field_from_filename(name)
        in_folder = str(PurePosixPath(change.path).parent) == fields_dir.strip("/")
        if change.status == "deleted":
            if field is not None and in_folder:
                removed.append(field)
            continue
        if field is None or not in_folder:
            stray.append(_not_a_field_file(change.path, fields_dir))
            continue
        new_paths[field] = change.path
        (added if change.status == "added" else replaced).add(field)
    _, report = validate_fields(ctx.repo_dir, head, new_paths, ctx.workdir / "pr-fields", ctx.config.validation)
    report = ValidationReport(files=[*report.files, *stray, *_mixed_changes(ctx, base, head, changed)])
    for line in github_annotations(report):
        print(line)
    summary = markdown_summary(report)
    if report.valid and report.files:
        summary += "\n\n" + _preview(report, added, replaced, sorted(removed))
    elif not report.files:
        summary = f"No field file under `{fields_dir}/` changed in this pull request: nothing to validate."
    ctx.write_summary(summary)
    return report


# What decides who may release what, where: changed only in pull requests of their own.
PROTECTED = ("release-config.yaml", ".github/", "bot/", "pyproject.toml")


def _mixed_changes(ctx: RunContext, base: str, head: str, fields: list) -> list[FileReport]:
    """A PR that changes field files may not also change the release configuration or the bot.

    The push run trusts the merged configuration (curators, the Zenodo URL) and code, so such changes
    must be reviewed on their own, not slipped in beside a catalog contribution.
    """
    if not fields:
        return []
    reports = []
    for change in gitrepo.changed_paths(ctx.repo_dir, base, head, *PROTECTED):
        message = (f"{change.path} changes the release configuration or the bot in a pull request that also "
                   "changes field files; open a separate pull request for it")
        reports.append(FileReport(
            path=change.path, field=None, rows=0, valid=False,
            errors=[Problem(path=change.path, line=None, column=None, code="mixed-change", message=message)],
            error_count=1, stats=None,
        ))
    return reports


def _not_a_field_file(path: str, fields_dir: str) -> FileReport:
    message = (
        f"{path} is not a field file: put prediction files directly in {fields_dir}/ and name them "
        "field_<N>.csv or field_<N>.csv.gz (N the ZTF field number, no leading zeros)"
    )
    return FileReport(
        path=path, field=None, rows=0, valid=False,
        errors=[Problem(path=path, line=None, column=None, code="not-a-field-file", message=message)],
        error_count=1, stats=None,
    )
