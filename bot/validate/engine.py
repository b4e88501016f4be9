"""Validate field files: file-level rules, then the rows, chunk by chunk, against the compiled row schema.

One pass over each file's bytes: ``FieldText`` hashes them, checks the CSV text and cuts it into chunks of
whole records; a thread parses the next chunks (every cell as a string, RFC 4180 quoting) while ``RowChecks``
checks this one, each column at once. Only the first ``max_errors_per_file`` failing cells get a message and
a place; the rest are counted. Warnings (the ``_id`` layout, see ``idlayout``) are listed and counted the
same way but never make a file invalid. Memory stays bounded by the chunk size; the ``_id`` uniqueness check
spills to disk past ``ID_MEMORY_ROWS`` rows.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from bot.config import ValidationSettings
from bot.progress import transfer_progress
from bot.scope import METADATA_COLUMNS, field_from_filename, is_valid_field_number
from bot.validate import idlayout
from bot.validate import layout as csvlayout
from bot.validate.parse import parsed_chunks
from bot.validate.report import WARNING, FieldStats, FileReport, Problem, ValidationReport
from bot.validate.rows import Failure, IdWarning, RowChecks
from bot.validate.rules import row_rules, show_value
from bot.validate.stream import FieldText, StreamFailure

ID_MEMORY_ROWS = 8_000_000  # _id values kept in memory (8 bytes each) before the check spills to disk
PROGRESS_BYTES = 50 << 20  # show a progress bar for files this big even when stderr is not a terminal
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_LOOKS_LIKE_FIELD = re.compile(r"^field_.*\.csv(\.gz)?$")


def validate_paths(
    paths: Sequence[Path],
    *,
    settings: ValidationSettings = ValidationSettings(),  # noqa: B008 - frozen dataclass, safe to share
    progress: bool = False,
    display_root: Path | None = None,
) -> ValidationReport:
    """Validate files and folders (every file directly inside a folder); never stops at the first bad file."""
    report = ValidationReport()
    for path in paths:
        path = Path(path)
        if path.is_dir() and not path.is_symlink():
            for entry in sorted(path.iterdir()):
                report.files.append(_validate_entry(entry, settings, progress, display_root))
        else:
            report.files.append(_validate_entry(path, settings, progress, display_root))
    return report


def _validate_entry(path: Path, settings: ValidationSettings, progress: bool, root: Path | None) -> FileReport:
    shown = _display(path, root)
    if path.is_dir() and not path.is_symlink():
        return FileReport.refused(shown, "not-a-field-file",
                        "a folder inside the fields folder is not searched; put field files at its top level")
    return validate_file(path, display_path=shown, settings=settings, progress=progress)


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.absolute().relative_to(root.absolute()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def validate_file(
    path: Path,
    *,
    display_path: str | None = None,
    settings: ValidationSettings = ValidationSettings(),  # noqa: B008 - frozen dataclass, safe to share
    progress: bool = False,
) -> FileReport:
    """Check one field file against the row schema and the file-level rules; never raises on bad data."""
    path = Path(path)
    shown = display_path or path.as_posix()
    if path.is_symlink():
        return FileReport.refused(shown, "symlink", "symbolic links are not followed; commit the file itself")
    if not path.exists():
        return FileReport.refused(shown, "not-found", "the file does not exist; check the path")
    if not path.is_file():
        return FileReport.refused(shown, "not-a-field-file", "not a regular file")
    name = path.name
    field_number = field_from_filename(name)
    naming: list[Problem] = []
    if field_number is None:
        if not name.endswith((".csv", ".csv.gz")):
            return FileReport.refused(shown, "not-a-field-file",
                            "not a field file: the fields folder holds only field_<N>.csv or field_<N>.csv.gz")
        code = "bad-file-name" if _LOOKS_LIKE_FIELD.match(name) else "not-a-field-file"
        naming.append(Problem(shown, None, None, code, f"{name!r} is not named field_<N>.csv or field_<N>.csv.gz "
                              "with N the ZTF field number without zero padding (e.g. field_296.csv)"))
    elif not is_valid_field_number(field_number):
        naming.append(Problem(shown, None, None, "bad-field-number",
                              f"{field_number} is not a ZTF field number (1-881 or 1001-1897); check the file name"))
    report = _FileCheck(path, shown, field_number, settings, progress).run()
    if naming:
        report.errors = sorted(naming + report.errors, key=_line)[: settings.max_errors_per_file]
        report.error_count += len(naming)
        report.valid = False
    return report


def _line(p: Problem) -> int:
    return p.line or 0


class _FileCheck:
    def __init__(
        self, path: Path, shown: str, field_number: int | None, settings: ValidationSettings, progress: bool
    ) -> None:
        self.path = path
        self.shown = shown
        self.field = field_number
        self.settings = settings
        self.limit = settings.max_errors_per_file
        self.progress = progress
        self.problems: list[Problem] = []  # file-level, header and text problems
        self.rows: RowChecks | None = None

    # -- the whole file -------------------------------------------------------------------------------
    def run(self) -> FileReport:
        with self.path.open("rb") as raw:
            head = raw.read(len(_LFS_POINTER))
            raw.seek(0)
            gzipped = self.path.name.endswith(".gz")
            early = self._sniff(head, gzipped)
            if early is not None:
                self.problems.append(early)
                return self._finish(None)
            with _progress_bar(self.progress, self.path) as on_progress:
                text = FieldText(raw, gzipped=gzipped, settings=self.settings, on_progress=on_progress)
                try:
                    self._read(text)
                except StreamFailure as exc:
                    text.failure = exc  # the file was not read to its end: no statistics
                    self.problems.append(Problem(self.shown, exc.line, None, exc.code, exc.message, exc.col))
                except (pa.ArrowException, OSError, ValueError) as exc:
                    failure = text.failure
                    if failure is not None:
                        self.problems.append(Problem(self.shown, failure.line, None, failure.code, failure.message,
                                                     failure.col))
                    else:
                        self.problems.append(Problem(
                            self.shown, None, None, "unreadable",
                            f"the CSV reader stopped: {exc}; check the file is a plain comma-separated CSV",
                        ))
                finally:
                    text.close()
                return self._finish(text)

    def _sniff(self, head: bytes, gzipped: bool) -> Problem | None:
        if head.startswith(_LFS_POINTER):
            return Problem(self.shown, 1, None, "lfs-pointer",
                           "the file was not fetched from LFS (this is a Git LFS pointer, not the CSV); run "
                           f"`git lfs pull --include={self.shown}` and check it again")
        if gzipped and not head.startswith(_GZIP_MAGIC):
            return Problem(self.shown, None, None, "gzip-corrupt",
                           "the file is named .csv.gz but is not gzip data; gzip it or drop the .gz suffix")
        if not gzipped and head.startswith(_GZIP_MAGIC):
            return Problem(self.shown, None, None, "gzipped-csv",
                           "the file is gzip-compressed but named .csv; rename it to .csv.gz")
        return None

    def _read(self, text: FieldText) -> None:
        header = text.read_header()
        if header is None:
            self.problems.append(Problem(self.shown, None, None, "empty-file",
                                         "the file is empty; it needs the header line and at least one row"))
            return
        names = self._header(header)
        if names is None:
            return
        self.rows = RowChecks(names, row_rules(), self.field, self.limit, ID_MEMORY_ROWS)
        for parsed in parsed_chunks(text.chunks(), len(names)):
            try:
                self.rows.check(parsed)
            finally:
                parsed.chunk.release()

    def _header(self, raw: bytes) -> list[str] | None:
        if raw.startswith(_BOM):
            self.problems.append(Problem(self.shown, 1, None, "bom",
                                         "the file starts with a UTF-8 byte order mark; save it as UTF-8 without BOM"))
            raw = raw[len(_BOM):]
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._problem(1, None, "not-utf8", f"byte 0x{raw[exc.start]:02x} in the header is not UTF-8 text; "
                          "save the file as UTF-8")
        cells = csvlayout.split_record(raw)
        names = [name for name, _ in cells]
        rules = row_rules()
        known = [n for n in names if n in rules]
        if not known:
            self.problems.append(Problem(
                self.shown, 1, None, "bad-header",
                f"the first line is not the header (it starts {show_value(names[0])}); the first line must name "
                f"the {len(rules)} columns, starting {','.join(METADATA_COLUMNS[:3])},...",
            ))
            return None
        seen: set[str] = set()
        for n, col in cells:
            if n in seen:
                self._problem(1, n, "duplicate-column", f"column {n!r} appears more than once; keep one", col)
            elif n not in rules:
                self._problem(1, n, "unknown-column",
                              f"{show_value(n)} is not a catalog column; remove or rename it", col)
            seen.add(n)
        for n in rules:
            if n not in seen:
                self._problem(1, n, "missing-column", f"column {n!r} is missing from the header; add it")
        lead = names[: len(METADATA_COLUMNS)]
        if lead != list(METADATA_COLUMNS) and all(n in seen for n in METADATA_COLUMNS):
            self._problem(1, None, "column-order",
                          "the header must start with the metadata columns in this order: "
                          f"{','.join(METADATA_COLUMNS)} (class columns may follow in any order)")
        return names

    def _problem(
        self, line: int | None, column: str | None, code: str, message: str, col: int | None = None
    ) -> None:
        self.problems.append(Problem(self.shown, line, column, code, message, col))

    # -- the verdict ----------------------------------------------------------------------------------
    def _finish(self, text: FieldText | None) -> FileReport:
        problems = list(self.problems)
        count = len(problems)
        stats = None
        warnings: list[Problem] = []  # never change the verdict (count == 0)
        warning_count = 0
        checks = self.rows
        rows = 0
        if text is not None:
            for note in text.notes.values():
                more = f" ({note.count} times)" if note.count > 1 else ""
                problems.append(Problem(self.shown, note.line, None, note.code, note.message + more))
            count += len(text.notes)
        if checks is not None:
            problems_of_rows, rows_count = self._row_problems(checks)
            problems += problems_of_rows
            count += rows_count
            rows = checks.rows_read + checks.refused_count - checks.blank_count
            warnings = [self._warn(w) for w in checks.id_warnings]  # already in line order
            warning_count = checks.warning_count
            if rows == 0 and not count:
                problems.append(Problem(self.shown, 1, None, "no-rows", "the file has a header but no rows; "
                                        "a field file needs at least one row"))
                count += 1
            if text is not None and text.failure is None:
                stats = FieldStats(
                    rows=rows, class_counts=checks.stats.positives,
                    ra_min=checks.stats.bound("ra", 0), ra_max=checks.stats.bound("ra", 1),
                    dec_min=checks.stats.bound("dec", 0), dec_max=checks.stats.bound("dec", 1),
                    md5=text.md5, size=text.size, sky=checks.stats.sky.encode(),
                )
            checks.ids.close()
        problems.sort(key=_line)
        return FileReport(self.shown, self.field, rows, count == 0, problems[: self.limit], count, stats,
                          warnings=warnings, warning_count=warning_count)

    def _row_problems(self, checks: RowChecks) -> tuple[list[Problem], int]:
        problems: list[Problem] = []
        for line, cells in checks.refused:
            problems.append(Problem(
                self.shown, line, None, "wrong-cell-count",
                f"this row has {cells} cells but the header has {len(checks.names)}; "
                "each row needs one value per column (a stray or missing comma?)",
            ))
        for line in checks.blank_lines:
            problems.append(Problem(self.shown, line, None, "blank-line",
                                    "a blank line (or a row of empty cells); remove it"))
        problems += [self._describe(checks, f) for f in checks.failures]
        repeats, repeat_count = checks.ids.duplicates(self.limit)
        problems += [
            Problem(self.shown, checks.lines.line_of_row(row), "_id", "duplicate-id",
                    f"_id {value} already appears on line {checks.lines.line_of_row(first)}; "
                    "each light curve appears once per file")
            for row, value, first in repeats
        ]
        count = checks.refused_count + checks.blank_count + checks.failure_count + repeat_count
        return problems, count

    def _warn(self, w: IdWarning) -> Problem:
        assert self.field is not None
        message = idlayout.explain(w.light_curve_id, self.field, w.ccd, w.quad, w.filter)
        return Problem(self.shown, w.line, "_id", idlayout.CODE, message, w.col, severity=WARNING)

    def _describe(self, checks: RowChecks, f: Failure) -> Problem:
        rule = checks.rule_at[f.position]
        if f.code is None:
            code, message = rule.diagnose(f.text)
        else:
            code = f.code
            message = (f"field is {show_value(f.text)} but the file is field_{self.field}; every row's field must be "
                       f"{self.field} (or the file is misnamed)")
        return Problem(self.shown, f.line, rule.column, code, message, f.col)


@contextmanager
def _progress_bar(wanted: bool, path: Path) -> Iterator[Callable[[int], None] | None]:
    size = path.stat().st_size
    shown = wanted and (sys.stderr.isatty() or size > PROGRESS_BYTES)
    with transfer_progress(shown, transient=True) as bars:
        yield bars.task(path.name, size, absolute=True)
