"""What a draft receives: files to upload, each hashed while it streams out.

A small file's md5 is known before it is sent. The catalog zip's is not: it is built from the previous
zip as it is read, and hashing it first would read the carried bytes twice. So every upload is hashed on
the way out, and the md5 Zenodo reports when the file is committed is compared with the one of the bytes
that were actually sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class UploadFile:
    key: str
    size: int
    md5: str | None  # hex; None when only the upload's own pass learns it (the rebuilt zip)
    open: Callable[[], BinaryIO]  # opened fresh for every attempt
    # A reading pass of its own that gives the md5 (a second download of the carried bytes): used only to
    # recognise a file an earlier run already uploaded to the draft.
    hash_pass: Callable[[], str] | None = None

    @classmethod
    def from_path(cls, path: str | Path, key: str | None = None) -> UploadFile:
        """Describe a local file, reading it once (in chunks) for its md5."""
        path = Path(path)
        digest = hashlib.md5()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return cls(key or path.name, path.stat().st_size, digest.hexdigest(), lambda: path.open("rb"))

    def expected_md5(self) -> str:
        """The md5 the upload must have: known up front, or from a hashing pass of its own."""
        if self.md5 is not None:
            return self.md5
        if self.hash_pass is None:
            raise ValueError(f"{self.key}: no md5 and no way to compute one before sending it")
        return self.hash_pass()


class HashingReader:
    """A file object that hashes what is read from it (what the upload sent, attempt by attempt)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._digest = hashlib.md5()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._raw.read(n)
        self._digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._raw.close()


class HashedOpener:
    """Opens an upload for each attempt and remembers the last attempt's reader (the one that got through)."""

    def __init__(self, upload: UploadFile) -> None:
        self.upload = upload
        self.last: HashingReader | None = None

    def __call__(self) -> BinaryIO:
        self.last = HashingReader(self.upload.open())
        return self.last  # type: ignore[return-value]

    def sent_md5(self) -> str:
        """The md5 of the bytes the last attempt sent, all ``size`` of them."""
        if self.last is None or self.last.size != self.upload.size:
            sent = 0 if self.last is None else self.last.size
            raise ValueError(f"{self.upload.key}: sent {sent} of {self.upload.size} bytes")
        return self.last.hexdigest()
