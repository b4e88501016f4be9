"""What a release changes: fields added, replaced or removed, the pull requests and their people.

The data classes are plain values; ``build_changeset`` reads them from git (through ``bot.gitrepo``) and
from the previous catalog, and ``assemble_changeset`` does the pure part so it can be tested alone.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal, Protocol

from bot import gitrepo
from bot.scope import CLASSES, MODELS, field_from_filename
from bot.trailers import noreply_login

ChangeKind = Literal["added", "replaced", "removed"]
KINDS: tuple[ChangeKind, ...] = ("added", "replaced", "removed")

# GitHub's login rule (also used by the config schema for curators).
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(\[bot\])?$")
_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>]*)>\s*$")


@dataclass(frozen=True)
class FieldChange:
    field: int
    kind: ChangeKind
    rows: int | None = None  # rows (light curves) in the new file; None for a removal or when unknown
    rows_before: int | None = None  # rows in the previous catalog, when known
    # {"dnn": {class: n}, "xgb": {...}}: light curves scored >= 0.7 in the new file
    class_counts: dict[str, dict[str, int]] | None = None
    md5: str | None = None
    size: int | None = None
    path: str | None = None  # the file in the repository (the old path for a removal)


@dataclass(frozen=True)
class PullRef:
    number: int
    title: str
    author: str
    url: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[FieldChange, ...]
    pulls: tuple[PullRef, ...]
    contributors: tuple[str, ...]  # GitHub logins, in order of first appearance
    merge_commit: str
    merge_commit_url: str | None
    fields_before: tuple[int, ...]
    fields_after: tuple[int, ...]
    light_curves_before: int | None
    light_curves_after: int | None
    previous_version: str | None
    labels: tuple[str, ...] = ()  # union of the PRs' labels, sorted
    # Commit authors without a known GitHub login, credited by name (never by e-mail).
    other_authors: tuple[str, ...] = ()

    def of_kind(self, kind: ChangeKind) -> tuple[FieldChange, ...]:
        return tuple(c for c in self.changes if c.kind == kind)


class StatsLike(Protocol):
    """What the validation pass collects per field (``bot.validate.report.FieldStats`` fits)."""

    @property
    def rows(self) -> int | None: ...
    @property
    def class_counts(self) -> Any: ...
    @property
    def md5(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...


class ChangedPathLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def old_path(self) -> str | None: ...


# Computes the statistics of the new files from {field: repository path}, reading only those files.
StatsSource = Callable[[Mapping[int, str]], Mapping[int, "StatsLike | None"]]


# --- pure part ------------------------------------------------------------------------------------


def _field_in(path: str | None, fields_dir: str) -> int | None:
    """The field number of a file directly inside ``fields_dir``, else None."""
    if not path:
        return None
    p = PurePosixPath(path)
    if str(p.parent) != (fields_dir.strip("/") or "."):
        return None
    return field_from_filename(p.name)


def classify_paths(
    changed: Iterable[ChangedPathLike], fields_dir: str, fields_before: Iterable[int]
) -> dict[int, tuple[ChangeKind, str | None]]:
    """Map each touched field to its kind of change and the repository path that carries it.

    A field is *replaced* when it was already in the catalog, whatever git calls the change (a new
    ``field_296.csv.gz`` beside a deleted ``field_296.csv`` is one replacement); *removed* when its
    only file went away; *added* otherwise.
    """
    before = set(fields_before)
    written: dict[int, str] = {}  # field -> path of its new content
    deleted: dict[int, str] = {}
    for cp in changed:
        status = (cp.status or "?")[:1].upper()
        new = _field_in(cp.path, fields_dir)
        old = _field_in(cp.old_path, fields_dir) if status == "R" else None
        if status == "D":
            if new is not None:
                deleted.setdefault(new, cp.path)
            continue
        if status == "R" and old is not None and old != new:
            deleted.setdefault(old, cp.old_path or cp.path)
        if new is not None:
            written[new] = cp.path
    out: dict[int, tuple[ChangeKind, str | None]] = {}
    for f, path in written.items():
        out[f] = ("replaced" if f in before else "added", path)
    for f, path in deleted.items():
        if f not in written and f in before:
            out[f] = ("removed", path)
    return dict(sorted(out.items()))


def normalise_class_counts(raw: Any) -> dict[str, dict[str, int]] | None:
    """Accept ``{"dnn": {cls: n}}`` or ``{"<cls>_dnn": n}``; return the nested form with every class."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TypeError(f"class_counts must be a mapping, got {type(raw).__name__}")
    out = {m: dict.fromkeys(CLASSES, 0) for m in MODELS}
    for key, value in raw.items():
        if key in MODELS and isinstance(value, Mapping):
            for cls, n in value.items():
                if cls in out[key]:
                    out[key][cls] = int(n)
        elif isinstance(key, str) and "_" in key:
            cls, _, model = key.rpartition("_")
            if model in out and cls in out[model]:
                out[model][cls] = int(value)
    return out


def login_of(author: str) -> str | None:
    """The GitHub login in ``Name <id+login@users.noreply.github.com>`` (or the bare address), else None.

    A bare name is not taken for a login: ``alice`` in a commit may be anyone, and crediting the wrong
    account would ping a stranger.
    """
    text = author.strip()
    m = _NAME_EMAIL.match(text)
    email = m.group("email") if m else (text if "@" in text else None)
    return noreply_login(email) if email is not None else None


def is_login(text: str) -> bool:
    return bool(_LOGIN.match(text))


def _display_name(author: str) -> str | None:
    m = _NAME_EMAIL.match(author.strip())
    name = (m.group("name") if m else author).strip()
    return name if name and "@" not in name else None


def credit(
    pulls: Sequence[PullRef], commit_authors: Iterable[str], ignore: Iterable[str] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(GitHub logins, other names): PR authors first, then commit authors and co-authors.

    Bots (``*[bot]`` and the logins in ``ignore``) are not credited.
    """
    skip = {x.lower() for x in ignore}
    logins: dict[str, str] = {}  # lower -> as written
    names: dict[str, str] = {}

    def add_login(login: str) -> None:
        if login.lower().endswith("[bot]") or login.lower() in skip:
            return
        logins.setdefault(login.lower(), login)

    for pr in pulls:
        if pr.author:
            add_login(pr.author)
    for author in commit_authors:
        login = login_of(author)
        if login is not None:
            add_login(login)
            continue
        name = _display_name(author)
        if name and not name.lower().endswith("[bot]"):
            names.setdefault(name.casefold(), name)
    # A name that is also a credited login's spelling is the same person.
    other = tuple(n for k, n in names.items() if k not in logins)
    return tuple(logins.values()), other


def _light_curves(
    before: Sequence[int], changes: Sequence[FieldChange], rows_before: Mapping[int, int]
) -> tuple[int | None, int | None]:
    """Light curves in the catalog before and after, when every figure needed is known."""
    if not all(f in rows_before for f in before):
        return None, None
    lc_before = lc_after = sum(rows_before[f] for f in before)
    for c in changes:
        if c.kind != "added":
            lc_after -= rows_before.get(c.field, 0)
        if c.kind != "removed":
            if c.rows is None:
                return lc_before, None
            lc_after += c.rows
    return lc_before, lc_after


def assemble_changeset(
    kinds: Mapping[int, tuple[ChangeKind, str | None]],
    *,
    merge_commit: str,
    fields_before: Iterable[int],
    pulls: Sequence[PullRef] = (),
    commit_authors: Iterable[str] = (),
    stats: Mapping[int, StatsLike | None] | None = None,
    rows_before: Mapping[int, int] | None = None,
    previous_version: str | None = None,
    repo_url: str | None = None,
    ignore_logins: Iterable[str] = (),
) -> ChangeSet:
    """Put a change set together from already-known pieces (no I/O)."""
    stats = stats or {}
    rows_before = rows_before or {}
    before = tuple(sorted(set(fields_before)))
    changes: list[FieldChange] = []
    for f, (kind, path) in sorted(kinds.items()):
        st = stats.get(f) if kind != "removed" else None
        changes.append(
            FieldChange(
                field=f,
                kind=kind,
                rows=getattr(st, "rows", None),
                rows_before=rows_before.get(f),
                class_counts=normalise_class_counts(getattr(st, "class_counts", None)),
                md5=getattr(st, "md5", None),
                size=getattr(st, "size", None),
                path=path,
            )
        )
    after = set(before)
    for c in changes:
        (after.discard if c.kind == "removed" else after.add)(c.field)
    lc_before, lc_after = _light_curves(before, changes, rows_before)
    logins, other = credit(pulls, commit_authors, ignore_logins)
    url = f"{repo_url.rstrip('/')}/commit/{merge_commit}" if repo_url else None
    return ChangeSet(
        changes=tuple(changes),
        pulls=tuple(pulls),
        contributors=logins,
        merge_commit=merge_commit,
        merge_commit_url=url,
        fields_before=before,
        fields_after=tuple(sorted(after)),
        light_curves_before=lc_before,
        light_curves_after=lc_after,
        previous_version=previous_version,
        labels=tuple(sorted({label for pr in pulls for label in pr.labels})),
        other_authors=other,
    )


# --- reading git ------------------------------------------------------------------------------------


def build_changeset(
    repo_dir: str,
    base: str,
    head: str,
    fields_dir: str,
    *,
    pulls: Sequence[PullRef] = (),
    stats: Mapping[int, StatsLike | None] | StatsSource | None = None,
    fields_before: Iterable[int] | None = None,
    rows_before: Mapping[int, int] | None = None,
    previous_version: str | None = None,
    repo_url: str | None = None,
    ignore_logins: Iterable[str] = (),
) -> ChangeSet:
    """The change set of ``base..head``.

    ``fields_before`` (the last published catalog's fields.json) decides which fields were already in
    the catalog, so on the first bot-made release a field already on Zenodo counts as replaced; without
    it the field files in ``fields_dir`` at ``base`` decide. ``rows_before`` (field -> light curves, from
    the previous manifest) gives the before figures; ``previous_version`` names the last published version.
    ``stats`` maps field -> the validation pass's statistics of the new file, or is a function that
    computes them from {field: path} of the new files (so only changed files are read).
    """
    changed = gitrepo.changed_files(repo_dir, base, head, fields_dir)
    if fields_before is None:
        fields_before = fields_at(repo_dir, base, fields_dir)
    kinds = classify_paths(changed, fields_dir, fields_before)
    if callable(stats):
        stats = stats({f: path for f, (kind, path) in kinds.items() if kind != "removed" and path})
    return assemble_changeset(
        kinds,
        merge_commit=gitrepo.resolve(repo_dir, head),
        fields_before=fields_before,
        pulls=pulls,
        commit_authors=gitrepo.commit_authors(repo_dir, base, head, fields_dir),
        stats=stats,
        rows_before=rows_before,
        previous_version=previous_version,
        repo_url=repo_url,
        ignore_logins=ignore_logins,
    )


def fields_at(repo_dir: str, ref: str, fields_dir: str) -> list[int]:
    """The field numbers with a file in ``fields_dir`` at ``ref`` (``git ls-tree``)."""
    folder = fields_dir.strip("/")
    proc = subprocess.run(
        ["git", "-C", str(repo_dir), "ls-tree", "-z", "--name-only", f"{ref}:{folder}" if folder else ref],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return []  # no such folder at that commit: nothing was in the catalog from git's point of view
    names = [n.decode("utf-8", "replace") for n in proc.stdout.split(b"\0") if n]
    return sorted({f for n in names if (f := field_from_filename(n)) is not None})
