"""The next catalog version, ``vX.Y.Z``, from the last *published* version and what changed.

Rules (levels configurable in ``versioning:``): a ``release:major`` label -> major; otherwise the
highest level among the kinds of change present (added -> minor, replaced -> patch, removed -> per config).
Two merges before one approval give one bump because the caller passes the published version, not a draft's.
"""

from __future__ import annotations

from bot.config import VersioningSettings
from bot.errors import Finding
from bot.notes.changeset import ChangeSet
from bot.versions import FIRST_VERSION, LEVELS, bump, format_version, parse_version


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
