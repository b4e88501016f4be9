"""Low-level pieces of reading a file over HTTP: retry waits, and one response read front to back.

A server that ignores ``Range`` (zenodo.org's API content URL does) answers every read with the whole file.
``Forward`` wraps such a response: it hands out the bytes of ``[start, end)`` in file order, skipping what
lies between, so the carried members of a zip all come out of one sequential read.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections import deque
from collections.abc import Callable, Iterator

import requests

from bot.catalog.chunks import ChunkCursor

MAX_WAIT = 60.0  # never sleep longer than this between two attempts of one read


class Retry(Exception):
    """An attempt that may succeed when repeated (a 5xx, a cut-off body); ``wait``: what the server asked."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def retry_after(value: str, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks for: a number of seconds or an HTTP date (RFC 9110)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, when.timestamp() - now()), MAX_WAIT)


class TailKeeper:
    """The last ``keep`` bytes of a stream seen chunk by chunk (the zip's directories live there)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.total = 0
        self._chunks: deque[bytes] = deque()
        self._held = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._chunks.append(chunk)
        self._held += len(chunk)
        while self._chunks and self._held - len(self._chunks[0]) >= self.keep:
            self._held -= len(self._chunks.popleft())

    def tail(self) -> tuple[int, bytes]:
        """(offset of the first byte held, the bytes held)."""
        data = b"".join(self._chunks)[-self.keep :] if self.keep else b""
        return self.total - len(data), data


class Forward:
    """One response body read front to back; ``pos`` is the file offset of the next byte it gives.

    ``on_bytes`` hears of the bytes taken from the response (passed over or given out); the response is
    read in chunks of ``chunk_size``, so at most that much more left the server before a ``close``.
    """

    def __init__(self, resp: requests.Response, chunk_size: int, on_bytes: Callable[[int], None]) -> None:
        self.resp = resp
        self._cursor = ChunkCursor(resp.iter_content(chunk_size))
        self._on_bytes = on_bytes

    @property
    def pos(self) -> int:
        return self._cursor.pos

    def read_range(self, start: int, end: int) -> Iterator[bytes]:
        """Skip to ``start`` and yield the bytes up to ``end``; raise ``Retry`` if the body ends early."""
        if start < self.pos:
            raise ValueError(f"a forward read at byte {self.pos} cannot go back to byte {start}")
        for passed in self._cursor.take(start - self.pos):  # bytes of members that are not carried
            self._on_bytes(len(passed))
        for piece in self._cursor.take(end - self.pos):
            self._on_bytes(len(piece))
            yield bytes(piece)
        if self.pos < end:
            raise Retry(f"the response ended at byte {self.pos}, before byte {end}")

    def close(self) -> None:
        self.resp.close()
