"""Put the field files of a commit where the validator and the builder can read them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from bot import gitrepo
from bot.errors import Finding
from bot.validate.engine import validate_file
from bot.validate.report import ValidationReport


def _inside(repo: Path, rel: str) -> Path:
    """``repo/rel``, refusing absolute paths, ``..`` and anything that resolves outside the repository."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts:
        raise Finding(f"{rel}: the path leaves the repository", hint="field files live in the fields folder")
    path = repo / pure
    if not path.is_symlink() and not path.resolve().is_relative_to(repo.resolve()):
        raise Finding(f"{rel}: the path resolves outside the repository", hint="do not commit symlinks")
    return path


def materialise_fields(repo: Path, commit: str, paths: dict[int, str], scratch: Path) -> dict[int, Path]:
    """field -> a local file holding the field's bytes as committed at ``commit``.

    When the checkout is at ``commit`` the work tree is used as it is (it holds the real content of
    Git LFS files, which ``git cat-file`` would give as pointers); otherwise the blobs are exported.
    """
    at_head = gitrepo.resolve(repo, "HEAD") == commit and not _dirty(repo, list(paths.values()))
    out: dict[int, Path] = {}
    for field, rel in sorted(paths.items()):
        local = _inside(repo, rel)
        if local.is_symlink():
            out[field] = local  # the validator refuses it, with its own message, without following it
        elif at_head:
            out[field] = local
        else:
            out[field] = gitrepo.export_file(repo, commit, rel, scratch / PurePosixPath(rel).name)
    return out


def validate_fields(
    repo: Path, commit: str, paths: dict[int, str], scratch: Path, settings, progress: bool = False
):
    """Validate the fields' files as committed at ``commit``; reports name the repository paths."""
    files = materialise_fields(repo, commit, paths, scratch)
    reports = [
        validate_file(files[field], display_path=paths[field], settings=settings, progress=progress)
        for field in sorted(files)
    ]
    return files, ValidationReport(files=reports)


def _dirty(repo: Path, rels: list[str]) -> bool:
    if not rels:
        return False
    return bool(gitrepo.status_porcelain(repo, rels))
