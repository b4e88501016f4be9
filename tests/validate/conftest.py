"""Fixtures for the validation tests: synthetic field files written by bot.local.sample, never by hand."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.local.sample import field_csv_bytes


@pytest.fixture
def make_field(tmp_path: Path) -> Callable[..., Path]:
    """Write ``field_<field>.csv`` (or ``.csv.gz``) with ``rows`` synthetic rows; ``edit`` may change the lines."""

    def make(
        field: int = 296,
        rows: int = 20,
        *,
        name: str | None = None,
        gz: bool = False,
        edit: Callable[[list[bytes]], list[bytes]] | None = None,
        ending: bytes = b"\n",
        folder: Path | None = None,
    ) -> Path:
        lines = field_csv_bytes(field, rows).split(b"\n")[:-1]
        if edit is not None:
            lines = edit(lines)
        data = ending.join(lines) + ending
        target = (folder or tmp_path) / (name or f"field_{field}.csv{'.gz' if gz else ''}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        return target

    return make


def _set_cell(lines: list[bytes], line: int, column: str, value: bytes) -> list[bytes]:
    names = lines[0].split(b",")
    cells = lines[line - 1].split(b",")
    cells[names.index(column.encode())] = value
    lines[line - 1] = b",".join(cells)
    return lines


@pytest.fixture
def set_cell() -> Callable[[list[bytes], int, str, bytes], list[bytes]]:
    """Replace one cell of a file's lines (physical line numbers: header = 1)."""
    return _set_cell
