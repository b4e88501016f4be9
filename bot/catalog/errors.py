"""The catalog build's errors: each names where (source, member or file) and says how to fix it."""

from __future__ import annotations

from bot.errors import Finding, UsageError


class CatalogError(Finding):
    """The build was refused: bad input files, over Zenodo's limits, a conflicting request."""

    def __init__(self, message: str, hint: str | None = None, *, location: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message, hint)


class CorruptZipError(CatalogError):
    """The previous catalog zip cannot be trusted: its records or a member's data are damaged."""

    DEFAULT_HINT = (
        "the previous release's zip is damaged or truncated: download it again, or rebuild the catalog "
        "from all field files (a build without --previous)"
    )

    def __init__(
        self, source: str, message: str, *, member: str | None = None, hint: str | None = None
    ) -> None:
        self.source = source
        self.member = member
        where = f"{source}: member {member}" if member else source
        super().__init__(message, hint or self.DEFAULT_HINT, location=where)


class SourceError(CatalogError):
    """The previous zip could not be read (network, HTTP status, missing file); ``status``: the HTTP one."""

    def __init__(
        self, message: str, hint: str | None = None, *, location: str | None = None, status: int | None = None
    ) -> None:
        self.status = status
        super().__init__(message, hint, location=location)


class CatalogUsageError(UsageError):
    """A contradictory request (remove and add the same field, a missing path)."""
