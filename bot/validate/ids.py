"""The ``_id`` uniqueness check in bounded memory.

Ids are kept in memory (8 bytes a row) up to a limit; past it they are written, with their row numbers, to
a few dozen temporary files partitioned by a hash of the id, and each partition is checked alone at the
end. A duplicate always lands in the same partition as its twin, so memory stays near
``total / partitions`` rows whatever the file's size.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

NO_ID = np.iinfo(np.int64).min  # the id cell was invalid: not part of the check
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads sequential ids over partitions


class IdRegistry:
    def __init__(self, memory_rows: int = 8_000_000, partitions: int = 64) -> None:
        self.memory_rows = memory_rows
        self.partitions = partitions
        self._chunks: list[np.ndarray] = []  # in memory: ids in row order (NO_ID where invalid)
        self._rows = 0
        self._spill: tempfile.TemporaryDirectory[str] | None = None

    def add(self, ids: np.ndarray) -> None:
        """The ids of the next rows, in order (NO_ID for a row whose _id is not valid)."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._spill is None:
            self._chunks.append(ids)
            self._rows += len(ids)
            if self._rows > self.memory_rows:
                self._start_spilling()
            return
        self._write(ids, self._rows)
        self._rows += len(ids)

    def _start_spilling(self) -> None:
        self._spill = tempfile.TemporaryDirectory(prefix="release-bot-ids-")
        first = 0
        for chunk in self._chunks:
            self._write(chunk, first)
            first += len(chunk)
        self._chunks = []

    def _write(self, ids: np.ndarray, first_row: int) -> None:
        rows = np.flatnonzero(ids != NO_ID)
        values = ids[rows]
        part = ((values.view(np.uint64) * _MIX) >> np.uint64(48)).astype(np.int64) % self.partitions
        pairs = np.empty((len(values), 2), dtype=np.int64)
        pairs[:, 0] = values
        pairs[:, 1] = rows + first_row
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.partitions + 1))
        assert self._spill is not None
        for p in range(self.partitions):
            lo, hi = bounds[p], bounds[p + 1]
            if hi > lo:
                with open(Path(self._spill.name) / f"{p}.bin", "ab") as out:
                    pairs[order[lo:hi]].tofile(out)

    def duplicates(self, limit: int) -> tuple[list[tuple[int, int, int]], int]:
        """(row, id, row of its first occurrence) for the first ``limit`` repeats by row, and how many in all."""
        found: list[tuple[int, int, int]] = []
        total = 0
        for values, rows in self._partitions():
            repeats, count = _repeats(values, rows, limit)
            total += count
            found = heapq.nsmallest(limit, found + repeats)
        self.close()
        return found, total

    def _partitions(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self._spill is None:
            ids = np.concatenate(self._chunks) if self._chunks else np.empty(0, dtype=np.int64)
            rows = np.flatnonzero(ids != NO_ID)
            yield ids[rows], rows
            return
        for p in range(self.partitions):
            path = Path(self._spill.name) / f"{p}.bin"
            if path.exists():
                pairs = np.fromfile(path, dtype=np.int64).reshape(-1, 2)
                yield pairs[:, 0], pairs[:, 1]

    def close(self) -> None:
        self._chunks = []
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None


def _repeats(values: np.ndarray, rows: np.ndarray, limit: int) -> tuple[list[tuple[int, int, int]], int]:
    """Rows whose id already appeared on an earlier row (rows are in increasing order)."""
    if len(values) < 2:
        return [], 0
    order = np.argsort(values, kind="stable")  # equal ids keep their row order
    ordered = values[order]
    same = ordered[1:] == ordered[:-1]
    count = int(np.count_nonzero(same))
    if not count:
        return [], 0
    # For each repeat, the first row of its run of equal ids.
    run_start = np.flatnonzero(np.concatenate(([True], ~same)))
    starts = np.repeat(run_start, np.diff(np.append(run_start, len(ordered))))
    later = np.flatnonzero(same) + 1
    repeat_rows = rows[order[later]]
    first_rows = rows[order[starts[later]]]
    pick = np.argsort(repeat_rows, kind="stable")[:limit]
    return [(int(repeat_rows[i]), int(ordered[later[i]]), int(first_rows[i])) for i in pick], count
