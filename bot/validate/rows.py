"""The rows of a field file, one parsed chunk at a time.

Every column of a chunk is checked at once against its ``ColumnRule`` (columns that share a rule, like the
88 scores, in one call); only failing cells get per-row work: the first ``limit`` of them are located at
their physical line and column, the rest are counted. The same pass gathers the statistics the release
notes need, the ``_id`` values for the uniqueness check and the ``_id`` layout warnings.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bot.scope import CLASS_COLUMNS, MODELS, POSITIVE_THRESHOLD, is_valid_field_number
from bot.skymap.density import SkyCounter
from bot.validate import arrow, idlayout
from bot.validate import layout as csvlayout
from bot.validate.ids import NO_ID, IdRegistry
from bot.validate.parse import Parsed
from bot.validate.rules import ColumnRule, Evaluation

_CLASS_OF = {c: (c.rsplit("_", 1)[0], c.rsplit("_", 1)[1]) for c in CLASS_COLUMNS}
_LAYOUT_COLUMNS = ("_id", "field", "ccd", "quad", "filter")  # what the _id layout warning reads


@dataclass
class Failure:
    """A failing cell, located: physical line, 1-based character position in that line, header position."""

    line: int | None
    col: int | None
    position: int
    code: str | None  # None: ask the rule to diagnose the cell
    text: str


@dataclass
class IdWarning:
    """An ``_id`` that does not follow the layout (a warning), with the cells its message needs."""

    line: int | None
    col: int | None
    light_curve_id: int
    ccd: int
    quad: int
    filter: int


@dataclass
class _Column:
    """A primary column's share of a chunk, kept for checks that read several columns of a row."""

    position: int
    ok: pa.BooleanArray
    values: pa.Array


@dataclass
class Statistics:
    positives: dict[str, dict[str, int]] = field(
        default_factory=lambda: {m: {c.rsplit("_", 1)[0]: 0 for c in CLASS_COLUMNS if c.endswith(m)} for m in MODELS}
    )
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # "ra"/"dec" -> (min, max)
    sky: SkyCounter = field(default_factory=SkyCounter)  # the field's footprint, for the sky map

    def positions(self, ra: pa.Array | None, dec: pa.Array | None) -> None:
        """Every chunk's ``ra`` and ``dec`` (float64 degrees, row by row, null where a cell is invalid).

        The one place where each row's sky position passes by: whatever needs positions (the bounds, the
        sky footprint) gathers them here. None for a column the header lacks.
        """
        if ra is not None:
            self._widen("ra", ra)
        if dec is not None:
            self._widen("dec", dec)
        if ra is not None and dec is not None:
            self.sky.add(arrow.to_numpy(ra), arrow.to_numpy(dec))

    def _widen(self, name: str, values: pa.Array) -> None:
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            old = self.bounds.get(name, (lo, hi))
            self.bounds[name] = (min(old[0], lo), max(old[1], hi))

    def bound(self, name: str, i: int) -> float | None:
        return self.bounds[name][i] if name in self.bounds else None


class RowLines:
    """Data row (0-based over the file) -> physical line, chunk by chunk."""

    def __init__(self) -> None:
        self._first_rows: list[int] = []
        self._first_lines: list[int] = []
        self._lines: list[np.ndarray | None] = []  # per-row line offsets, for chunks where rows skip lines

    def add(self, first_row: int, first_line: int, lines: np.ndarray | None) -> None:
        self._first_rows.append(first_row)
        self._first_lines.append(first_line)
        self._lines.append(lines)

    def line_of_row(self, row: int) -> int:
        i = bisect_right(self._first_rows, row) - 1
        r = row - self._first_rows[i]
        lines = self._lines[i]
        return self._first_lines[i] + (r if lines is None else int(lines[r]))


class Locator:
    """Where a parsed chunk's rows and cells are in the file; works out the chunk's layout only when asked."""

    def __init__(self, parsed: Parsed, columns: int) -> None:
        self.chunk = parsed.chunk
        self.columns = columns
        self.rows = parsed.table.num_rows
        self.regular = not self.chunk.quoted_line_feeds and parsed.refused == 0  # row i is on line first + i
        self._layout: csvlayout.Layout | None = None
        self._records: np.ndarray | None = None  # record index of each row pyarrow returned

    def layout(self) -> csvlayout.Layout:
        if self._layout is None:
            self._layout = csvlayout.layout(self.chunk.data())
            returned = (self._layout.cells == self.columns) | self._layout.blank
            records = np.flatnonzero(returned)
            self._records = records if len(records) == self.rows else np.arange(self.rows)
        return self._layout

    def record(self, row: int) -> int:
        if self.regular:
            return row
        self.layout()
        assert self._records is not None
        return int(self._records[row])

    def line(self, row: int) -> int:
        if self.regular:
            return self.chunk.first_line + row
        return self.chunk.first_line + int(self.layout().lines[self.record(row)])

    def cell(self, row: int, position: int) -> tuple[int, int]:
        """(physical line, 1-based character position) of a cell: where it starts, quote included."""
        lay = self.layout()
        record = self.record(row)
        start = int(lay.starts[record])
        data = self.chunk.data()
        at = csvlayout.cell_offset(data, start, position)
        extra, col = csvlayout.line_and_col(data, start, at)
        return self.chunk.first_line + int(lay.lines[record]) + extra, col

    def row_lines(self) -> np.ndarray | None:
        """Each row's line offset from the chunk's first line, or None when row i is on line first + i."""
        if self.regular:
            return None
        lay = self.layout()
        assert self._records is not None
        lines: np.ndarray = lay.lines[self._records].astype(np.int32)
        return lines

    def refused(self) -> list[tuple[int, int]]:
        """(line, cells) of each record pyarrow skipped for its cell count."""
        lay = self.layout()
        wrong = np.flatnonzero((lay.cells != self.columns) & ~lay.blank)
        return [(self.chunk.first_line + int(lay.lines[r]), int(lay.cells[r])) for r in wrong]


class RowChecks:
    """Checks the rows of each parsed chunk in turn and keeps what the file's report needs."""

    def __init__(self, names: list[str], rules: dict[str, ColumnRule], field_number: int | None, limit: int,
                 id_memory_rows: int) -> None:
        self.names = names
        self.field = field_number
        self.limit = limit
        checked = [(i, rules[n]) for i, n in enumerate(names) if n in rules]
        self.rule_at = dict(checked)
        self.primary = {names.index(n) for n in set(names)}  # a duplicated column counts in the stats once
        shared: dict[tuple[object, ...], list[int]] = {}
        for i, r in checked:
            shared.setdefault(r.check_key, []).append(i)
        self.groups = [(self.rule_at[ps[0]], ps) for ps in shared.values()]
        self.failures: list[Failure] = []  # the first `limit` failing cells
        self.failure_count = 0
        self.refused: list[tuple[int, int]] = []  # the first `limit` (line, cells) of skipped records
        self.refused_count = 0
        self.blank_lines: list[int] = []
        self.blank_count = 0
        self.rows_read = 0
        self.stats = Statistics()
        self.ids = IdRegistry(memory_rows=id_memory_rows)
        self.lines = RowLines()
        self.id_warnings: list[IdWarning] = []
        self.warning_count = 0

    def check(self, parsed: Parsed) -> None:
        where = Locator(parsed, len(self.names))
        if parsed.refused:
            self.refused_count += parsed.refused
            self.refused += where.refused()[: max(0, self.limit - len(self.refused))]
        table = parsed.table
        n = table.num_rows
        offset = self.rows_read
        self.rows_read += n
        self.lines.add(offset, parsed.chunk.first_line, where.row_lines())
        if not n:
            return
        blank = _blank_rows(table)
        if blank is not None:
            rows = np.flatnonzero(blank)
            self.blank_count += len(rows)
            self.blank_lines += [where.line(int(r)) for r in rows[: max(0, self.limit - len(self.blank_lines))]]
        found: list[tuple[int, int, str | None]] = []  # (row, position, code) of failing cells
        layout_parts: dict[str, _Column] = {}
        sky: dict[str, pa.Array] = {}
        for rule, positions in self.groups:
            found += self._group(table, rule, positions, blank, layout_parts, sky)
        self.stats.positions(sky.get("ra"), sky.get("dec"))
        need = max(0, self.limit - len(self.failures))
        for row, position, code in sorted(found)[:need]:
            line, col = where.cell(row, position)
            text = table.column(position)[row].as_py()
            self.failures.append(Failure(line, col, position, code, text))
        self._id_layout(table, layout_parts, where)

    # -- the columns ----------------------------------------------------------------------------------
    def _group(self, table: pa.Table, rule: ColumnRule, positions: list[int], blank: np.ndarray | None,
               parts: dict[str, _Column], sky: dict[str, pa.Array]) -> list[tuple[int, int, str | None]]:
        """Check the chunk's columns that share ``rule``; gather the statistics of the primary ones."""
        columns = [table.column(p) for p in positions]
        cells = columns[0] if len(columns) == 1 else pa.chunked_array([c for a in columns for c in a.chunks],
                                                                      type=pa.string())
        both = rule.evaluate(cells)
        if both.codes is not None and rule.vocabulary is not None:
            return self._scores(rule, positions, both, table.num_rows, blank)
        out: list[tuple[int, int, str | None]] = []
        n = table.num_rows
        for i, position in enumerate(positions):
            ok, values = _part(both.ok, i * n, n), _part(both.values, i * n, n)
            assert ok is not None
            every = ok.false_count == 0
            if not every:
                out += self._take(~arrow.to_numpy(ok), position, None, blank)
            if position not in self.primary or values is None:
                continue
            name = self.rule_at[position].column
            if name in _LAYOUT_COLUMNS:
                parts[name] = _Column(position, ok, values)
            if name == "field" and self.field is not None:
                wrong = pc.fill_null(pc.and_(ok, pc.not_equal(values, arrow.scalar(self.field, pa.int64()))),
                                     arrow.scalar(False, pa.bool_()))
                out += self._take(arrow.to_numpy(wrong), position, "field-mismatch", blank)
            elif name in ("ra", "dec"):
                sky[name] = values if every else pc.if_else(ok, values, arrow.scalar(None, values.type))
            elif name == "_id":
                ids = values if every else pc.if_else(ok, values, arrow.scalar(None, values.type))
                self.ids.add(arrow.to_numpy(pc.fill_null(ids, arrow.scalar(int(NO_ID), pa.int64()))))
        return out

    def _scores(self, rule: ColumnRule, positions: list[int], both: Evaluation, n: int,
                blank: np.ndarray | None) -> list[tuple[int, int, str | None]]:
        """Score columns: a cell is valid when it is a vocabulary word; count the words at or above 0.7."""
        codes = both.codes
        assert codes is not None and rule.vocabulary is not None
        out: list[tuple[int, int, str | None]] = []
        if codes.null_count:
            for i, position in enumerate(positions):
                mine = codes.slice(i * n, n)
                if mine.null_count:
                    out += self._take(arrow.to_numpy(pc.is_null(mine)), position, None, blank)
            codes = pc.fill_null(codes, arrow.scalar(-1, pa.int32()))
        lo, hi = _positive_words(rule.vocabulary)
        every = arrow.to_numpy(codes).reshape(len(positions), n)
        counts = np.count_nonzero((every >= lo) & (every < hi), axis=1)
        for position, count in zip(positions, counts.tolist(), strict=True):
            if position in self.primary and self.rule_at[position].column in _CLASS_OF:
                klass, model = _CLASS_OF[self.rule_at[position].column]
                self.stats.positives[model][klass] += count
        return out

    def _take(self, mask: np.ndarray, position: int, code: str | None,
              blank: np.ndarray | None) -> list[tuple[int, int, str | None]]:
        if blank is not None:
            mask = mask & ~blank  # a blank line is one problem, not one per cell
        rows = np.flatnonzero(mask)
        self.failure_count += len(rows)
        return [(int(r), position, code) for r in rows[: max(0, self.limit - len(self.failures))]]

    # -- the _id layout -------------------------------------------------------------------------------
    def _id_layout(self, table: pa.Table, parts: dict[str, _Column], where: Locator) -> None:
        """Warn where a valid ``_id`` does not encode the file's field and the row's ccd, quad and filter.

        Only rows whose five cells are valid (and whose field is the file's) are judged: an invalid cell is
        already an error. Integer arithmetic over the chunk (see ``idlayout``).
        """
        if self.field is None or not is_valid_field_number(self.field) or len(parts) < len(_LAYOUT_COLUMNS):
            return
        zero = arrow.scalar(0, pa.int64())
        values = {n: arrow.to_numpy(c.values if c.values.null_count == 0 else pc.fill_null(c.values, zero))
                  for n, c in parts.items()}
        judged = values["field"] == self.field
        for c in parts.values():
            if c.ok.false_count:
                judged &= arrow.to_numpy(c.ok)
        off = judged & ~idlayout.layout_ok(values["_id"], self.field, values["ccd"], values["quad"], values["filter"])
        rows = np.flatnonzero(off)
        if not len(rows):
            return
        self.warning_count += len(rows)
        position = parts["_id"].position
        for r in rows[: max(0, self.limit - len(self.id_warnings))].tolist():
            line, col = where.cell(r, position)
            self.id_warnings.append(IdWarning(
                line, col, int(values["_id"][r]), int(values["ccd"][r]), int(values["quad"][r]),
                int(values["filter"][r]),
            ))


def _part(x: pa.Array | pa.ChunkedArray | None, start: int, length: int) -> pa.Array | None:
    """One column's share of a result computed over several columns at once, as one array."""
    if x is None:
        return None
    piece = x.slice(start, length)
    if isinstance(piece, pa.Array):
        return piece
    return piece.chunk(0) if piece.num_chunks == 1 else pa.concat_arrays(piece.chunks)


@cache
def _positive_words(vocabulary: tuple[str, ...]) -> tuple[int, int]:
    """The run [lo, hi) of vocabulary indexes whose word reads as a score >= the threshold.

    The vocabulary lists numbers in numeric order (see ``rules._by_value``), so those words are one run.
    """
    flags = []
    for word in vocabulary:
        try:
            flags.append(float(word) >= POSITIVE_THRESHOLD)
        except ValueError:
            flags.append(False)
    hits = [i for i, f in enumerate(flags) if f]
    if not hits:
        return 0, 0
    assert hits == list(range(hits[0], hits[-1] + 1)), "the vocabulary is not in numeric order"
    return hits[0], hits[-1] + 1


def _blank_rows(table: pa.Table) -> np.ndarray | None:
    """Rows whose every cell is empty (blank lines), as a mask; None when there are none."""
    first = pc.binary_length(table.column(0))
    if pc.min(first).as_py() > 0:
        return None
    rows = np.flatnonzero(arrow.to_numpy(pc.equal(first, arrow.scalar(0, pa.int32()))))
    for column in table.columns[1:]:
        rows = rows[arrow.to_numpy(pc.equal(column.take(arrow.numbers(rows)), arrow.scalar("", pa.string())))]
        if not len(rows):
            return None
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    return mask
