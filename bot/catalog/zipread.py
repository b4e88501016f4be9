"""Read a zip's directories from a byte source, and copy members' compressed data out of it.

Only the end of the archive is read to plan a build: the end record (and its ZIP64 form), then the central
directory. Member data is read later, run by run, as one sequential range each; while it streams, each
member is inflated on the side (CPU, no disk) to check its CRC-32 against the central directory.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.catalog.chunks import ChunkCursor
from bot.catalog.errors import CorruptZipError
from bot.catalog.sources import CHUNK, ByteSource
from bot.catalog.zipwrite import (
    CENTRAL_SIG,
    DEFLATED,
    EOCD_SIG,
    LOCAL_SIG,
    STORED,
    ZIP64_COUNT_LIMIT,
    ZIP64_EOCD_SIG,
    ZIP64_EXTRA_ID,
    ZIP64_LIMIT,
    ZIP64_LOCATOR_SIG,
    MemberInfo,
)

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_MAX_COMMENT = 0xFFFF
FLAG_ENCRYPTED = 0x1
FLAG_UTF8 = 0x800
INFLATE_STEP = 4 << 20  # cap on inflated bytes per step, so a hostile member cannot fill memory


@dataclass(frozen=True)
class ZipEntry:
    """One central directory record, with ZIP64 values already resolved."""

    index: int
    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    def info(self, name: str | None = None) -> MemberInfo:
        """The facts the writer needs to re-emit this member, optionally under another name."""
        return MemberInfo(name or self.name, self.method, self.crc, self.compressed_size, self.size)


@dataclass(frozen=True)
class CentralDirectory:
    entries: tuple[ZipEntry, ...]
    offset: int
    size: int
    zip64: bool

    def region_ends(self) -> dict[int, int]:
        """Per entry index, where its bytes end: the next local header, or the central directory.

        The gap after a member's data holds its data descriptor, if any; a copier skips it.
        """
        by_offset = sorted(self.entries, key=lambda e: e.header_offset)
        ends: dict[int, int] = {}
        for entry, nxt in zip(by_offset, [*by_offset[1:], None], strict=True):
            ends[entry.index] = nxt.header_offset if nxt is not None else self.offset
        return ends


def _decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & FLAG_UTF8 else "cp437")


def read_central_directory(
    source: ByteSource, *, tail_size: int = _MAX_COMMENT + _EOCD.size
) -> CentralDirectory:
    """Find and parse the end records and the central directory; any inconsistency is a CorruptZipError."""
    name = source.name

    def corrupt(message: str, member: str | None = None) -> CorruptZipError:
        return CorruptZipError(name, message, member=member)

    if source.size < _EOCD.size:
        raise corrupt(f"only {source.size} bytes: too short to be a zip")
    # Most zips end with a comment-less end record: try its 22 bytes before the longest possible tail.
    tail_start = source.size - _EOCD.size
    tail = source.read_at(tail_start, _EOCD.size)
    eocd_rel = _find_eocd(tail)
    if eocd_rel is None:
        tail_start = max(0, source.size - tail_size)
        tail = source.read_at(tail_start, source.size - tail_start)
        eocd_rel = _find_eocd(tail)
    if eocd_rel is None:
        raise corrupt("no end-of-central-directory record: not a zip, or truncated")
    eocd_pos = tail_start + eocd_rel
    _sig, disk, cd_disk, count_disk, count, cd_size, cd_offset, _clen = _EOCD.unpack_from(tail, eocd_rel)
    zip64 = False
    if eocd_pos >= _ZIP64_LOCATOR.size:
        loc = source.read_at(eocd_pos - _ZIP64_LOCATOR.size, _ZIP64_LOCATOR.size)
        if loc[:4] == ZIP64_LOCATOR_SIG:
            zip64 = True
            _s, _d, z64_offset, disks = _ZIP64_LOCATOR.unpack(loc)
            if disks > 1:
                raise corrupt(
                    "a multi-disk (split) zip is not supported",
                )
            rec = (
                source.read_at(z64_offset, _ZIP64_EOCD.size)
                if z64_offset + _ZIP64_EOCD.size <= source.size
                else b""
            )
            if len(rec) != _ZIP64_EOCD.size or rec[:4] != ZIP64_EOCD_SIG:
                raise corrupt(
                    f"the ZIP64 locator points at byte {z64_offset}, where there is no ZIP64 end record"
                )
            (_s, _rs, _vm, _vn, disk, cd_disk, count_disk, count, cd_size, cd_offset) = _ZIP64_EOCD.unpack(
                rec
            )
    if disk != 0 or cd_disk != 0 or count_disk != count:
        raise corrupt("a multi-disk (split) zip is not supported")
    if not zip64 and (cd_offset == ZIP64_LIMIT or cd_size == ZIP64_LIMIT or count == ZIP64_COUNT_LIMIT):
        raise corrupt("the end record says ZIP64 but there is no ZIP64 locator")
    if cd_offset + cd_size > source.size:
        raise corrupt(f"the central directory ({cd_size} bytes at {cd_offset}) runs past the end of the file")
    if cd_offset >= tail_start and cd_offset + cd_size <= tail_start + len(tail):
        cd = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        cd = source.read_at(cd_offset, cd_size)
    entries = _parse_entries(cd, count, cd_offset, corrupt)
    return CentralDirectory(tuple(entries), cd_offset, cd_size, zip64)


def _find_eocd(tail: bytes) -> int | None:
    pos = len(tail)
    while True:
        pos = tail.rfind(EOCD_SIG, 0, pos)
        if pos < 0:
            return None
        if pos + _EOCD.size <= len(tail):
            (comment_len,) = struct.unpack_from("<H", tail, pos + 20)
            if pos + _EOCD.size + comment_len == len(tail):
                return pos


def _parse_entries(
    cd: bytes, count: int, cd_offset: int, corrupt: Callable[..., CorruptZipError]
) -> list[ZipEntry]:
    entries: list[ZipEntry] = []
    pos = 0
    seen: set[str] = set()
    for index in range(count):
        if pos + _CENTRAL.size > len(cd) or cd[pos : pos + 4] != CENTRAL_SIG:
            raise corrupt(f"central directory record {index + 1} of {count} is missing or damaged")
        (
            _sig,
            _made,
            _need,
            flags,
            method,
            _t,
            _d,
            crc,
            csize,
            usize,
            nlen,
            xlen,
            clen,
            disk,
            _ia,
            _ea,
            offset,
        ) = _CENTRAL.unpack_from(cd, pos)
        raw_name = cd[pos + _CENTRAL.size : pos + _CENTRAL.size + nlen]
        extra = cd[pos + _CENTRAL.size + nlen : pos + _CENTRAL.size + nlen + xlen]
        pos += _CENTRAL.size + nlen + xlen + clen
        if pos > len(cd):
            raise corrupt(f"central directory record {index + 1} runs past the directory's end")
        try:
            name = _decode_name(raw_name, flags)
        except UnicodeDecodeError:
            raise corrupt(f"central directory record {index + 1} has a name that is not UTF-8") from None
        usize, csize, offset = _apply_zip64_extra(extra, usize, csize, offset, disk, name, corrupt)
        if flags & FLAG_ENCRYPTED:
            raise corrupt("is encrypted; the catalog must not be", member=name)
        if method not in (STORED, DEFLATED):
            raise corrupt(
                f"uses compression method {method}; only stored (0) and deflate (8) can be checked",
                member=name,
            )
        if name in seen:
            raise corrupt("appears twice in the central directory", member=name)
        seen.add(name)
        if offset + _LOCAL.size + csize > cd_offset:
            raise corrupt(
                f"its data ({csize} bytes from byte {offset}) would overlap the central directory",
                member=name,
            )
        entries.append(ZipEntry(index, name, method, flags, crc, csize, usize, offset))
    if pos != len(cd):
        raise corrupt(f"the central directory holds {len(cd) - pos} bytes after its {count} records")
    return entries


def _apply_zip64_extra(
    extra: bytes, usize: int, csize: int, offset: int, disk: int, name: str,
    corrupt: Callable[..., CorruptZipError],
) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag != ZIP64_EXTRA_ID:
            continue
        values = list(struct.unpack_from(f"<{len(body) // 8}Q", body)) if len(body) >= 8 else []
        try:
            if usize == ZIP64_LIMIT:
                usize = values.pop(0)
            if csize == ZIP64_LIMIT:
                csize = values.pop(0)
            if offset == ZIP64_LIMIT:
                offset = values.pop(0)
        except IndexError:
            raise corrupt(
                "its ZIP64 extra field is too short for the values it should hold", member=name
            ) from None
        return usize, csize, offset
    if ZIP64_LIMIT in (usize, csize, offset):
        raise corrupt("has a 32-bit size or offset marked ZIP64 but no ZIP64 extra field", member=name)
    return usize, csize, offset


class Cursor(ChunkCursor):
    """Sequential reads over one range of a source, kept as a single request."""

    def __init__(self, source: ByteSource, start: int, end: int) -> None:
        self._source_chunks = source.iter_range(start, end, CHUNK)
        super().__init__(self._source_chunks, start)
        self.end = end

    def read_exact(self, n: int) -> bytes:
        return b"".join(self.iter_exact(n))

    def close(self) -> None:
        close = getattr(self._source_chunks, "close", None)
        if close is not None:
            close()


class Verifier:
    """Check a member's CRC-32 and size by inflating its data as it passes (nothing is kept)."""

    def __init__(self, entry: ZipEntry, source_name: str) -> None:
        self.entry = entry
        self.source_name = source_name
        self.crc = 0
        self.size = 0
        self._inflate = zlib.decompressobj(-15) if entry.method == DEFLATED else None

    def _corrupt(self, message: str) -> CorruptZipError:
        return CorruptZipError(self.source_name, message, member=self.entry.name)

    def update(self, chunk: bytes) -> None:
        if self._inflate is None:
            self._add(chunk)
            return
        data = chunk
        try:
            while data:
                out = self._inflate.decompress(data, INFLATE_STEP)
                self._add(out)
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise self._corrupt(f"its deflate data is damaged ({exc})") from None

    def _add(self, out: bytes) -> None:
        self.crc = zlib.crc32(out, self.crc)
        self.size += len(out)
        if self.size > self.entry.size:
            raise self._corrupt(f"inflates to more than the {self.entry.size} bytes the directory records")

    def finish(self) -> None:
        if self._inflate is not None:
            try:
                self._add(self._inflate.flush())
            except zlib.error as exc:
                raise self._corrupt(f"its deflate data is damaged ({exc})") from None
            if not self._inflate.eof:
                raise self._corrupt("its deflate data ends before the end of the stream")
            if self._inflate.unused_data:
                raise self._corrupt("has bytes after the end of its deflate stream")
        if self.size != self.entry.size:
            raise self._corrupt(f"inflates to {self.size} bytes, the directory records {self.entry.size}")
        if self.crc != self.entry.crc:
            raise self._corrupt(f"CRC-32 is {self.crc:08x}, the directory records {self.entry.crc:08x}")


def iter_member_data(
    cursor: Cursor, entry: ZipEntry, source_name: str, *, verify: bool = True
) -> Iterator[bytes]:
    """From a cursor at the member's local header: check the header, then yield its compressed data."""

    def corrupt(message: str) -> CorruptZipError:
        return CorruptZipError(source_name, message, member=entry.name)

    if cursor.pos != entry.header_offset:
        raise ValueError(f"cursor at {cursor.pos}, {entry.name} starts at {entry.header_offset}")
    head = cursor.read_exact(_LOCAL.size)
    if len(head) != _LOCAL.size or head[:4] != LOCAL_SIG:
        raise corrupt(f"no local header at byte {entry.header_offset}")
    (_sig, _ver, flags, method, _t, _d, _crc, _cs, _us, nlen, xlen) = _LOCAL.unpack(head)
    raw_name = cursor.read_exact(nlen)
    try:
        same = raw_name.decode("utf-8", "replace") == entry.name or _decode_name(raw_name, flags) == entry.name
    except UnicodeDecodeError:
        same = False
    if not same:
        raise corrupt(f"the local header names {raw_name!r} instead")
    if method != entry.method:
        raise corrupt(f"the local header says method {method}, the central directory {entry.method}")
    cursor.skip(xlen)
    verifier = Verifier(entry, source_name) if verify else None
    received = 0
    for chunk in cursor.iter_exact(entry.compressed_size):
        received += len(chunk)
        if verifier is not None:
            verifier.update(chunk)
        yield chunk
    if received != entry.compressed_size:
        raise corrupt(f"its data stops after {received} of {entry.compressed_size} bytes")
    if verifier is not None:
        verifier.finish()


def read_member(source: ByteSource, directory: CentralDirectory, entry: ZipEntry) -> bytes:
    """A whole member, inflated and checked (for small members: the manifest).

    One ``read_at`` of the member's region, which an HTTP source answers from the tail it already holds.
    """
    end = directory.region_ends()[entry.index]

    class _Region:  # the region as a one-chunk source for the cursor
        name = source.name

        @staticmethod
        def iter_range(start: int, stop: int, chunk_size: int = CHUNK) -> Iterator[bytes]:
            yield source.read_at(start, stop - start)

    cursor = Cursor(_Region(), entry.header_offset, end)  # type: ignore[arg-type]
    data = b"".join(iter_member_data(cursor, entry, source.name, verify=True))
    return zlib.decompress(data, -15) if entry.method == DEFLATED else data
