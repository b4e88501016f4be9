"""A small deterministic zip writer that never touches member data, only the records around it.

Every member is described by its name, method, CRC-32 and sizes; the writer emits the local header, the
central directory and the end records from those facts alone, with fixed timestamps and attributes. A
member carried from the previous release and the same member compressed afresh therefore get the same
header bytes, which is what makes a full build and an incremental build byte-identical.

ZIP64 records are written only where a value does not fit in 32 bits (or everywhere with ``force_zip64``,
which the tests use to exercise the ZIP64 paths on small archives).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

STORED = 0
DEFLATED = 8

# A 32-bit field holding this value means "the real value is in the ZIP64 extra field / record".
ZIP64_LIMIT = 0xFFFFFFFF
ZIP64_COUNT_LIMIT = 0xFFFF

# Fixed so that the same inputs give the same bytes on any machine at any time.
DOS_TIME = 0  # 00:00:00
DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest date a zip can hold
VERSION_MADE_BY = (3 << 8) | 45  # Unix, spec 4.5
VERSION_PLAIN = 20  # deflate and folders
VERSION_ZIP64 = 45
FILE_ATTRS = 0o100644 << 16  # regular file, rw-r--r--
DIR_ATTRS = (0o040755 << 16) | 0x10  # folder, rwxr-xr-x, plus the MS-DOS folder bit
FLAG_UTF8 = 0x0800

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
ZIP64_EOCD_SIG = b"PK\x06\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EXTRA_ID = 0x0001

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<4sHHHHIIH")  # 22 bytes
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
_ZIP64_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes


@dataclass(frozen=True)
class MemberInfo:
    """What the writer needs to know about one member; its data comes separately."""

    name: str
    method: int
    crc: int
    compressed_size: int
    size: int  # uncompressed

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    def encoded_name(self) -> bytes:
        return self.name.encode("utf-8")

    def flags(self) -> int:
        return 0 if self.name.isascii() else FLAG_UTF8


def _sizes_need_zip64(m: MemberInfo, force: bool) -> bool:
    return force or m.size >= ZIP64_LIMIT or m.compressed_size >= ZIP64_LIMIT


def local_header(m: MemberInfo, *, force_zip64: bool = False) -> bytes:
    """The local file header; its length depends only on the name and the sizes, never on the offset."""
    name = m.encoded_name()
    if _sizes_need_zip64(m, force_zip64):
        # In a local header the ZIP64 extra must carry both sizes.
        extra = struct.pack("<HHQQ", ZIP64_EXTRA_ID, 16, m.size, m.compressed_size)
        version, csize, usize = VERSION_ZIP64, ZIP64_LIMIT, ZIP64_LIMIT
    else:
        extra = b""
        version, csize, usize = VERSION_PLAIN, m.compressed_size, m.size
    head = _LOCAL.pack(
        LOCAL_SIG,
        version,
        m.flags(),
        m.method,
        DOS_TIME,
        DOS_DATE,
        m.crc,
        csize,
        usize,
        len(name),
        len(extra),
    )
    return head + name + extra


def local_header_size(m: MemberInfo, *, force_zip64: bool = False) -> int:
    return _LOCAL.size + len(m.encoded_name()) + (20 if _sizes_need_zip64(m, force_zip64) else 0)


def central_header(m: MemberInfo, offset: int, *, force_zip64: bool = False) -> bytes:
    """The central directory record of a member whose local header starts at ``offset``."""
    name = m.encoded_name()
    values: list[int] = []
    usize, csize, off = m.size, m.compressed_size, offset
    if _sizes_need_zip64(m, force_zip64):
        values += [m.size, m.compressed_size]
        usize = csize = ZIP64_LIMIT
    if force_zip64 or offset >= ZIP64_LIMIT:
        values.append(offset)
        off = ZIP64_LIMIT
    extra = struct.pack(f"<HH{len(values)}Q", ZIP64_EXTRA_ID, 8 * len(values), *values) if values else b""
    version = VERSION_ZIP64 if values else VERSION_PLAIN
    attrs = DIR_ATTRS if m.is_dir else FILE_ATTRS
    head = _CENTRAL.pack(
        CENTRAL_SIG,
        VERSION_MADE_BY,
        version,
        m.flags(),
        m.method,
        DOS_TIME,
        DOS_DATE,
        m.crc,
        csize,
        usize,
        len(name),
        len(extra),
        0,
        0,
        0,
        attrs,
        off,
    )
    return head + name + extra


def end_records(count: int, cd_offset: int, cd_size: int, *, force_zip64: bool = False) -> bytes:
    """The ZIP64 end record and locator (when needed) followed by the classic end record."""
    zip64 = force_zip64 or count >= ZIP64_COUNT_LIMIT or cd_offset >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT
    out = b""
    if zip64:
        zip64_eocd_offset = cd_offset + cd_size
        out += _ZIP64_EOCD.pack(
            ZIP64_EOCD_SIG,
            _ZIP64_EOCD.size - 12,
            VERSION_MADE_BY,
            VERSION_ZIP64,
            0,
            0,
            count,
            count,
            cd_size,
            cd_offset,
        )
        out += _ZIP64_LOCATOR.pack(ZIP64_LOCATOR_SIG, 0, zip64_eocd_offset, 1)

    def clip(value: int, limit: int) -> int:
        return limit if force_zip64 or value >= limit else value

    out += _EOCD.pack(
        EOCD_SIG,
        0,
        0,
        clip(count, ZIP64_COUNT_LIMIT),
        clip(count, ZIP64_COUNT_LIMIT),
        clip(cd_size, ZIP64_LIMIT),
        clip(cd_offset, ZIP64_LIMIT),
        0,
    )
    return out


@dataclass(frozen=True)
class ZipLayout:
    """Where every record of the archive goes; the total size is known before any data is read."""

    members: tuple[MemberInfo, ...]
    offsets: tuple[int, ...]  # of each local header
    central_directory: bytes
    end: bytes
    size: int
    force_zip64: bool = False

    @classmethod
    def plan(cls, members: Sequence[MemberInfo], *, force_zip64: bool = False) -> ZipLayout:
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"duplicate zip member names: {', '.join(dupes)}")
        offsets: list[int] = []
        pos = 0
        for m in members:
            offsets.append(pos)
            pos += local_header_size(m, force_zip64=force_zip64) + m.compressed_size
        cd = b"".join(
            central_header(m, o, force_zip64=force_zip64) for m, o in zip(members, offsets, strict=True)
        )
        end = end_records(len(members), pos, len(cd), force_zip64=force_zip64)
        return cls(tuple(members), tuple(offsets), cd, end, pos + len(cd) + len(end), force_zip64)

    def iter_bytes(self, data: Sequence[Iterable[bytes]]) -> Iterator[bytes]:
        """The archive's bytes, given each member's compressed data (checked against its planned size)."""
        for m, chunks in zip(self.members, data, strict=True):
            yield local_header(m, force_zip64=self.force_zip64)
            written = 0
            for chunk in chunks:
                written += len(chunk)
                if written > m.compressed_size:
                    raise ValueError(
                        f"{m.name}: more compressed data than the planned {m.compressed_size} bytes"
                    )
                yield chunk
            if written != m.compressed_size:
                raise ValueError(f"{m.name}: {written} bytes of compressed data, planned {m.compressed_size}")
        yield self.central_directory
        yield self.end
