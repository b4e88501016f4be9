"""Deflate a contributor's field file into a temporary member, learning its CRC, sizes, md5 and rows.

The CSV bytes go in exactly as given (a ``.csv.gz`` is gunzipped first); nothing is parsed or rewritten.
One pass over the input does everything, so a new field costs one read and one compressed temp file.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.catalog.errors import CatalogError
from bot.catalog.zipwrite import DEFLATED, MemberInfo

CHUNK = 1 << 20


@dataclass(frozen=True)
class CompressedMember:
    data_path: Path  # raw deflate data, ready to copy into the zip
    crc: int
    size: int  # of the CSV
    compressed_size: int
    md5: str  # of the CSV
    rows: int  # data rows: newlines minus the header line

    def info(self, name: str) -> MemberInfo:
        return MemberInfo(name, DEFLATED, self.crc, self.compressed_size, self.size)


def _open_input(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def deflate_bytes(data: bytes, level: int) -> bytes:
    """Raw deflate exactly as compress_file makes it, for members built in memory (the manifest)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def compress_file(
    src: Path, dest: Path, *, level: int, on_progress: Callable[[int], None] | None = None
) -> CompressedMember:
    """Deflate ``src`` (gunzipped if ``.gz``) into ``dest``; ``on_progress`` gets input bytes as read."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    md5 = hashlib.md5()
    crc = size = compressed = newlines = 0
    last = b"\n"
    try:
        with _open_input(src) as fin, dest.open("wb") as fout:
            while chunk := fin.read(CHUNK):
                md5.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
                out = comp.compress(chunk)
                compressed += len(out)
                fout.write(out)
                if on_progress is not None:
                    on_progress(len(chunk))
            out = comp.flush()
            compressed += len(out)
            fout.write(out)
    except (OSError, EOFError, zlib.error) as exc:
        dest.unlink(missing_ok=True)
        raise CatalogError(
            f"cannot read the field file ({exc})",
            hint="check the file is complete (a .gz must be a whole gzip stream) and readable",
            location=str(src),
        ) from None
    # A file without a final newline still has a last row.
    lines = newlines + (0 if last == b"\n" else 1)
    return CompressedMember(dest, crc, size, compressed, md5.hexdigest(), max(lines - 1, 0))
