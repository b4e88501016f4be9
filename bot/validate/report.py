"""What validation found, as plain data: problems with a location, per-file statistics, the whole report."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (physical line, header = 1; column name), a stable code, what to do.

    ``col`` is the 1-based character position of the cell in its line, when known (for GitHub annotations).
    ``severity`` is "error" (the file is invalid) or "warning" (worth a look; never makes a file invalid).
    """

    path: str
    line: int | None
    column: str | None
    code: str
    message: str
    col: int | None = None
    severity: str = ERROR

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FieldStats:
    """Figures the release notes and the manifest need, gathered in the validation pass."""

    rows: int
    class_counts: dict[str, dict[str, int]]  # model -> class -> rows with score >= 0.7
    ra_min: float | None
    ra_max: float | None
    dec_min: float | None
    dec_max: float | None
    md5: str  # of the (decompressed) CSV text
    size: int  # bytes of the (decompressed) CSV text
    sky: str | None = None  # rows per 1° sky cell (bot.skymap.density's text form): the field's footprint

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileReport:
    """One file's verdict. ``valid`` depends on errors only: warnings never make a file invalid."""

    path: str
    field: int | None
    rows: int
    valid: bool
    errors: list[Problem] = dataclasses.field(default_factory=list)  # the first max_errors_per_file, by line
    error_count: int = 0  # every error, listed or not
    stats: FieldStats | None = None
    warnings: list[Problem] = dataclasses.field(default_factory=list)  # the first max_errors_per_file warnings, by line
    warning_count: int = 0  # every warning, listed or not

    @classmethod
    def refused(cls, path: str, code: str, message: str) -> FileReport:
        """A file rejected as a whole: one file-level error, no rows read."""
        return cls(path, None, 0, False, [Problem(path, None, None, code, message)], 1, None)

    @property
    def truncated(self) -> bool:
        return self.error_count > len(self.errors)

    @property
    def warnings_truncated(self) -> bool:
        return self.warning_count > len(self.warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "field": self.field,
            "rows": self.rows,
            "valid": self.valid,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "stats": self.stats.to_json() if self.stats else None,
        }


@dataclass
class ValidationReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    @property
    def error_count(self) -> int:
        return sum(f.error_count for f in self.files)

    @property
    def warning_count(self) -> int:
        return sum(f.warning_count for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "files": [f.to_json() for f in self.files],
            "errors": [p.to_json() for f in self.files for p in f.errors],
            "error_count": self.error_count,
            "warnings": [p.to_json() for f in self.files for p in f.warnings],
            "warning_count": self.warning_count,
        }
