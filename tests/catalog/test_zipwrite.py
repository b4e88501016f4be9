"""The raw-copy zip writer: its records, ZIP64, and archives that other readers accept."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog.compress import deflate_bytes
from bot.catalog.zipread import read_central_directory
from bot.catalog.zipwrite import (
    DEFLATED,
    STORED,
    ZIP64_LIMIT,
    MemberInfo,
    ZipLayout,
    central_header,
    end_records,
    local_header,
    local_header_size,
)

GB = 10**9


def _member(name: str, data: bytes, method: int = DEFLATED) -> tuple[MemberInfo, bytes]:
    packed = deflate_bytes(data, 6) if method == DEFLATED else data
    return MemberInfo(name, method, zlib.crc32(data), len(packed), len(data)), packed


def _zip_bytes(members: list[tuple[MemberInfo, bytes]], force_zip64: bool = False) -> bytes:
    layout = ZipLayout.plan([m for m, _ in members], force_zip64=force_zip64)
    out = b"".join(layout.iter_bytes([[d] for _, d in members]))
    assert len(out) == layout.size
    return out


class _TailOnly:
    """A source that holds only the end of a (virtual, huge) archive; member data reads as zeros."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.name, self.size, self.tail, self.bytes_read, self.requests = "virtual.zip", size, tail, 0, 0

    def read_at(self, offset: int, length: int) -> bytes:
        start = self.size - len(self.tail)
        pad = b"\0" * max(0, min(start, offset + length) - offset)
        return pad + self.tail[max(offset - start, 0) : offset - start + length]


def test_local_header_is_fixed_apart_from_name_crc_and_sizes() -> None:
    m = MemberInfo("field_296.csv", DEFLATED, 0x1234ABCD, 1000, 5000)
    head = local_header(m)
    sig, ver, flags, method, mtime, mdate, crc, csize, usize, nlen, xlen = struct.unpack(
        "<4sHHHHHIIIHH", head[:30]
    )
    assert (sig, ver, flags, method) == (b"PK\x03\x04", 20, 0, 8)
    assert (mtime, mdate) == (0, 0x21)  # 1980-01-01 00:00
    assert (crc, csize, usize, nlen, xlen) == (0x1234ABCD, 1000, 5000, 13, 0)
    assert head[30:] == b"field_296.csv"
    assert len(head) == local_header_size(m)


def test_zip64_local_header_carries_both_sizes() -> None:
    m = MemberInfo("field_539.csv", DEFLATED, 7, 3 * GB, 12 * GB)  # compressed fits, uncompressed does not
    head = local_header(m)
    (ver,) = struct.unpack_from("<H", head, 4)
    csize, usize = struct.unpack_from("<II", head, 18)
    (xlen,) = struct.unpack_from("<H", head, 28)
    assert ver == 45 and csize == usize == ZIP64_LIMIT and xlen == 20
    assert struct.unpack_from("<HHQQ", head, 30 + 13) == (1, 16, 12 * GB, 3 * GB)
    assert len(head) == local_header_size(m)


def test_zip64_central_record_holds_only_the_overflowing_values() -> None:
    small = MemberInfo("a.csv", DEFLATED, 1, 10, 20)
    rec = central_header(small, 5 * GB)  # only the offset overflows
    (xlen,) = struct.unpack_from("<H", rec, 30)
    assert struct.unpack_from("<II", rec, 20) == (10, 20)
    assert struct.unpack_from("<I", rec, 42) == (ZIP64_LIMIT,)
    assert struct.unpack_from("<HHQ", rec, 46 + 5) == (1, 8, 5 * GB) and xlen == 12
    assert struct.unpack_from("<H", rec, 6) == (45,)
    plain = central_header(small, 100)
    assert struct.unpack_from("<H", plain, 30) == (0,)  # no extra field
    assert struct.unpack_from("<I", plain, 42) == (100,)


def test_end_records_switch_to_zip64_past_4_gib() -> None:
    plain = end_records(3, 1000, 200)
    assert len(plain) == 22 and plain[:4] == b"PK\x05\x06"
    big = end_records(3, 5 * GB, 200)
    assert big[:4] == b"PK\x06\x06" and big[56:60] == b"PK\x06\x07" and big[76:80] == b"PK\x05\x06"
    fields = struct.unpack_from("<4sQHHIIQQQQ", big, 0)
    assert fields[6:] == (3, 3, 200, 5 * GB)
    assert struct.unpack_from("<4sIQI", big, 56)[2] == 5 * GB + 200  # the locator points at the ZIP64 record
    eocd = struct.unpack_from("<4sHHHHIIH", big, 76)
    assert eocd[3:7] == (3, 3, 200, ZIP64_LIMIT)


def test_zip64_layout_round_trips_through_the_reader_without_any_data() -> None:
    # A 12 GB catalog: three members, two of them past 4 GiB, laid out but never materialised.
    members = [
        MemberInfo("field_436.csv", DEFLATED, 11, 5 * GB, 26 * GB),
        MemberInfo("field_488.csv", DEFLATED, 22, 6 * GB, 30 * GB),
        MemberInfo("field_539.csv", DEFLATED, 33, 1000, 5000),
    ]
    layout = ZipLayout.plan(members)
    tail = layout.central_directory + layout.end
    cd = read_central_directory(_TailOnly(layout.size, tail))
    assert cd.zip64
    got = [(e.name, e.crc, e.compressed_size, e.size, e.header_offset) for e in cd.entries]
    want = [
        (m.name, m.crc, m.compressed_size, m.size, o) for m, o in zip(members, layout.offsets, strict=True)
    ]
    assert got == want
    assert layout.offsets[2] > ZIP64_LIMIT


names = st.one_of(
    st.integers(1, 1897).map(lambda n: f"field_{n}.csv"),
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="/\\"),
        min_size=1,
        max_size=12,
    ).map(lambda s: f"docs/{s}.txt"),
)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        names, st.tuples(st.binary(max_size=3000), st.sampled_from([STORED, DEFLATED])), max_size=6
    ),
    st.booleans(),
)
def test_archives_read_back_with_zipfile(contents: dict[str, tuple[bytes, int]], force_zip64: bool) -> None:
    members = [_member(name, data, method) for name, (data, method) in contents.items()]
    blob = _zip_bytes(members, force_zip64)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == list(contents)
        for name, (data, _method) in contents.items():
            assert zf.read(name) == data
            info = zf.getinfo(name)
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644


def test_same_members_same_bytes() -> None:
    members = [_member("field_1.csv", b"a,b\n1,2\n"), _member("field_2.csv", b"a,b\n3,4\n" * 50)]
    assert _zip_bytes(members) == _zip_bytes(list(members))


def test_data_that_does_not_match_the_plan_is_refused() -> None:
    info, packed = _member("field_1.csv", b"x" * 100)
    layout = ZipLayout.plan([info])
    with pytest.raises(ValueError, match=r"field_1.csv"):
        b"".join(layout.iter_bytes([[packed[:-1]]]))
    with pytest.raises(ValueError, match=r"field_1.csv"):
        b"".join(layout.iter_bytes([[packed + b"!"]]))
    with pytest.raises(ValueError, match=r"duplicate"):
        ZipLayout.plan([info, info])


@pytest.mark.parametrize("force_zip64", [False, True])
def test_unzip_accepts_the_archive(tmp_path: Path, force_zip64: bool) -> None:
    if shutil.which("unzip") is None:
        pytest.skip("the unzip binary is not installed (apt-get install unzip)")
    members = [_member(f"preds/field_{n}.csv", f"h\n{n}\n".encode() * 200) for n in (3, 1, 2)]
    members.append(_member("empty.txt", b"", STORED))
    path = tmp_path / "t.zip"
    path.write_bytes(_zip_bytes(members, force_zip64))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout
