"""build_catalog end to end on local files: carrying, replacing, removing, determinism, manifest, guards."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog.build import CatalogBuild, NewField, build_catalog, open_previous
from bot.catalog.errors import CatalogError, CatalogUsageError, CorruptZipError
from bot.catalog.limits import check_record_limits
from bot.scope import MANIFEST_NAME, parse_fields_json

from .conftest import POOL

PROV = {"pr": 7, "commit": "abc123", "contributor": "astro", "version": "v1.0.0"}


def _new(pool: dict[int, Path], fields: list[int], **prov: object) -> list[NewField]:
    return [NewField(f, pool[f], provenance={**PROV, **prov}) for f in fields]


def _bytes(build: CatalogBuild) -> bytes:
    with build.stream() as s:
        data = s.read()
    assert len(data) == build.size
    return data


def _write(build: CatalogBuild, path: Path) -> Path:
    build.write_to(path)
    return path


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_full_build_holds_each_csv_byte_for_byte(field_pool: dict[int, Path], tmp_path: Path) -> None:
    fields = [296, 1001, 247]
    build = build_catalog(None, _new(field_pool, fields), workdir=tmp_path / "w")
    data = _bytes(build)
    assert build.zip_name == "predictions_dnn_xgb_3_fields.zip"
    assert build.added == [247, 296, 1001] and build.carried == build.replaced == build.removed == []
    assert build.md5 == hashlib.md5(data).hexdigest()
    assert parse_fields_json(build.fields_json) == [247, 296, 1001]
    assert build.fields_json == b"[247, 296, 1001]"
    with _zip(data) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["field_247.csv", "field_296.csv", "field_1001.csv", MANIFEST_NAME]
        for f in fields:
            assert zf.read(f"field_{f}.csv") == field_pool[f].read_bytes()
        manifest = json.loads(zf.read(MANIFEST_NAME))
    assert manifest == build.manifest
    record = manifest["fields"][1]
    csv = field_pool[296].read_bytes()
    assert record == {
        "field": 296,
        "file": "field_296.csv",
        "rows": csv.count(b"\n") - 1,
        "md5": hashlib.md5(csv).hexdigest(),
        "size": len(csv),
        "source": PROV,
    }
    assert manifest["rows"] == sum(r["rows"] for r in manifest["fields"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.sets(st.sampled_from(POOL), min_size=1, max_size=6),
    new=st.sets(st.sampled_from(POOL), min_size=1, max_size=3),
    folder=st.sampled_from(["", "preds_dnn_xgb"]),
)
def test_incremental_build_equals_full_build(
    field_pool: dict[int, Path],
    tmp_path_factory: pytest.TempPathFactory,
    old: set[int],
    new: set[int],
    folder: str,
) -> None:
    """Previous zip (built by us) + new fields == a build from scratch of the resulting catalog."""
    tmp = tmp_path_factory.mktemp("inc")
    first = build_catalog(None, _new(field_pool, sorted(old)), workdir=tmp / "w1", folder=folder)
    prev_path = _write(first, tmp / first.zip_name)
    # Replacements get other content: same field, another seed of the generator.
    replacement = {f: field_pool[f] for f in new - old}
    for f in new & old:
        from bot.local.sample import write_field_csv

        replacement[f] = write_field_csv(tmp / "repl" / f"field_{f}.csv", f, 15, seed=9)
    provenance = {**PROV, "version": "v1.1.0", "pr": 8}
    with open_previous(prev_path) as previous:
        incremental = build_catalog(
            previous,
            [NewField(f, p, provenance=provenance) for f, p in replacement.items()],
            workdir=tmp / "w2",
        )
        inc_bytes = _bytes(incremental)
    assert incremental.replaced == sorted(new & old) and incremental.added == sorted(new - old)
    full_inputs = [NewField(f, field_pool[f], provenance=PROV) for f in sorted(old - new)]
    full_inputs += [NewField(f, p, provenance=provenance) for f, p in replacement.items()]
    full = build_catalog(None, full_inputs, workdir=tmp / "w3", folder=folder)
    assert inc_bytes == _bytes(full)
    assert incremental.md5 == full.md5


def test_same_inputs_give_the_same_bytes_whatever_the_paths(
    field_pool: dict[int, Path], tmp_path: Path
) -> None:
    a = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "a")
    copies = {}
    for f in (297, 296):
        copies[f] = tmp_path / "elsewhere" / f"field_{f}.csv"
        copies[f].parent.mkdir(exist_ok=True)
        copies[f].write_bytes(field_pool[f].read_bytes())
    b = build_catalog(None, _new(copies, [297, 296]), workdir=tmp_path / "b")
    assert _bytes(a) == _bytes(b)
    c = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "c", compression_level=1)
    assert c.md5 != a.md5  # the level is part of the inputs


def test_replace_remove_and_provenance_carry_forward(field_pool: dict[int, Path], tmp_path: Path) -> None:
    v1 = build_catalog(None, _new(field_pool, [296, 297, 423]), workdir=tmp_path / "w")
    prev = _write(v1, tmp_path / v1.zip_name)
    changed = tmp_path / "new" / "field_297.csv"
    changed.parent.mkdir()
    changed.write_bytes(field_pool[297].read_bytes() + b"extra,row\n")
    with open_previous(prev) as previous:
        assert previous.fields == [296, 297, 423]
        v2 = build_catalog(
            previous,
            [NewField(297, changed, rows=12345, provenance={"pr": 9})],
            remove=[423],
            workdir=tmp_path / "w",
            version_label="v1.1.0",
        )
        data = _bytes(v2)
    assert (v2.added, v2.replaced, v2.removed, v2.carried) == ([], [297], [423], [296])
    assert v2.zip_name == "predictions_dnn_xgb_2_fields.zip"
    with _zip(data) as zf:
        assert zf.namelist() == ["field_296.csv", "field_297.csv", MANIFEST_NAME]
        assert zf.read("field_297.csv") == changed.read_bytes()
    records = {r["field"]: r for r in v2.manifest["fields"]}
    assert records[296] == v1.manifest["fields"][0]  # carried as it was
    assert records[297]["source"] == {"pr": 9, "commit": None, "contributor": None, "version": "v1.1.0"}
    assert records[297]["rows"] == 12345  # the caller's count wins
    assert records[297]["md5"] == hashlib.md5(changed.read_bytes()).hexdigest()


def test_gzipped_input_is_stored_decompressed(field_pool: dict[int, Path], tmp_path: Path) -> None:
    gz = tmp_path / "field_881.csv.gz"
    gz.write_bytes(gzip.compress(field_pool[881].read_bytes()))
    build = build_catalog(None, [NewField(881, gz)], workdir=tmp_path / "w")
    with _zip(_bytes(build)) as zf:
        assert zf.read("field_881.csv") == field_pool[881].read_bytes()
    assert build.manifest["fields"][0]["source"] is None


def test_previous_layout_and_other_members_are_kept(field_pool: dict[int, Path], tmp_path: Path) -> None:
    # A zip made by another tool: CSVs in a folder, a folder entry, a README, no manifest.
    prev = tmp_path / "old.zip"
    with zipfile.ZipFile(prev, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("preds_dnn_xgb/", b"")
        for f in (296, 297):
            zf.write(field_pool[f], f"preds_dnn_xgb/field_{f}.csv")
        zf.writestr("README.txt", b"SCoPe predictions\n")
    with open_previous(prev) as previous:
        assert previous.folder == "preds_dnn_xgb" and previous.manifest is None
        build = build_catalog(previous, _new(field_pool, [1001]), workdir=tmp_path / "w")
        data = _bytes(build)
        moved = build_catalog(previous, [], workdir=tmp_path / "w", folder="")
        moved_data = _bytes(moved)
    with _zip(data) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == [
            "preds_dnn_xgb/field_296.csv",
            "preds_dnn_xgb/field_297.csv",
            "preds_dnn_xgb/field_1001.csv",
            "README.txt",
            "preds_dnn_xgb/",
            MANIFEST_NAME,
        ]
        assert zf.read("README.txt") == b"SCoPe predictions\n"
        assert zf.read("preds_dnn_xgb/field_297.csv") == field_pool[297].read_bytes()
    records = {r["field"]: r for r in build.manifest["fields"]}
    assert records[296] == {
        "field": 296,
        "file": "preds_dnn_xgb/field_296.csv",
        "rows": None,
        "md5": None,
        "size": field_pool[296].stat().st_size,
        "source": None,
    }
    assert build.manifest["rows"] is None  # unknown for carried fields: no made-up total
    with _zip(moved_data) as zf:
        assert "field_296.csv" in zf.namelist() and zf.testzip() is None


def test_data_descriptor_and_zip64_previous_zips_are_read(
    field_pool: dict[int, Path], tmp_path: Path
) -> None:
    # zipfile writing to a pipe-like stream uses data descriptors; force_zip64 adds ZIP64 extras.
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.buf += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in (296, 297):
            with zf.open(f"field_{f}.csv", "w", force_zip64=True) as out:
                out.write(field_pool[f].read_bytes())
    prev = tmp_path / "dd.zip"
    prev.write_bytes(bytes(sink.buf))
    with open_previous(prev) as previous:
        build = build_catalog(previous, _new(field_pool, [423]), workdir=tmp_path / "w")
        data = _bytes(build)
    with _zip(data) as zf:
        assert zf.testzip() is None
        assert zf.read("field_297.csv") == field_pool[297].read_bytes()


def test_forced_zip64_output_can_be_a_previous_zip(field_pool: dict[int, Path], tmp_path: Path) -> None:
    first = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "w", force_zip64=True)
    prev = _write(first, tmp_path / "z64.zip")
    with open_previous(prev) as previous:
        assert previous.directory.zip64
        build = build_catalog(previous, _new(field_pool, [423]), workdir=tmp_path / "w", force_zip64=True)
        data = _bytes(build)
    full = build_catalog(None, _new(field_pool, [296, 297, 423]), workdir=tmp_path / "w", force_zip64=True)
    assert data == _bytes(full)
    with _zip(data) as zf:
        assert zf.testzip() is None


def _corrupt_member_data(path: Path, member: str) -> None:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(member.encode())
    raw[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_corrupt_carried_member_is_named_and_nothing_is_left_behind(
    field_pool: dict[int, Path], tmp_path: Path
) -> None:
    first = build_catalog(None, _new(field_pool, [296, 297, 423]), workdir=tmp_path / "w")
    prev = _write(first, tmp_path / "prev.zip")
    _corrupt_member_data(prev, "field_297.csv")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with open_previous(prev) as previous:
        build = build_catalog(previous, _new(field_pool, [1001]), workdir=tmp_path / "w")
        with pytest.raises(CorruptZipError, match=r"field_297.csv") as err:
            build.write_to(out_dir / build.zip_name)
        assert err.value.member == "field_297.csv" and err.value.hint
        assert list(out_dir.iterdir()) == []  # no half-written zip, no temp file
        with pytest.raises(CorruptZipError, match=r"field_297.csv"):
            _ = build.md5
        # Skipping the check copies the damage as it is: the option exists for speed, not safety.
        unchecked = build_catalog(previous, _new(field_pool, [1001]), workdir=tmp_path / "w", verify=False)
        with _zip(_bytes(unchecked)) as zf:
            assert zf.testzip() == "field_297.csv"


def test_damaged_directories_are_refused(field_pool: dict[int, Path], tmp_path: Path) -> None:
    first = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "w")
    good = _bytes(first)
    cases = {
        "truncated": good[: len(good) // 2],
        "not a zip": b"hello" * 100,
        "bad central record": good.replace(b"PK\x01\x02", b"PK\x01\x03", 1),
    }
    for label, blob in cases.items():
        path = tmp_path / f"{label}.zip"
        path.write_bytes(blob)
        with pytest.raises(CorruptZipError, match=str(path)):
            open_previous(path)
    # A damaged local header is only seen when the member is copied: still named.
    bad_local = bytearray(good)
    offset = good.index(b"PK\x03\x04", 1)  # the second member's local header
    bad_local[offset + 3] = 0
    path = tmp_path / "local.zip"
    path.write_bytes(bytes(bad_local))
    with open_previous(path) as previous:
        build = build_catalog(previous, _new(field_pool, [423]), workdir=tmp_path / "w")
        with pytest.raises(CorruptZipError, match=r"field_297.csv"):
            _bytes(build)


def test_previous_zips_the_builder_cannot_trust(field_pool: dict[int, Path], tmp_path: Path) -> None:
    twice = tmp_path / "twice.zip"
    with zipfile.ZipFile(twice, "w") as zf:
        zf.write(field_pool[296], "field_296.csv")
        zf.write(field_pool[296], "preds/field_296.csv")
    with pytest.raises(CorruptZipError, match=r"field 296 twice"):
        open_previous(twice)
    bz = tmp_path / "bzip2.zip"
    with zipfile.ZipFile(bz, "w", zipfile.ZIP_BZIP2) as zf:
        zf.write(field_pool[296], "field_296.csv")
    with pytest.raises(CorruptZipError, match=r"field_296.csv.*method 12"):
        open_previous(bz)
    bad_manifest = tmp_path / "manifest.zip"
    with zipfile.ZipFile(bad_manifest, "w") as zf:
        zf.write(field_pool[296], "field_296.csv")
        zf.writestr(MANIFEST_NAME, b"{not json")
    with open_previous(bad_manifest) as previous, pytest.raises(CorruptZipError, match=MANIFEST_NAME):
        build_catalog(previous, [], workdir=tmp_path / "w")
    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(lying, "w") as zf:
        zf.write(field_pool[296], "field_296.csv")
        zf.writestr(MANIFEST_NAME, json.dumps({"fields": [{"field": 296, "size": 1, "source": None}]}))
    with open_previous(lying) as previous, pytest.raises(CorruptZipError, match=r"field_296.csv is 1 bytes"):
        build_catalog(previous, [], workdir=tmp_path / "w")


def test_conflicting_or_wrong_requests(field_pool: dict[int, Path], tmp_path: Path) -> None:
    first = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "first")
    prev = _write(first, tmp_path / "prev.zip")
    w = tmp_path / "w"
    with open_previous(prev) as previous:
        with pytest.raises(CatalogUsageError, match=r"both removed and added"):
            build_catalog(previous, _new(field_pool, [296]), remove=[296], workdir=w)
        with pytest.raises(CatalogError, match=r"cannot remove field 881"):
            build_catalog(previous, [], remove=[881], workdir=w)
        with pytest.raises(CatalogError, match=r"no fields"):
            build_catalog(previous, [], remove=[296, 297], workdir=w)
    with pytest.raises(CatalogUsageError, match=r"given twice"):
        build_catalog(None, [NewField(296, field_pool[296]), NewField(296, field_pool[296])], workdir=w)
    with pytest.raises(CatalogError, match=r"named for field 297"):
        build_catalog(None, [NewField(296, field_pool[297])], workdir=w)
    with pytest.raises(CatalogError, match=r"not a ZTF field"):
        build_catalog(None, [NewField(900, tmp_path / "x.csv")], workdir=w)
    with pytest.raises(CatalogError, match=r"validation saw"):
        build_catalog(None, [NewField(296, field_pool[296], md5="0" * 32)], workdir=w)
    with pytest.raises(CatalogError, match=r"validation saw"):
        build_catalog(None, [NewField(296, field_pool[296], size=3)], workdir=w)
    broken = tmp_path / "field_247.csv.gz"
    broken.write_bytes(gzip.compress(b"a,b\n1,2\n")[:-6])
    with pytest.raises(CatalogError, match=r"field_247.csv.gz"):
        build_catalog(None, [NewField(247, broken)], workdir=w)
    assert not [p for p in w.iterdir() if p.suffix == ".deflate"]  # temp members cleaned up on failure


def test_zenodo_limits_are_enforced_before_writing(field_pool: dict[int, Path], tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"at most") as err:
        build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "w", max_file_bytes=1000)
    assert "split" in (err.value.hint or "")
    check_record_limits({"a.zip": 10, "fields.json": 5})
    with pytest.raises(CatalogError, match=r"101 files"):
        check_record_limits({f"f{i}": 1 for i in range(101)})
    with pytest.raises(CatalogError, match=r"per record"):
        check_record_limits({"a.zip": 30 * 10**9, "b.zip": 30 * 10**9})
    with pytest.raises(CatalogError, match=r"per file"):
        check_record_limits({"a.zip": 51 * 10**9})


def test_written_zip_is_atomic_and_stream_reuses_it(field_pool: dict[int, Path], tmp_path: Path) -> None:
    build = build_catalog(None, _new(field_pool, [296]), workdir=tmp_path / "w")
    target = tmp_path / "out" / build.zip_name
    target.parent.mkdir()
    build.write_to(target)
    assert target.stat().st_size == build.size
    assert hashlib.md5(target.read_bytes()).hexdigest() == build.md5
    assert sorted(p.name for p in target.parent.iterdir()) == [build.zip_name]
    build.cleanup()  # the compressed members are gone: the stream must come from the written file
    assert _bytes(build) == target.read_bytes()


def test_stream_detects_bytes_that_changed_after_hashing(field_pool: dict[int, Path], tmp_path: Path) -> None:
    first = build_catalog(None, _new(field_pool, [296, 297]), workdir=tmp_path / "w")
    prev = _write(first, tmp_path / "prev.zip")
    with open_previous(prev) as previous:
        build = build_catalog(previous, _new(field_pool, [423]), workdir=tmp_path / "w", verify=False)
        _ = build.md5
        _corrupt_member_data(prev, "field_297.csv")  # the file changes between the two passes
        with pytest.raises(CatalogError, match=r"announced md5"), build.stream() as s:
            s.read()


def test_a_local_header_whose_name_is_broken_utf8_is_reported_as_corrupt(tmp_path):
    """The central directory is sound but a local header's name is flagged UTF-8 and is not: a clear error."""
    import zipfile as zf_module

    import pytest

    from bot.catalog.build import NewField, build_catalog, open_previous
    from bot.catalog.errors import CorruptZipError
    from bot.local.sample import field_csv_bytes, write_field_csv

    old = tmp_path / "old.zip"
    with zf_module.ZipFile(old, "w", zf_module.ZIP_DEFLATED) as zf:
        zf.writestr("field_\u00ef96.csv", b"x")  # non-ASCII: the UTF-8 flag is set on both headers
        zf.writestr("field_296.csv", field_csv_bytes(296, 10))
    raw = bytearray(old.read_bytes())
    first = raw.index("\u00ef".encode())  # the first member's local header comes first
    raw[first:first + 2] = b"\xff\xfe"
    old.write_bytes(bytes(raw))

    new = write_field_csv(tmp_path / "field_297.csv", 297, 10)
    with open_previous(old) as previous, pytest.raises(CorruptZipError) as info:
        build = build_catalog(previous, [NewField(297, new)], workdir=tmp_path / "w")
        build.write_to(tmp_path / "new.zip")
    assert "local header" in str(info.value)
    assert not (tmp_path / "new.zip").exists()  # nothing half-written
