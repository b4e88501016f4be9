"""A readable file object over an iterator of byte chunks, whose length is known up front.

``requests`` sends such an object with a ``Content-Length`` (it asks ``len()`` and ``tell()``), so the
Zenodo upload can stream the catalog without writing it to disk.
"""

from __future__ import annotations

import io
from collections.abc import Iterator


class ChunkStream(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes], size: int) -> None:
        super().__init__()
        self._chunks = chunks
        self._size = size
        self._pos = 0
        self._buf = memoryview(b"")

    def __len__(self) -> int:
        return self._size

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                if self._pos != self._size:
                    raise OSError(f"the catalog stream ended at byte {self._pos} of {self._size}")
                return 0
            self._buf = memoryview(nxt)
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()  # ends any open range request of the previous zip
        super().close()
