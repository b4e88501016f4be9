"""Load a real local git repository's history into the bundled GitHub server (handy for the demo)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bot.local.github.state import FileChange, GitHubState, StateError

_RECORD, _FIELD = "\x1e", "\x1f"
_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[A-Za-z0-9-]+(?:\[bot\])?)@users\.noreply\.github\.com$")
_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "changed"}


def _git(repo_dir: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise StateError("git is not installed; install it or declare commits with add_commit()") from None
    except subprocess.CalledProcessError as exc:
        raise StateError(f"{repo_dir}: git {' '.join(args[:2])} failed: {exc.stderr.strip()}; "
                         "is it a git repository with at least one commit?") from None
    return done.stdout


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _changes(lines: list[str]) -> list[FileChange]:
    out = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0]:
            continue
        status = _STATUS.get(parts[0][0], "modified")
        if status in ("renamed", "copied") and len(parts) == 3:
            out.append(FileChange(parts[2], status, parts[1] if status == "renamed" else None))
        else:
            out.append(FileChange(parts[-1], status))
    return out


def import_git(state: GitHubState, repo_dir: str | Path, logins: dict[str, str] | None = None) -> list[str]:
    """Add every commit reachable from the repository's branches and tags (parents first), then its
    branches and tags. ``logins`` maps author emails to GitHub logins; GitHub's noreply addresses map by
    themselves. Returns the imported shas, oldest first."""
    repo_dir = Path(repo_dir)
    logins = {k.lower(): v for k, v in (logins or {}).items()}
    fmt = _RECORD + _FIELD.join(("%H", "%P", "%an", "%ae", "%aI", "%B")) + _FIELD
    log = _git(repo_dir, "log", "--all", "--reverse", "--topo-order", "-M", "--name-status",
               f"--format={fmt}")
    shas = []
    with state.lock:
        for record in log.split(_RECORD)[1:]:
            sha, parents, name, email, date, message, files = record.split(_FIELD, 6)
            login = logins.get(email.lower())
            match = _NOREPLY.match(email)
            if login is None and match:
                login = match["login"]
            if sha not in state.commits:
                state.add_commit(sha, parents.split(), _changes(files.strip().splitlines()), author=login,
                                 message=message.strip(), author_name=name, author_email=email)
                state.commits[sha].date = _utc(date)
            shas.append(sha)
        refs = _git(repo_dir, "for-each-ref", "--format=%(refname)\t%(objectname)\t%(*objectname)",
                    "refs/heads", "refs/tags")
        for line in refs.splitlines():
            ref, obj, peeled = line.split("\t")
            if ref.startswith("refs/heads/"):
                state.set_branch(ref.removeprefix("refs/heads/"), obj)
            elif peeled:  # an annotated tag: keep it annotated
                message = _git(repo_dir, "tag", "-l", "--format=%(contents)", ref.removeprefix("refs/tags/"))
                state.add_tag(ref.removeprefix("refs/tags/"), peeled, message=message.strip())
            elif obj in state.commits:
                state.add_tag(ref.removeprefix("refs/tags/"), obj)
    return shas
