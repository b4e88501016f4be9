"""Exact-size reads over a stream of chunks of any size: the one buffer both zip readers share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class ChunkCursor:
    """Hands out exactly the bytes asked for from ``chunks``; ``pos`` counts the bytes handed out."""

    def __init__(self, chunks: Iterable[bytes], pos: int = 0) -> None:
        self.pos = pos
        self._chunks = iter(chunks)
        self._buf = memoryview(b"")

    def _more(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf = memoryview(chunk)
                return True
        return False

    def take(self, n: int) -> Iterator[memoryview]:
        """Views of the next ``n`` bytes (fewer only if the chunks end, which the caller checks by ``pos``)."""
        while n > 0:
            if not self._buf and not self._more():
                return
            piece = self._buf[:n]
            self._buf = self._buf[len(piece) :]
            self.pos += len(piece)
            n -= len(piece)
            yield piece

    def iter_exact(self, n: int) -> Iterator[bytes]:
        for piece in self.take(n):
            yield bytes(piece)

    def skip(self, n: int) -> None:
        for _ in self.take(n):
            pass
