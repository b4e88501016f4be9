"""A real member over 4 GiB (sparse files, so little disk): opt-in, it reads ~20 GB of zeros through zlib."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.catalog.build import NewField, build_catalog, open_previous
from bot.catalog.zipwrite import STORED, ZIP64_LIMIT, MemberInfo, ZipLayout, local_header

BIG = 4 * 1024**3 + 12345  # past the 32-bit limit
ZERO_MB = bytes(1 << 20)

pytestmark = pytest.mark.skipif(
    os.environ.get("RELEASE_BOT_BIG_TESTS") != "1",
    reason="reads about 20 GB of sparse zeros (a few minutes); set RELEASE_BOT_BIG_TESTS=1 to run",
)


def _crc_of_zeros(n: int) -> int:
    crc = 0
    full, rest = divmod(n, len(ZERO_MB))
    for _ in range(full):
        crc = zlib.crc32(ZERO_MB, crc)
    return zlib.crc32(bytes(rest), crc)


def _sparse_write(path: Path, chunks: object) -> None:
    """Write chunks, seeking over all-zero ones so the file stays sparse."""
    with path.open("wb") as out:
        for chunk in chunks:  # type: ignore[attr-defined]
            if chunk.count(0) == len(chunk):
                out.seek(len(chunk), os.SEEK_CUR)
            else:
                out.write(chunk)
        out.truncate()


def test_member_over_4_gib_is_carried(field_pool: dict[int, Path], tmp_path: Path) -> None:
    if shutil.disk_usage(tmp_path).free < 2 * 1024**3:
        pytest.skip("needs 2 GB free for sparse files on a file system that may not support holes")
    member = MemberInfo("field_539.csv", STORED, _crc_of_zeros(BIG), BIG, BIG)
    layout = ZipLayout.plan([member])
    prev = tmp_path / "big.zip"
    with prev.open("wb") as out:  # header, a hole for the data, then the directories
        out.write(local_header(member))
        out.seek(BIG, os.SEEK_CUR)
        out.write(layout.central_directory + layout.end)
    with open_previous(prev) as previous:
        assert previous.directory.entries[0].size == BIG
        build = build_catalog(previous, [NewField(296, field_pool[296])], workdir=tmp_path / "w")
        assert build.size > ZIP64_LIMIT
        result = tmp_path / "out.zip"
        with build.stream() as s:
            _sparse_write(result, iter(lambda: s.read(1 << 20), b""))
    with zipfile.ZipFile(result) as zf:
        info = zf.getinfo("field_539.csv")
        assert info.file_size == BIG
        assert zf.read("field_296.csv") == field_pool[296].read_bytes()
        assert zf.testzip() is None
    if shutil.which("unzip"):
        done = subprocess.run(["unzip", "-tq", str(result)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
