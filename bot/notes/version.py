"""The next catalog version, ``vX.Y.Z``, from the last *published* version and what changed.

Rules (levels configurable in ``versioning:``): a ``release:major`` label -> major; otherwise the
highest level among the kinds of change present (added -> minor, replaced -> patch, removed -> per config).
Two merges before one approval give one bump because the caller passes the published version, not a draft's.
"""

from __future__ import annotations

import re

from bot.config import VersioningSettings
from bot.errors import Finding, UsageError
from bot.notes.changeset import ChangeSet

LEVELS = ("patch", "minor", "major")
FIRST_VERSION = "v1.0.0"
_VERSION = re.compile(r"^\s*[vV]?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?\s*$")


def read_version(text: str) -> tuple[int, int, int] | None:
    """``v1.2.0``, ``1.2.0`` or ``v1.2`` -> (1, 2, 0); None for anything else."""
    m = _VERSION.match(text) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def parse_version(text: str, where: str = "previous version") -> tuple[int, int, int]:
    """Like ``read_version``, but anything else is a UsageError saying what to fix."""
    parts = read_version(text)
    if parts is None:
        raise UsageError(
            f"{where}: {text!r} is not a version of the form vX.Y.Z",
            hint="set the Zenodo record's version to e.g. v1.2.0, or pass --previous-version vX.Y.Z",
        )
    return parts


def format_version(parts: tuple[int, int, int]) -> str:
    return "v{}.{}.{}".format(*parts)


def bump(parts: tuple[int, int, int], level: str) -> tuple[int, int, int]:
    major, minor, patch = parts
    if level == "major":
        return major + 1, 0, 0
    if level == "minor":
        return major, minor + 1, 0
    if level == "patch":
        return major, minor, patch + 1
    raise UsageError(f"versioning: unknown bump level {level!r}", hint="use one of major, minor, patch")


def bump_level(changes: ChangeSet, settings: VersioningSettings) -> str | None:
    """The level this change set asks for, or None when it changes no field and carries no major label."""
    if settings.major_label in changes.labels:
        return "major"
    wanted = {getattr(settings, c.kind) for c in changes.changes}
    return max(wanted, key=LEVELS.index) if wanted else None


def next_version(previous: str | None, changes: ChangeSet, settings: VersioningSettings) -> str:
    """The version to give the release of ``changes``; the first release is v1.0.0."""
    if previous is None or not str(previous).strip():
        return FIRST_VERSION
    parts = parse_version(previous)
    level = bump_level(changes, settings)
    if level is None:
        raise Finding(
            "nothing to release: the range changes no field file",
            hint="check --base/--head, or the catalog.fields_dir setting",
        )
    return format_version(bump(parts, level))
