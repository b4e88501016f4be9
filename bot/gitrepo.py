"""Read-only questions to the local git checkout: what changed, which release tag, a file at a commit.

Runs ``git`` as a subprocess with fixed arguments (never a shell), so refs and paths from payloads
cannot inject options: every ref is checked first and paths go after ``--``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UsageError
from bot.trailers import co_author_trailers
from bot.versions import read_version

_SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@{}~^-]{0,200}$")
_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "added", "T": "modified"}


@dataclass(frozen=True)
class ChangedPath:
    path: str
    status: str  # added | modified | deleted | renamed
    old_path: str | None = None


class GitError(UsageError):
    pass


def _check_ref(ref: str) -> str:
    if not _SAFE_REF.match(ref) or ".." in ref:
        raise GitError(f"{ref!r} is not a git revision the bot accepts", hint="pass a commit sha, branch or tag")
    return ref


def _git(repo: str | Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=600,
        )
    except FileNotFoundError:
        raise GitError("git is not installed", hint="install git and run again") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(
            f"git {args[0]} failed in {repo}: {err[-1] if err else 'exit ' + str(done.returncode)}",
            hint="check that the repository is checked out with full history (fetch-depth: 0)",
        )
    return done.stdout.decode("utf-8", "replace")


def resolve(repo: str | Path, ref: str) -> str:
    """The full commit sha of a ref."""
    return _git(repo, "rev-parse", "--verify", "--end-of-options", _check_ref(ref) + "^{commit}").strip()


def changed_files(repo: str | Path, base: str, head: str, fields_dir: str) -> list[ChangedPath]:
    """Files under ``fields_dir`` that differ between ``base`` and ``head`` (rename detection on)."""
    return changed_paths(repo, base, head, fields_dir.rstrip("/") + "/")


def changed_paths(repo: str | Path, base: str, head: str, *pathspecs: str) -> list[ChangedPath]:
    """Files matching ``pathspecs`` (files or folders ending in /) that differ between two commits."""
    out = _git(repo, "diff", "--name-status", "-M", "-z", _check_ref(base), _check_ref(head), "--", *pathspecs)
    parts = out.split("\0")
    changes: list[ChangedPath] = []
    i = 0
    while i < len(parts) - 1:
        code = parts[i]
        if not code:
            i += 1
            continue
        kind = _STATUS.get(code[0], "modified")
        if code[0] in "RC":
            changes.append(ChangedPath(parts[i + 2], kind, parts[i + 1]))
            i += 3
        else:
            changes.append(ChangedPath(parts[i + 1], kind))
            i += 2
    return changes


def show_file(repo: str | Path, ref: str, path: str) -> bytes:
    """A file's bytes at a commit (small files only: fields.json, config)."""
    done = subprocess.run(
        ["git", "-C", str(repo), "show", f"{_check_ref(ref)}:{path}"], capture_output=True, check=False,
    )
    if done.returncode != 0:
        raise GitError(f"{path} does not exist at {ref}")
    return done.stdout


@dataclass(frozen=True)
class TreeEntry:
    mode: str  # 100644 / 100755 a file, 120000 a symlink, 160000 a submodule
    kind: str  # blob / tree / commit
    oid: str
    size: int | None  # of the blob, None for trees and submodules


def tree_entry(repo: str | Path, ref: str, path: str) -> TreeEntry | None:
    """What the tree of ``ref`` holds at exactly ``path`` (None when nothing)."""
    out = _git(repo, "ls-tree", "-l", "-z", "--full-tree", _check_ref(ref), "--", path)
    for record in out.split("\0"):
        meta, _, name = record.partition("\t")
        if name == path:
            mode, kind, oid, size = meta.split()
            return TreeEntry(mode, kind, oid, int(size) if size.isdigit() else None)
    return None


def read_blob(repo: str | Path, oid: str, limit: int) -> bytes:
    """The first ``limit`` bytes of a blob, exactly as committed (for small blobs: LFS pointers)."""
    with subprocess.Popen(["git", "-C", str(repo), "cat-file", "blob", _check_oid(oid)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        data = proc.stdout.read(limit)
        proc.stdout.close()
    return data


def export_blob(repo: str | Path, oid: str, dest: Path) -> Path:
    """Write a blob's bytes exactly as committed to ``dest``, streaming (field files can be large).

    ``git cat-file blob`` applies no filter: no .gitattributes rule (eol, ident, a filter driver) touches
    the bytes, which are the ones the commit holds, so they are the ones the bot publishes.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        done = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", _check_oid(oid)],
                              stdout=out, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        dest.unlink(missing_ok=True)
        raise GitError(f"blob {oid} is missing from {repo}", hint="fetch the repository with full history")
    return dest


_OID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _check_oid(oid: str) -> str:
    if not _OID.match(oid):
        raise GitError(f"{oid!r} is not a git object id")
    return oid


def latest_release_tag(repo: str | Path, prefix: str) -> tuple[str, str, str] | None:
    """The highest ``<prefix>vX.Y.Z`` tag reachable in the repository: (tag, commit sha, version)."""
    tags = _git(repo, "tag", "--list", f"{prefix}*").split()
    best: tuple[tuple[int, int, int], str] | None = None
    for tag in tags:
        version = read_version(tag[len(prefix):])
        if version and (best is None or version > best[0]):
            best = (version, tag)
    if best is None:
        return None
    tag = best[1]
    return tag, resolve(repo, tag), tag[len(prefix):]


def commit_authors(repo: str | Path, base: str | None, head: str, path: str | None = None) -> list[str]:
    """``Name <email>`` of the authors and Co-authored-by trailers of the commits in ``base..head``
    (touching ``path`` when given), first seen first."""
    span = f"{_check_ref(base)}..{_check_ref(head)}" if base else _check_ref(head)
    log = _git(repo, "log", "--format=%an <%ae>%x00%B%x01", span, *(["--", path] if path else []))
    seen: dict[str, None] = {}
    for entry in log.split("\x01"):
        if not entry.strip():
            continue
        author, _, body = entry.strip("\n").partition("\x00")
        seen.setdefault(author.strip(), None)
        for name, email in co_author_trailers(body):
            if email:
                seen.setdefault(f"{name} <{email}>", None)
    return [a for a in seen if a]


def is_merge(repo: str | Path, commit: str) -> bool:
    """Has ``commit`` more than one parent?"""
    return len(_git(repo, "rev-list", "--parents", "-n", "1", _check_ref(commit)).split()) > 2


def is_ancestor(repo: str | Path, ancestor: str, descendant: str) -> bool:
    """Is ``ancestor`` in ``descendant``'s history? GitError when git knows neither (not fetched, no repo)."""
    done = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", _check_ref(ancestor), _check_ref(descendant)],
        capture_output=True, check=False,
    )
    if done.returncode not in (0, 1):  # 128: an unknown commit, or not a repository
        raise GitError(f"git cannot compare {ancestor[:12]} with {descendant[:12]} in {repo}")
    return done.returncode == 0


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's id of the empty tree: "no release yet"


def first_parent_commits(
    repo: str | Path, base: str | None, head: str, path: str | None = None, limit: int = 200
) -> list[str]:
    """The default branch's own commits in ``base..head`` (merges and squashes) touching ``path``, newest first."""
    span = f"{_check_ref(base)}..{_check_ref(head)}" if base else _check_ref(head)
    args = ["rev-list", "--first-parent", f"--max-count={limit}", span]
    if path:
        args += ["--", path]
    return _git(repo, *args).split()


def status_porcelain(repo: str | Path, paths: list[str]) -> str:
    """``git status --porcelain`` for the given paths: empty when they match HEAD."""
    return _git(repo, "status", "--porcelain", "--", *paths)
