"""Validate field files: file-level rules, then the rows in large batches against the compiled row schema.

One pass over each file's bytes: ``FieldText`` hashes them and checks the CSV text; pyarrow parses them in
batches (every cell as a string, low-cardinality columns dictionary-encoded); ``ColumnRule`` checks each
column of a batch at once. Only the first ``max_errors_per_file`` failing cells get a message; the rest are
counted. Memory stays bounded by the batch size (plus 8 bytes a row for the ``_id`` uniqueness check).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from bot.config import ValidationSettings
from bot.scope import (
    CLASS_COLUMNS,
    METADATA_COLUMNS,
    MODELS,
    POSITIVE_THRESHOLD,
    field_from_filename,
    is_valid_field_number,
)
from bot.validate.report import FieldStats, FileReport, Problem, ValidationReport
from bot.validate.rules import ColumnRule, row_rules, show_value
from bot.validate.stream import FieldText, StreamFailure

BLOCK_SIZE = 4 << 20  # bytes of CSV per batch: big enough to amortise, small enough to bound memory
PROGRESS_BYTES = 50 << 20  # show a progress bar for files this big even when stderr is not a terminal
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_LOOKS_LIKE_FIELD = re.compile(r"^field_.*\.csv(\.gz)?$")
_CLASS_OF = {c: (c.rsplit("_", 1)[0], c.rsplit("_", 1)[1]) for c in CLASS_COLUMNS}
_NO_ID = np.iinfo(np.int64).min


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
        return _refused(shown, "not-a-field-file",
                        "a folder inside the fields folder is not searched; put field files at its top level")
    return validate_file(path, display_path=shown, settings=settings, progress=progress)


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.absolute().relative_to(root.absolute()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _refused(shown: str, code: str, message: str, field_number: int | None = None) -> FileReport:
    return FileReport(shown, field_number, 0, False, [Problem(shown, None, None, code, message)], 1, None)


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
        return _refused(shown, "symlink", "symbolic links are not followed; commit the file itself")
    if not path.exists():
        return _refused(shown, "not-found", "the file does not exist; check the path")
    if not path.is_file():
        return _refused(shown, "not-a-field-file", "not a regular file")
    name = path.name
    field_number = field_from_filename(name)
    naming: list[Problem] = []
    if field_number is None:
        if not name.endswith((".csv", ".csv.gz")):
            return _refused(shown, "not-a-field-file",
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
        # Lines whose extra and missing commas cancelled out in one block: locate them line by line.
        report = _FileCheck(path, shown, field_number, settings, False).run(careful=True)
    if naming:
        report.errors = sorted(naming + report.errors, key=_order)[: settings.max_errors_per_file]
        report.error_count += len(naming)
        report.valid = False
    return report


def _order(p: Problem) -> tuple[int, int]:
    return (p.line or 0, 0)


@dataclass
class _Failure:
    row: int  # data row, 0-based, as pyarrow numbers them
    position: int  # column position in the header
    code: str | None  # None: ask the rule to diagnose the cell
    text: str
    col: int | None = None  # 1-based character position of the cell in its line


@dataclass
class _Stats:
    positives: dict[str, dict[str, int]] = field(
        default_factory=lambda: {m: {c.rsplit("_", 1)[0]: 0 for c in CLASS_COLUMNS if c.endswith(m)} for m in MODELS}
    )
    ra: list[float] = field(default_factory=list)
    dec: list[float] = field(default_factory=list)

    def extend_range(self, which: list[float], values: pa.Array) -> None:
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            which[:] = [min([lo, *which[:1]]), max([hi, *which[1:]])]


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
        self.ids: list[np.ndarray] = []
        self.rule_at: dict[int, ColumnRule] = {}
        self.blank_rows: list[int] = []

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
                           "`git lfs pull`, or check out with `lfs: true` in the workflow")
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
        types = {
            k: pa.dictionary(pa.int32(), pa.string()) if n in rules and rules[n].low_cardinality else pa.string()
            for k, n in zip(keys, names, strict=True)
        }
        checked = [(i, rules[n]) for i, n in enumerate(names) if n in rules]
        self.rule_at = dict(checked)
        first_of = {n: names.index(n) for n in set(names)}

        def skip(_row: object) -> str:
            self.skipped += 1
            return "skip"

        reader = pcsv.open_csv(
            pa.PythonFile(text, mode="r"),
            read_options=pcsv.ReadOptions(column_names=keys, block_size=BLOCK_SIZE),
            parse_options=pcsv.ParseOptions(quote_char=False, ignore_empty_lines=False, invalid_row_handler=skip),
            convert_options=pcsv.ConvertOptions(column_types=types, check_utf8=False, strings_can_be_null=False,
                                                quoted_strings_can_be_null=False),
        )
        for batch in reader:
            offset = self.rows_read
            self.rows_read += batch.num_rows
            blank = _blank_rows(batch)
            if blank is not None:
                self.blank_rows += (np.flatnonzero(blank) + offset).tolist()
            found: list[_Failure] = []
            for position, rule in checked:
                primary = first_of[rule.column] == position
                found += self._column(batch.column(position), rule, position, offset, blank, primary)
            found.sort(key=lambda f: (f.row, f.position))
            kept = found[: max(0, self.limit - len(self.failures))]
            for f in kept:
                f.col = 1 + sum(len(batch.column(j)[f.row - offset].as_py()) + 1 for j in range(f.position))
            self.failures += kept

    def _column(
        self, arr: pa.Array, rule: ColumnRule, position: int, offset: int, blank: np.ndarray | None, primary: bool
    ) -> list[_Failure]:
        need = max(0, self.limit - len(self.failures))
        cells = _Cells(arr, blank)
        evaluation = rule.evaluate(cells.distinct)
        bad = pc.invert(evaluation.ok)
        out = cells.flagged(bad, need, offset, position, None, self)
        name = rule.column
        if not primary:
            return out
        values = evaluation.values
        if name == "field" and self.field is not None and values is not None:
            wrong = pc.fill_null(pc.and_(evaluation.ok, pc.not_equal(values, self.field)), False)
            out += cells.flagged(wrong, need, offset, position, "field-mismatch", self)
        if name in _CLASS_OF:
            scores = pc.cast(pc.if_else(evaluation.ok, cells.distinct, "0"), pa.float64())
            positive = pc.and_(evaluation.ok, pc.greater_equal(scores, POSITIVE_THRESHOLD))
            klass, model = _CLASS_OF[name]
            self.stats.positives[model][klass] += cells.count(positive)
        elif name in ("ra", "dec") and values is not None:
            self.stats.extend_range(getattr(self.stats, name), cells.expand(pc.if_else(evaluation.ok, values, None)))
        elif name == "_id" and values is not None:
            ids = cells.expand(pc.if_else(evaluation.ok, values, None))
            self.ids.append(pc.fill_null(ids, _NO_ID).to_numpy())
        return out

    # -- the verdict ----------------------------------------------------------------------------------
    def _finish(self, text: FieldText | None, extra: list[Problem]) -> FileReport:
        problems = self.problems + extra
        count = len(problems)
        stats = None
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
            if rows == 0 and not count:
                problems.append(Problem(self.shown, 1, None, "no-rows", "the file has a header but no rows; "
                                        "a field file needs at least one row"))
                count += 1
            if text.failure is None and text.cells is not None:
                stats = FieldStats(
                    rows=rows, class_counts=self.stats.positives,
                    ra_min=_first(self.stats.ra, 0), ra_max=_first(self.stats.ra, 1),
                    dec_min=_first(self.stats.dec, 0), dec_max=_first(self.stats.dec, 1),
                    md5=text.md5, size=text.size,
                )
        problems.sort(key=lambda p: (p.line or 0,))
        return FileReport(self.shown, self.field, rows, count == 0, problems[: self.limit], count, stats)

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
        if not self.ids:
            return [], 0
        ids = np.concatenate(self.ids)
        self.ids = []
        present = ids[ids != _NO_ID]
        ordered = np.sort(present)
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if not len(repeated):
            return [], 0
        rows = np.flatnonzero(np.isin(ids, repeated))
        first: dict[int, int] = {}
        out: list[Problem] = []
        count = 0
        for row in rows.tolist():
            value = int(ids[row])
            if value not in first:
                first[value] = row
                continue
            count += 1
            if len(out) < self.limit:
                out.append(Problem(
                    self.shown, lines.line_of_row(row), "_id", "duplicate-id",
                    f"_id {value} already appears on line {lines.line_of_row(first[value])}; "
                    "each light curve appears once per file",
                ))
        return out, count


def _first(pair: list[float], i: int) -> float | None:
    return pair[i] if pair else None


class _Cells:
    """A batch's column as pyarrow gave it: plain strings, or a dictionary of distinct strings + indices."""

    def __init__(self, arr: pa.Array, blank: np.ndarray | None) -> None:
        self.blank = blank
        if isinstance(arr, pa.DictionaryArray):
            self.distinct = arr.dictionary
            self.indices = arr.indices.to_numpy(zero_copy_only=False)
            self.counts = np.bincount(self.indices, minlength=len(self.distinct))
            if blank is not None:
                self.counts = self.counts - np.bincount(self.indices[blank], minlength=len(self.distinct))
        else:
            self.distinct = arr
            self.indices = None

    def expand(self, per_distinct: pa.Array) -> pa.Array:
        return per_distinct if self.indices is None else per_distinct.take(pa.array(self.indices))

    def count(self, mask: pa.BooleanArray) -> int:
        if self.indices is None:
            if self.blank is None:
                return mask.true_count
            return int(np.count_nonzero(mask.to_numpy(zero_copy_only=False) & ~self.blank))
        return int(self.counts[mask.to_numpy(zero_copy_only=False)].sum())

    def flagged(
        self, mask: pa.BooleanArray, need: int, offset: int, position: int, code: str | None, check: _FileCheck
    ) -> list[_Failure]:
        """Count the flagged cells and return the first `need` of them."""
        n = self.count(mask)
        if not n:
            return []
        check.failure_count += n
        if not need:
            return []
        per = mask.to_numpy(zero_copy_only=False)
        rows_mask = per if self.indices is None else per[self.indices]
        if self.blank is not None:
            rows_mask = rows_mask & ~self.blank
        rows = np.flatnonzero(rows_mask)[:need]
        return [_Failure(offset + int(r), position, code, self._text(int(r))) for r in rows]

    def _text(self, row: int) -> str:
        i = row if self.indices is None else int(self.indices[row])
        return self.distinct[i].as_py()


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
    empty = _empty_cells(batch.column(0))
    if empty is None:
        return None
    rows = np.flatnonzero(empty)
    for column in batch.columns[1:]:
        sub = column.take(pa.array(rows))
        if isinstance(sub, pa.DictionaryArray):
            sub = sub.dictionary_decode()
        rows = rows[pc.equal(sub, "").to_numpy(zero_copy_only=False)]
        if not len(rows):
            return None
    mask = np.zeros(batch.num_rows, dtype=bool)
    mask[rows] = True
    return mask


def _empty_cells(column: pa.Array) -> np.ndarray | None:
    if isinstance(column, pa.DictionaryArray):
        empty = np.flatnonzero(pc.equal(column.dictionary, "").to_numpy(zero_copy_only=False))
        return np.isin(column.indices.to_numpy(zero_copy_only=False), empty) if len(empty) else None
    lengths = pc.binary_length(column)
    if not len(column) or pc.min(lengths).as_py() > 0:
        return None
    return pc.equal(lengths, 0).to_numpy(zero_copy_only=False)


@contextmanager
def _progress_bar(wanted: bool, path: Path) -> Iterator[object]:
    size = path.stat().st_size
    if not wanted or not (sys.stderr.isatty() or size > PROGRESS_BYTES):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(path.name, total=size)
        yield lambda done: bar.update(task, completed=done)
