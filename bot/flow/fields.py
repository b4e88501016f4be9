"""Read the field files of a commit as git holds them, one at a time, and let each go once it is used.

Each file is the blob the commit records (``git cat-file blob``, never the work tree or ``--filters``, so no
``.gitattributes`` rule changes a byte), or, when that blob is a Git LFS pointer, the LFS object it names,
fetched on its own. A file is on disk only while it is validated (and compressed, in a merge): a run needs
the disk of its largest changed file, never of the catalog, and fetches from LFS only what changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from bot import gitrepo, lfs
from bot.catalog.compress import CompressedMember, compress_file
from bot.config import ValidationSettings
from bot.errors import BotError
from bot.flow.context import RunContext
from bot.lfs import LfsAccess
from bot.validate.engine import validate_file
from bot.validate.report import FileReport, ValidationReport

# What to do with a valid file while it is still on disk: (field, local path, its report).
WhileHeld = Callable[[int, Path, FileReport], None]


class Refused(BotError):
    """A path the commit holds as something other than a regular file, or whose LFS object is missing."""

    def __init__(self, report: FileReport) -> None:
        super().__init__(report.errors[0].message if report.errors else report.path)
        self.report = report


def _entry(repo: Path, commit: str, rel: str) -> gitrepo.TreeEntry:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        raise Refused(FileReport.refused(rel, "not-a-field-file", "the path leaves the repository"))
    entry = gitrepo.tree_entry(repo, commit, rel)
    if entry is None:
        raise Refused(FileReport.refused(rel, "not-found", f"the file does not exist at {commit[:12]}"))
    if entry.mode == "120000":
        raise Refused(FileReport.refused(rel, "symlink", "symbolic links are not followed; commit the file itself"))
    if entry.kind != "blob":
        raise Refused(FileReport.refused(rel, "not-a-field-file", "not a regular file"))
    return entry


@contextmanager
def committed_file(repo: Path, commit: str, rel: str, scratch: Path, access: LfsAccess) -> Iterator[Path]:
    """A local file holding ``rel``'s bytes as committed at ``commit``, deleted again on leaving.

    Raises :class:`Refused` for a symlink, a submodule, a missing path or an LFS object that cannot be had.
    """
    entry = _entry(repo, commit, rel)
    dest = scratch / PurePosixPath(rel).name
    head = b""
    if entry.size is not None and entry.size < lfs.POINTER_MAX_BYTES:
        head = gitrepo.read_blob(repo, entry.oid, lfs.POINTER_MAX_BYTES)
    pointer = lfs.parse_pointer(head)
    if pointer is None:
        local = gitrepo.export_blob(repo, entry.oid, dest)
    else:
        try:
            local = lfs.fetch_object(repo, commit, rel, pointer, dest, access)
        except lfs.LfsFetchError as exc:
            raise Refused(FileReport.refused(rel, "lfs-object-missing", f"{exc.message} ({exc.hint})")) from None
    try:
        yield local
    finally:
        local.unlink(missing_ok=True)


def committed_size(repo: Path, commit: str, rel: str) -> int | None:
    """The bytes ``rel`` takes in the repository's storage at ``commit``: its LFS object's size when the blob is
    a pointer, else the blob's (None for anything but a file)."""
    entry = gitrepo.tree_entry(repo, commit, rel)
    if entry is None or entry.kind != "blob" or entry.size is None:
        return None
    if entry.size < lfs.POINTER_MAX_BYTES:
        pointer = lfs.parse_pointer(gitrepo.read_blob(repo, entry.oid, lfs.POINTER_MAX_BYTES))
        if pointer is not None:
            return pointer.size
    return entry.size


def lfs_access(ctx: RunContext) -> LfsAccess:
    """The run's repository on GitHub and its token, for fetching LFS objects (nothing else gets the token)."""
    return LfsAccess.for_repository(ctx.github_server_url, ctx.github_repository, ctx.github_token)


def validate_each(
    repo: Path,
    commit: str,
    paths: Mapping[int, str],
    scratch: Path,
    settings: ValidationSettings,
    access: LfsAccess,
    *,
    progress: bool = False,
    while_held: WhileHeld | None = None,
) -> ValidationReport:
    """Validate the fields' files as committed at ``commit``, in field order, one on disk at a time.

    ``while_held`` runs on each valid file before it is deleted (the merge compresses it there).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    reports: list[FileReport] = []
    for field, rel in sorted(paths.items()):
        try:
            with committed_file(repo, commit, rel, scratch, access) as local:
                report = validate_file(local, display_path=rel, settings=settings, progress=progress)
                if while_held is not None and report.valid:
                    while_held(field, local, report)
        except Refused as refused:
            report = refused.report
        reports.append(report)
    return ValidationReport(files=reports)


def validate_and_compress(
    ctx: RunContext, commit: str, paths: Mapping[int, str], *, progress: bool = False
) -> tuple[dict[int, CompressedMember], ValidationReport]:
    """The merge's pass: validate each field file and deflate the valid ones into catalog members while they
    are on disk. After the first invalid file nothing more is compressed (there will be no build)."""
    members_dir = ctx.workdir / "members"
    shutil.rmtree(members_dir, ignore_errors=True)
    members_dir.mkdir(parents=True)
    members: dict[int, CompressedMember] = {}
    failed = False

    def compress(field: int, local: Path, report: FileReport) -> None:
        if failed:
            return
        target = members_dir / f"field_{field}.deflate"
        members[field] = compress_file(local, target, level=ctx.config.catalog.compression_level)

    report = ValidationReport(files=[])
    for field in sorted(paths):
        one = validate_each(ctx.repo_dir, commit, {field: paths[field]}, ctx.workdir / "fields",
                            ctx.config.validation, lfs_access(ctx), progress=progress, while_held=compress)
        report.files.extend(one.files)
        failed = failed or not one.valid
    if failed:
        shutil.rmtree(members_dir, ignore_errors=True)
        members.clear()
    return members, report
