"""A pull request's check: validate the field files it adds or changes, annotate, summarise.

Runs with a read-only token and no Zenodo token (pull requests from forks get nothing more), so it
writes nothing remotely: annotations and the job summary are how it talks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot import gitrepo
from bot.config import Config
from bot.errors import EXIT_FINDING, EXIT_OK, UsageError
from bot.flow.context import RunContext
from bot.flow.fields import committed_size, lfs_access, validate_each
from bot.flow.router import Payload, Router
from bot.github import checkreport
from bot.lfs import LfsAccess
from bot.scope import field_from_filename
from bot.validate.report import WARNING, FileReport, Problem, ValidationReport

router = Router()


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


@dataclass
class PullFiles:
    """What a pull request changes in the catalog, and the verdict on its files."""

    report: ValidationReport
    added: set[int] = field(default_factory=set)
    replaced: set[int] = field(default_factory=set)
    removed: list[int] = field(default_factory=list)


def pull_range(repo: Path, base: str, head: str) -> tuple[str, str]:
    """What to diff and validate: GitHub checks out the PR's merge commit (``refs/pull/N/merge``).

    Validating the checked-out commit reads the work tree, where Git LFS files hold their content, and
    its first parent is the base the PR is merged into. A checkout of the PR's head is used as it is.
    """
    checked_out = gitrepo.resolve(repo, "HEAD")
    if checked_out != head and gitrepo.is_merge(repo, checked_out):
        return gitrepo.resolve(repo, "HEAD^1"), checked_out
    return base, head


@dataclass
class Selection:
    """What a pull request changes: the field files to validate (field -> path, in field order), the paths
    refused by name, and which fields it adds, replaces or removes."""

    paths: dict[int, str]
    refused: list[FileReport]
    added: set[int] = field(default_factory=set)
    replaced: set[int] = field(default_factory=set)
    removed: list[int] = field(default_factory=list)


def select_pull_files(repo: Path, config: Config, *, base: str, head: str) -> Selection:
    """The PR's field files to validate, from git alone (no file content is read)."""
    fields_dir = config.catalog.fields_dir
    changed = gitrepo.changed_files(repo, base, head, fields_dir)
    out = Selection(paths={}, refused=_not_data(repo, base, head, fields_dir) if changed else [])
    for change in changed:
        number = field_file_number(change.path, fields_dir)
        if number is None:
            continue  # refused by name
        if change.status == "deleted":
            out.removed.append(number)
        else:
            out.paths[number] = change.path
            (out.added if change.status == "added" else out.replaced).add(number)
    out.paths = dict(sorted(out.paths.items()))
    out.removed.sort()
    return out


def validate_pull_request(
    repo: Path, config: Config, scratch: Path, *, base: str, head: str, progress: bool = False,
    access: LfsAccess | None = None,
) -> PullFiles:
    """Validate the field files a PR adds or changes (as committed at ``head``, one at a time); refuse
    every other file a PR that touches the fields folder changes."""
    chosen = select_pull_files(repo, config, base=base, head=head)
    report = validate_selected(repo, config, head, chosen.paths, scratch, access or LfsAccess(), progress=progress)
    return PullFiles(ValidationReport(files=[*report.files, *chosen.refused]), chosen.added, chosen.replaced,
                     chosen.removed)


def validate_selected(
    repo: Path, config: Config, head: str, paths: dict[int, str], scratch: Path, access: LfsAccess, *,
    progress: bool = False,
) -> ValidationReport:
    """Validate these field files as committed at ``head`` (one on disk at a time), warning near the size
    limit: the single check and each job of a fanned-out check do exactly this."""
    report = validate_each(repo, head, paths, scratch, config.validation, access, progress=progress)
    for file in report.files:
        _warn_near_size_limit(file, committed_size(repo, head, file.path), config.catalog.max_file_bytes)
    return report


def check_pull_request(ctx: RunContext, *, base: str, head: str, number: int = 0) -> ValidationReport:
    """The pull_request handler's work: validate, annotate, write the job summary and the JSON report."""
    found = validate_pull_request(ctx.repo_dir, ctx.config, ctx.workdir / "pr-fields", base=base, head=head,
                                  access=lfs_access(ctx))
    publish_check(ctx, found)
    return found.report


def publish_check(ctx: RunContext, found: PullFiles) -> None:
    """Tell the pull request what its check found (GitHub's limits in ``checkreport``)."""
    report = found.report
    if not report.files:
        ctx.write_summary(f"No field file under `{ctx.config.catalog.fields_dir}/` changed in this pull request: "
                          "nothing to validate.")
        checkreport.write_json_report(report, ctx.workdir / checkreport.REPORT_FILE)
        return
    extra = _preview(report, found.added, found.replaced, found.removed) if report.valid else ""
    checkreport.emit(report, print_line=print, write_summary=ctx.write_summary,
                     report_path=ctx.workdir / checkreport.REPORT_FILE, run_url=ctx.run_url, extra=extra)


def field_file_number(path: str, fields_dir: str) -> int | None:
    """N when ``path`` is ``<fields_dir>/field_<N>.csv`` or ``.csv.gz`` exactly, else None."""
    pure = PurePosixPath(path)
    if str(pure.parent) != fields_dir.strip("/"):
        return None
    return field_from_filename(pure.name)


def _not_data(repo: Path, base: str, head: str, fields_dir: str) -> list[FileReport]:
    """A PR that changes field files carries field files only: every other path it adds, changes, renames or
    deletes, anywhere, is refused by name. An allow-list, so setup.py, pip/, .gitattributes, .lfsconfig,
    sitecustomize.py, *.pth and names no one thought of are all covered.

    The release runs trust the merged configuration and code, so such changes are reviewed on their own.
    """
    refused: dict[str, FileReport] = {}
    for change in gitrepo.changed_paths(repo, base, head):
        for path in (change.path, change.old_path):
            if path is None or path in refused or field_file_number(path, fields_dir) is not None:
                continue
            in_folder = PurePosixPath(path).is_relative_to(fields_dir.strip("/"))
            refused[path] = _not_a_field_file(path, fields_dir) if in_folder else FileReport.refused(
                path, "mixed-change",
                f"{path} is not a field file, in a pull request that changes field files: such a pull request "
                f"may change only {fields_dir}/field_<N>.csv or .csv.gz files; open a separate pull request "
                "for it",
            )
    return list(refused.values())


NEAR_LIMIT = 0.9  # warn from 90% of catalog.max_file_bytes


def _warn_near_size_limit(file: FileReport, size: int | None, limit: int) -> None:
    """A warning on a field file within 10% of (or past) the largest file Git LFS takes, with the fix."""
    if size is None or size < NEAR_LIMIT * limit:
        return
    where = "past" if size > limit else "within 10% of"
    fix = (f"commit it gzipped instead (`gzip -9k {file.path}`, then add {file.path}.gz and remove "
           f"{file.path}; see CONTRIBUTING.md)" if not file.path.endswith(".gz")
           else "ask the maintainers: the repository's Git LFS plan sets this limit")
    file.warnings.append(Problem(
        file.path, None, None, "near-size-limit",
        f"{file.path} is {size:,} bytes, {where} the {limit:,}-byte limit on one Git LFS object "
        f"(catalog.max_file_bytes); {fix}", severity=WARNING,
    ))
    file.warning_count += 1


def _not_a_field_file(path: str, fields_dir: str) -> FileReport:
    message = (
        f"{path} is not a field file: put prediction files directly in {fields_dir}/ and name them "
        "field_<N>.csv or field_<N>.csv.gz (N the ZTF field number, no leading zeros)"
    )
    return FileReport.refused(path, "not-a-field-file", message)


def pull_request_shas(payload: Payload) -> tuple[str, str]:
    """The base and head commits a ``pull_request`` event names."""
    try:
        pull = payload["pull_request"]
        return str(pull["base"]["sha"]), str(pull["head"]["sha"])
    except (KeyError, TypeError) as exc:
        raise UsageError(f"the pull_request event payload has no {exc}",
                         hint="the payload must hold pull_request.base.sha and pull_request.head.sha") from None


@router.register("pull_request")
def on_pull_request(ctx: RunContext, payload: Payload) -> int:
    base, head = pull_range(ctx.repo_dir, *pull_request_shas(payload))
    number = int((payload.get("pull_request") or {}).get("number", 0))
    report = check_pull_request(ctx, base=base, head=head, number=number)
    return EXIT_OK if report.valid else EXIT_FINDING
