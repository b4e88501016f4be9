"""Catalog version numbers, ``vX.Y.Z``: reading, checking, printing and bumping.

A leaf module (it imports nothing of the bot but its errors), so git helpers, notes and stages can all
read versions without importing one another.
"""

from __future__ import annotations

import re

from bot.errors import UsageError

LEVELS = ("patch", "minor", "major")
FIRST_VERSION = "v1.0.0"
_VERSION = re.compile(r"^\s*[vV]?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?\s*$")

Version = tuple[int, int, int]


def read_version(text: str) -> Version | None:
    """``v1.2.0``, ``1.2.0`` or ``v1.2`` -> (1, 2, 0); None for anything else."""
    m = _VERSION.match(text) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def parse_version(text: str, where: str = "previous version") -> Version:
    """Like ``read_version``, but anything else is a UsageError saying what to fix."""
    parts = read_version(text)
    if parts is None:
        raise UsageError(
            f"{where}: {text!r} is not a version of the form vX.Y.Z",
            hint="set the Zenodo record's version to e.g. v1.2.0, or pass --previous-version vX.Y.Z",
        )
    return parts


def format_version(parts: Version) -> str:
    return "v{}.{}.{}".format(*parts)


def bump(parts: Version, level: str) -> Version:
    major, minor, patch = parts
    if level == "major":
        return major + 1, 0, 0
    if level == "minor":
        return major, minor + 1, 0
    if level == "patch":
        return major, minor, patch + 1
    raise UsageError(f"versioning: unknown bump level {level!r}", hint="use one of major, minor, patch")
