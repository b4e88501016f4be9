"""Validate field files: file-level rules, then the rows in large batches against the compiled row schema.

One pass over each file's bytes: ``FieldText`` hashes them and checks the CSV text; pyarrow parses them in
batches of every cell as a string; ``ColumnRule`` checks each column of a batch at once (columns that share
a rule, like the 88 scores, in one call). Only the first ``max_errors_per_file`` failing cells get a message;
the rest are counted. Warnings (the ``_id`` layout, see ``idlayout``) are listed and counted the same way but
never make a file invalid. Memory stays bounded by the batch size; the ``_id`` uniqueness check spills to disk
past ``ID_MEMORY_ROWS`` rows.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from bot.config import ValidationSettings
from bot.progress import transfer_progress
from bot.scope import (
    CLASS_COLUMNS,
    METADATA_COLUMNS,
    MODELS,
    POSITIVE_THRESHOLD,
    field_from_filename,
    is_valid_field_number,
)
from bot.skymap.density import SkyCounter
from bot.validate import idlayout
from bot.validate.ids import NO_ID, IdRegistry
from bot.validate.report import WARNING, FieldStats, FileReport, Problem, ValidationReport
from bot.validate.rules import ColumnRule, row_rules, show_value
from bot.validate.stream import FieldText, StreamFailure

BLOCK_SIZE = 4 << 20  # bytes of CSV per batch: big enough to amortise, small enough to bound memory
ID_MEMORY_ROWS = 8_000_000  # _id values kept in memory (8 bytes each) before the check spills to disk
PROGRESS_BYTES = 50 << 20  # show a progress bar for files this big even when stderr is not a terminal
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_LOOKS_LIKE_FIELD = re.compile(r"^field_.*\.csv(\.gz)?$")
_CLASS_OF = {c: (c.rsplit("_", 1)[0], c.rsplit("_", 1)[1]) for c in CLASS_COLUMNS}
_LAYOUT_COLUMNS = ("_id", "field", "ccd", "quad", "filter")  # what the _id layout warning reads


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
    check = _FileCheck(path, shown, field_number, settings, progress)
    report = check.run(careful=False)
    if check.needs_careful_pass:
        # pyarrow refused lines with the wrong cell count: read again, counting cells line by line, so
        # those lines and every row after them get their physical line numbers.
        report = _FileCheck(path, shown, field_number, settings, False).run(careful=True)
    if naming:
        report.errors = sorted(naming + report.errors, key=_line)[: settings.max_errors_per_file]
        report.error_count += len(naming)
        report.valid = False
    return report


def _line(p: Problem) -> int:
    return p.line or 0


@dataclass
class _Failure:
    row: int  # data row, 0-based, as pyarrow numbers them
    position: int  # column position in the header
    code: str | None  # None: ask the rule to diagnose the cell
    text: str
    col: int | None = None  # 1-based character position of the cell in its line


@dataclass
class _IdWarning:
    """An ``_id`` that does not follow the layout (a warning), with the cells its message needs."""

    row: int  # data row, 0-based, as pyarrow numbers them
    col: int  # 1-based character position of the _id cell in its line
    light_curve_id: int
    ccd: int
    quad: int
    filter: int


@dataclass
class _Column:
    """A primary column's share of a batch, kept for checks that read several columns of a row."""

    position: int
    ok: pa.BooleanArray
    values: pa.Array


@dataclass
class _Stats:
    positives: dict[str, dict[str, int]] = field(
        default_factory=lambda: {m: {c.rsplit("_", 1)[0]: 0 for c in CLASS_COLUMNS if c.endswith(m)} for m in MODELS}
    )
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # "ra"/"dec" -> (min, max)
    sky: SkyCounter = field(default_factory=SkyCounter)  # the field's footprint, for the sky map

    def widen(self, name: str, values: pa.Array) -> None:
        self.sky.add_column(name, values.to_numpy(zero_copy_only=False))
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            old = self.bounds.get(name, (lo, hi))
            self.bounds[name] = (min(old[0], lo), max(old[1], hi))

    def bound(self, name: str, i: int) -> float | None:
        return self.bounds[name][i] if name in self.bounds else None


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
        self.failures: list[_Failure] = []  # the first `limit` cell problems
        self.failure_count = 0
        self.skipped = 0  # rows pyarrow refused (wrong cell count)
        self.rows_read = 0
        self.needs_careful_pass = False
        self.stats = _Stats()
        self.ids = IdRegistry(memory_rows=ID_MEMORY_ROWS)
        self.rule_at: dict[int, ColumnRule] = {}
        self.primary: set[int] = set()
        self.blank_rows: list[int] = []
        self.layout: dict[str, _Column] = {}  # this batch's _LAYOUT_COLUMNS
        self.id_warnings: list[_IdWarning] = []  # the first `limit` id-layout warnings
        self.warning_count = 0

    # -- the whole file -------------------------------------------------------------------------------
    def run(self, *, careful: bool) -> FileReport:
        with self.path.open("rb") as raw:
            head = raw.read(len(_LFS_POINTER))
            raw.seek(0)
            gzipped = self.path.name.endswith(".gz")
            early = self._sniff(head, gzipped)
            if early is not None:
                return self._finish(None, [early])
            with _progress_bar(self.progress, self.path) as on_progress:
                text = FieldText(raw, gzipped=gzipped, settings=self.settings, on_progress=on_progress,
                                 careful=careful)
                try:
                    self._read(text)
                except StreamFailure as exc:
                    self.problems.append(Problem(self.shown, exc.line, None, exc.code, exc.message))
                except (pa.ArrowException, OSError, ValueError) as exc:
                    failure = text.failure
                    if failure is not None:
                        self.problems.append(Problem(self.shown, failure.line, None, failure.code, failure.message))
                    else:
                        self.problems.append(Problem(
                            self.shown, None, None, "unreadable",
                            f"the CSV reader stopped: {exc}; check the file is a plain comma-separated CSV",
                        ))
                else:
                    if not careful and self.skipped != len(text.short_lines):
                        self.needs_careful_pass = True
                    return self._finish(text, [])
        return self._finish(None, [])

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
        text.expect_cells(len(names))
        if text.at_end():
            return
        self._rows(text, names)

    def _header(self, raw: bytes) -> list[str] | None:
        if raw.startswith(_BOM):
            self.problems.append(Problem(self.shown, 1, None, "bom",
                                         "the file starts with a UTF-8 byte order mark; save it as UTF-8 without BOM"))
            raw = raw[len(_BOM):]
        try:
            names = raw.decode("utf-8").split(",")
        except UnicodeDecodeError as exc:
            self._problem(1, None, "not-utf8", f"byte 0x{raw[exc.start]:02x} in the header is not UTF-8 text; "
                          "save the file as UTF-8")
            names = raw.decode("utf-8", "replace").split(",")
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
        col = 1
        for n in names:
            if n in seen:
                self._problem(1, n, "duplicate-column", f"column {n!r} appears more than once; keep one", col)
            elif n not in rules:
                self._problem(1, n, "unknown-column",
                              f"{show_value(n)} is not a catalog column; remove or rename it", col)
            seen.add(n)
            col += len(n) + 1
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

    # -- the rows -------------------------------------------------------------------------------------
    def _rows(self, text: FieldText, names: list[str]) -> None:
        rules = row_rules()
        keys = [f"c{i}" for i in range(len(names))]
        checked = [(i, rules[n]) for i, n in enumerate(names) if n in rules]
        self.rule_at = dict(checked)
        self.primary = {names.index(n) for n in set(names)}  # a duplicated column counts in the stats once
        # Columns that share a rule (the 88 scores) are checked together: one call per batch, not 88.
        shared: dict[tuple[object, ...], list[int]] = {}
        for i, r in checked:
            shared.setdefault(r.check_key, []).append(i)
        groups = [(self.rule_at[ps[0]], ps) for ps in shared.values()]

        def skip(_row: object) -> str:
            self.skipped += 1
            return "skip"

        reader = pcsv.open_csv(
            pa.PythonFile(text, mode="r"),
            read_options=pcsv.ReadOptions(column_names=keys, block_size=BLOCK_SIZE),
            parse_options=pcsv.ParseOptions(quote_char=False, ignore_empty_lines=False, invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(keys, pa.string()), check_utf8=False, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in _read_ahead(reader):
            if not batch.num_rows:
                continue
            offset = self.rows_read
            self.rows_read += batch.num_rows
            blank = _blank_rows(batch)
            if blank is not None:
                self.blank_rows += (np.flatnonzero(blank) + offset).tolist()
            need = max(0, self.limit - len(self.failures))
            found: list[_Failure] = []
            self.layout = {}
            for rule, positions in groups:
                found += self._columns(batch, rule, positions, offset, blank, need)
            found.sort(key=lambda f: (f.row, f.position))
            kept = found[:need]
            for f in kept:
                f.col = _col(batch, f.row - offset, f.position)
            self.failures += kept
            self._id_layout(batch, offset)

    def _columns(
        self, batch: pa.RecordBatch, rule: ColumnRule, positions: list[int], offset: int,
        blank: np.ndarray | None, need: int,
    ) -> list[_Failure]:
        """Check the batch's columns that share ``rule``; gather the statistics of the primary ones."""
        arrays = [batch.column(p) for p in positions]
        both = rule.evaluate(arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays))
        out: list[_Failure] = []
        n = batch.num_rows
        for i, (position, cells) in enumerate(zip(positions, arrays, strict=True)):
            ok, values, codes = (_part(x, i * n, n) for x in (both.ok, both.values, both.codes))
            assert ok is not None  # the rule answers for every row
            every = ok.true_count == n
            flags = _Flags(cells, blank, offset, position, need)
            if not every:
                out += flags.take(~ok.to_numpy(zero_copy_only=False), None, self)
            if position not in self.primary:
                continue
            name = self.rule_at[position].column
            if name in _LAYOUT_COLUMNS and values is not None:
                self.layout[name] = _Column(position, ok, values)
            if name in _CLASS_OF:
                klass, model = _CLASS_OF[name]
                self.stats.positives[model][klass] += self._positives(rule, cells, ok, codes)
            elif values is None:
                continue
            elif name == "field" and self.field is not None:
                wrong = pc.fill_null(pc.and_(ok, pc.not_equal(values, self.field)), False)
                out += flags.take(wrong.to_numpy(zero_copy_only=False), "field-mismatch", self)
            elif name in ("ra", "dec"):
                self.stats.widen(name, values if every else pc.if_else(ok, values, None))
            elif name == "_id":
                ids = values if every else pc.if_else(ok, values, None)
                self.ids.add(pc.fill_null(ids, NO_ID).to_numpy())
        return out

    def _id_layout(self, batch: pa.RecordBatch, offset: int) -> None:
        """Warn where a valid ``_id`` does not encode the file's field and the row's ccd, quad and filter.

        Only rows whose five cells are valid (and whose field is the file's) are judged: an invalid cell is
        already an error. Integer arithmetic over the batch (see ``idlayout``).
        """
        parts = self.layout
        if self.field is None or not is_valid_field_number(self.field) or len(parts) < len(_LAYOUT_COLUMNS):
            return
        values = {n: (c.values if c.values.null_count == 0 else pc.fill_null(c.values, 0)).to_numpy()
                  for n, c in parts.items()}
        judged = values["field"] == self.field
        for c in parts.values():
            if c.ok.false_count:
                judged &= c.ok.to_numpy(zero_copy_only=False)
        off = judged & ~idlayout.layout_ok(values["_id"], self.field, values["ccd"], values["quad"], values["filter"])
        rows = np.flatnonzero(off)
        if not len(rows):
            return
        self.warning_count += len(rows)
        position = parts["_id"].position
        for r in rows[: max(0, self.limit - len(self.id_warnings))].tolist():
            self.id_warnings.append(_IdWarning(
                offset + r, _col(batch, r, position), int(values["_id"][r]),
                int(values["ccd"][r]), int(values["quad"][r]), int(values["filter"][r]),
            ))

    def _positives(self, rule: ColumnRule, cells: pa.Array, ok: pa.Array, codes: pa.Array | None) -> int:
        """Valid scores at or above SCoPe's threshold."""
        if codes is not None and rule.vocabulary is not None:
            weights = _positive_words(rule.vocabulary)
            counts = np.bincount(pc.fill_null(codes, len(weights)).to_numpy(), minlength=len(weights) + 1)
            return int(counts[: len(weights)] @ weights)
        scores = pc.cast(pc.if_else(ok, cells, "0"), pa.float64())
        return int(pc.sum(pc.and_(ok, pc.greater_equal(scores, POSITIVE_THRESHOLD))).as_py() or 0)

    # -- the verdict ----------------------------------------------------------------------------------
    def _finish(self, text: FieldText | None, extra: list[Problem]) -> FileReport:
        if text is None:
            self.ids.close()
        problems = self.problems + extra
        count = len(problems)
        stats = None
        warnings: list[Problem] = []  # never change the verdict (count == 0)
        warning_count = 0
        rows = self.rows_read + self.skipped
        if text is not None:
            lines = _LineMap(text)
            rows -= len(self.blank_rows)
            for note in text.notes.values():
                more = f" ({note.count} times)" if note.count > 1 else ""
                problems.append(Problem(self.shown, note.line, None, note.code, note.message + more))
            count += len(text.notes)
            for line, cells in text.short_lines[: self.limit]:
                problems.append(Problem(
                    self.shown, line, None, "wrong-cell-count",
                    f"this line has {cells} cells but the header has {text.cells}; "
                    "each row needs one value per column (a stray or missing comma?)",
                ))
            count += len(text.short_lines)
            for row in self.blank_rows[: self.limit]:
                problems.append(Problem(self.shown, lines.line_of_row(row), None, "blank-line",
                                        "a blank line (or a row of empty cells); remove it"))
            count += len(self.blank_rows)
            for f in self.failures:
                problems.append(self._describe(f, lines))
            count += self.failure_count
            dup_problems, dup_count = self._duplicates(lines)
            problems += dup_problems
            count += dup_count
            warnings = [self._warn(w, lines) for w in self.id_warnings]  # already in line order
            warning_count = self.warning_count
            if rows == 0 and text.cells is not None:
                problems.append(Problem(self.shown, 1, None, "no-rows", "the file has a header but no rows; "
                                        "a field file needs at least one row"))
                count += 1
            if text.failure is None and text.cells is not None:
                stats = FieldStats(
                    rows=rows, class_counts=self.stats.positives,
                    ra_min=self.stats.bound("ra", 0), ra_max=self.stats.bound("ra", 1),
                    dec_min=self.stats.bound("dec", 0), dec_max=self.stats.bound("dec", 1),
                    md5=text.md5, size=text.size, sky=self.stats.sky.encode(),
                )
        problems.sort(key=_line)
        return FileReport(self.shown, self.field, rows, count == 0, problems[: self.limit], count, stats,
                          warnings=warnings, warning_count=warning_count)

    def _warn(self, w: _IdWarning, lines: _LineMap) -> Problem:
        assert self.field is not None
        message = idlayout.explain(w.light_curve_id, self.field, w.ccd, w.quad, w.filter)
        return Problem(self.shown, lines.line_of_row(w.row), "_id", idlayout.CODE, message, w.col, severity=WARNING)

    def _describe(self, f: _Failure, lines: _LineMap) -> Problem:
        line = lines.line_of_row(f.row)
        rule = self.rule_at[f.position]
        if f.code is None:
            code, message = rule.diagnose(f.text)
        else:
            code = f.code
            message = (f"field is {show_value(f.text)} but the file is field_{self.field}; every row's field must be "
                       f"{self.field} (or the file is misnamed)")
        return Problem(self.shown, line, rule.column, code, message, f.col)

    def _duplicates(self, lines: _LineMap) -> tuple[list[Problem], int]:
        repeats, count = self.ids.duplicates(self.limit)
        return [
            Problem(self.shown, lines.line_of_row(row), "_id", "duplicate-id",
                    f"_id {value} already appears on line {lines.line_of_row(first)}; "
                    "each light curve appears once per file")
            for row, value, first in repeats
        ], count


def _col(batch: pa.RecordBatch, row: int, position: int) -> int:
    """1-based character position of a cell in its line (the cells before it, each with its comma)."""
    return 1 + sum(len(batch.column(j)[row].as_py()) + 1 for j in range(position))


def _read_ahead(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Parse the next batches in a thread while this one is checked.

    The CSV parser and the compute kernels both release the GIL, so reading ahead uses the second core;
    ``depth`` bounds the batches held in memory.
    """
    done = object()
    ahead: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Queue ``item`` unless the consumer has gone; False when it has."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(done)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    thread = threading.Thread(target=pump, name="csv-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _part(x: pa.Array | pa.ChunkedArray | None, start: int, length: int) -> pa.Array | None:
    """One column's share of a result computed over several columns at once."""
    if x is None or isinstance(x, pa.Array):
        return x
    piece = x.slice(start, length)
    return piece.chunk(0) if piece.num_chunks == 1 else pa.concat_arrays(piece.chunks)


@cache
def _positive_words(vocabulary: tuple[str, ...]) -> np.ndarray:
    """1 for each vocabulary word that reads as a score >= the threshold, else 0."""

    def positive(word: str) -> bool:
        try:
            return float(word) >= POSITIVE_THRESHOLD
        except ValueError:
            return False

    return np.array([positive(w) for w in vocabulary], dtype=np.int64)


class _Flags:
    """Turns a per-row mask of failing cells into a count and the first few ``_Failure`` records."""

    def __init__(self, cells: pa.Array, blank: np.ndarray | None, offset: int, position: int, need: int) -> None:
        self.cells = cells
        self.blank = blank
        self.offset = offset
        self.position = position
        self.need = need

    def take(self, mask: np.ndarray, code: str | None, check: _FileCheck) -> list[_Failure]:
        if self.blank is not None:
            mask = mask & ~self.blank  # a blank line is one problem, not one per cell
        rows = np.flatnonzero(mask)
        check.failure_count += len(rows)
        return [
            _Failure(self.offset + int(r), self.position, code, self.cells[int(r)].as_py())
            for r in rows[: self.need]
        ]


class _LineMap:
    """Data row (0-based, as pyarrow numbers them) -> physical line, stepping over lines pyarrow refused."""

    def __init__(self, text: FieldText) -> None:
        self.skipped = [line for line, _ in text.short_lines]

    def line_of_row(self, row: int) -> int:
        line = row + 2
        while True:
            moved = row + 2 + bisect_right(self.skipped, line)
            if moved == line:
                return line
            line = moved


def _blank_rows(batch: pa.RecordBatch) -> np.ndarray | None:
    """Rows whose every cell is empty (blank lines), as a mask; None when there are none."""
    first = pc.binary_length(batch.column(0))
    if pc.min(first).as_py() > 0:
        return None
    rows = np.flatnonzero(pc.equal(first, 0).to_numpy(zero_copy_only=False))
    for column in batch.columns[1:]:
        rows = rows[pc.equal(column.take(pa.array(rows)), "").to_numpy(zero_copy_only=False)]
        if not len(rows):
            return None
    mask = np.zeros(batch.num_rows, dtype=bool)
    mask[rows] = True
    return mask


@contextmanager
def _progress_bar(wanted: bool, path: Path) -> Iterator[Callable[[int], None] | None]:
    size = path.stat().st_size
    shown = wanted and (sys.stderr.isatty() or size > PROGRESS_BYTES)
    with transfer_progress(shown, transient=True) as bars:
        yield bars.task(path.name, size, absolute=True)
