"""Where the records, cells and lines of a piece of CSV text are, with RFC 4180 quoting.

pyarrow turns a chunk of text into rows but does not say where each row was. This module finds what the
engine needs to point at a row or a cell: where each record starts and ends, how many cells it has, on which
physical line it starts, and where one of its cells sits in its line. It works on the chunk's bytes with
numpy, and only for chunks where something must be located.

Quoting as pyarrow (and Python's ``csv``) read it: a double quote opens a quoted cell only at the start of a
cell; inside one, ``""`` is a quote and a lone ``"`` closes it; anywhere else a quote is an ordinary
character. A record ends at a line feed outside quotes. When every quote of a chunk stands where RFC 4180
puts quotes, a line feed is outside quotes exactly when an even number of quotes precede it (the fast way);
a chunk with a stray quote (``ab"c``) is tokenised with a regular expression instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

QUOTE, COMMA, LF = ord('"'), ord(","), ord("\n")
# A quoted cell (possessive: `""` is always a quote, never a close and a reopen) or a separator outside quotes.
_TOKEN = re.compile(rb'(?:^|(?<=[,\n]))"(?:[^"]++|"")*+(?P<close>")?|[,\n]')
_CELL_AT = re.compile(rb'"(?:[^"]++|"")*+"?[^,\r\n]*|[^,\r\n]*')


@dataclass(frozen=True)
class Layout:
    """The records of a chunk that starts at a record boundary: offsets, cell counts, lines."""

    starts: np.ndarray  # byte offset of each record's first character
    ends: np.ndarray  # byte offset of the line feed ending it (the chunk's length for a last, open record)
    cells: np.ndarray  # cells in each record (separators outside quotes + 1)
    lines: np.ndarray  # line feeds before each record's start: its physical line minus the chunk's first line
    line_feeds: int  # every line feed in the chunk, inside quotes or not

    @property
    def blank(self) -> np.ndarray:
        """Records with nothing in them (an empty line), which pyarrow reads as a row of empty cells."""
        empty: np.ndarray = self.ends - self.starts == 0
        return empty


def _separators(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(line feeds outside quotes, commas outside quotes, every line feed, the opening quote left open or None)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    line_feeds = np.flatnonzero(buf == LF)
    commas = np.flatnonzero(buf == COMMA)
    if b'"' not in data:
        return line_feeds, commas, line_feeds, None
    quotes = np.flatnonzero(buf == QUOTE)
    if _stray_quotes(buf, quotes):
        return _tokenised(data, line_feeds)
    outside_lf = np.searchsorted(quotes, line_feeds) % 2 == 0
    outside_comma = np.searchsorted(quotes, commas) % 2 == 0
    left_open = None
    if len(quotes) % 2:
        openers = quotes[0::2]
        real = openers[(openers == 0) | (buf[np.maximum(openers - 1, 0)] != QUOTE)]
        left_open = real[-1:]
    return line_feeds[outside_lf], commas[outside_comma], line_feeds, left_open


def _stray_quotes(buf: np.ndarray, quotes: np.ndarray) -> bool:
    """True when a quote stands where RFC 4180 puts none (so quote parity would not tell records apart).

    Counting from a record boundary, the quotes at even places open a quoted cell or are the second of a
    doubled quote: the first is preceded by a comma, a line feed or nothing, the second by a quote.
    """
    even = quotes[0::2]
    even = even[even > 0]
    before = buf[even - 1]
    return bool(np.any((before != COMMA) & (before != LF) & (before != QUOTE)))


def _tokenised(data: bytes, line_feeds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    ends: list[int] = []
    commas: list[int] = []
    left_open = None
    for m in _TOKEN.finditer(data):
        token = m.group()
        if token == b"\n":
            ends.append(m.start())
        elif token == b",":
            commas.append(m.start())
        elif m.group("close") is None:
            left_open = np.array([m.start()])
    return np.array(ends, dtype=np.int64), np.array(commas, dtype=np.int64), line_feeds, left_open


def layout(data: bytes) -> Layout:
    """The records of ``data`` (which starts at a record boundary); a last record may lack its line feed."""
    ends, commas, line_feeds, _ = _separators(data)
    if not data.endswith(b"\n") and data:
        ends = np.append(ends, len(data)) if not len(ends) or ends[-1] != len(data) else ends
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64) if len(ends) else np.empty(0, dtype=np.int64)
    cells = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    ends = ends.astype(np.int64)
    crlf = (ends > starts) & (np.frombuffer(data, dtype=np.uint8)[np.maximum(ends - 1, 0)] == ord("\r")) if len(
        data) else np.zeros(0, dtype=bool)
    ends = np.where(crlf & (ends < len(data)), ends - 1, ends)  # the record's text stops before a CR of CRLF
    return Layout(starts, ends, cells, np.searchsorted(line_feeds, starts), len(line_feeds))


def last_record_end(data: bytes) -> tuple[int, bool]:
    """(offset just past the last line feed that ends a record, 0 if none; whether a line feed is quoted)."""
    if b'"' not in data:
        return data.rfind(b"\n") + 1, False
    ends, _, line_feeds, _ = _separators(data)
    return (int(ends[-1]) + 1 if len(ends) else 0), len(ends) != len(line_feeds)


def open_quote(data: bytes) -> int | None:
    """Offset of a quote that opens a cell and is never closed in ``data`` (from a record boundary), or None."""
    if b'"' not in data:
        return None
    _, _, _, left_open = _separators(data)
    return int(left_open[0]) if left_open is not None and len(left_open) else None


def cell_offset(data: bytes, start: int, position: int) -> int:
    """Byte offset of the ``position``-th cell (0-based) of the record starting at ``start``."""
    at = start
    for _ in range(position):
        m = _CELL_AT.match(data, at)
        assert m is not None  # the pattern matches the empty string
        at = m.end() + 1
    return at


def line_and_col(data: bytes, record_start: int, offset: int) -> tuple[int, int]:
    """(line feeds between ``record_start`` and ``offset``, 1-based character position of ``offset`` in its line)."""
    line_start = data.rfind(b"\n", record_start, offset) + 1 or record_start
    return data.count(b"\n", record_start, offset), len(data[line_start:offset].decode("utf-8", "replace")) + 1


def split_record(record: bytes) -> list[tuple[str, int]]:
    """The cells of one line as text, unquoted, each with its 1-based character position (for the header)."""
    out: list[tuple[str, int]] = []
    at = 0
    while True:
        m = _CELL_AT.match(record, at)
        assert m is not None  # the pattern matches the empty string
        raw = m.group()
        if raw.startswith(b'"'):
            close = raw.rfind(b'"')
            inner = raw[1:close] if close > 0 else raw[1:]
            raw = inner.replace(b'""', b'"') + (raw[close + 1:] if close > 0 else b"")
        col = len(record[:at].decode("utf-8", "replace")) + 1
        out.append((raw.decode("utf-8", "replace"), col))
        if m.end() >= len(record):
            return out
        at = m.end() + 1
