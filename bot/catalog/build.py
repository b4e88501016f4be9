"""Plan and assemble a catalog zip from the previous release's zip plus new field files.

New and replacing fields are deflated into ``workdir`` first (cost and disk: the new data only). Every other
field is carried over by copying its compressed bytes from the previous zip; the writer re-emits each
member's local header from the central directory, so carried and fresh members look alike byte for byte.
Members go in field order, other carried members after them by name, ``MANIFEST.json`` last.

Getting the bytes out, and the md5 Zenodo will check:
- ``stream()`` needs no disk and reads the sources once: it hashes the bytes as they go out, so an upload
  learns the md5 from the same pass (``md5`` afterwards is free). Carried members are inflated on the
  side (CPU only) to check each CRC-32; a damaged member stops the stream before its end.
- ``write_to(path)`` writes the zip (atomically) and hashes it on the way: one read of the previous zip,
  but the whole catalog on local disk. Afterwards ``stream()`` serves that file and checks its md5.
- ``md5`` before any pass costs a hashing pass of its own (over HTTP, a second download of the carried
  bytes): only a rerun that must recognise an earlier upload needs it.
``verify=False`` skips the CRC checks altogether.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bot.catalog.compress import CompressedMember, compress_file, deflate_bytes
from bot.catalog.errors import CatalogError, CatalogUsageError, CorruptZipError
from bot.catalog.limits import ZENODO_MAX_FILE_BYTES, check_file_size
from bot.catalog.manifest import build_manifest, dump_manifest, field_record, source_record
from bot.catalog.previous import PreviousCatalog, open_previous
from bot.catalog.stream import ChunkStream
from bot.catalog.zipread import Cursor, ZipEntry, iter_member_data
from bot.catalog.zipwrite import DEFLATED, MemberInfo, ZipLayout
from bot.progress import byte_progress
from bot.scope import (
    MANIFEST_NAME,
    catalog_zip_name,
    dump_fields_json,
    field_from_filename,
    is_valid_field_number,
    member_name,
)

__all__ = ["CatalogBuild", "NewField", "PreviousCatalog", "build_catalog", "open_previous"]

CHUNK = 1 << 20


@dataclass(frozen=True)
class NewField:
    """A field file to add or replace. rows/md5/size come from validation when known (checked here)."""

    field: int
    path: Path
    rows: int | None = None
    md5: str | None = None
    size: int | None = None
    provenance: dict[str, Any] | None = (
        None  # {"pr": 12, "commit": "...", "contributor": "...", "version": "..."}
    )
    figures: dict[str, Any] | None = None  # manifest entries from validation (manifest.field_figures)
    compressed: CompressedMember | None = None  # already deflated (the source file may be gone by now)


@dataclass(frozen=True)
class _New:
    member: CompressedMember


@dataclass(frozen=True)
class _Carried:
    entry: ZipEntry
    region_end: int
    run: int  # members of one run are contiguous in the previous zip and consecutive in the new one


@dataclass(frozen=True)
class _InMemory:
    data: bytes


_Data = _New | _Carried | _InMemory


class CatalogBuild:
    """The planned catalog: its name, contents, size and bytes; new members are already compressed."""

    def __init__(
        self,
        *,
        zip_name: str,
        fields_json: bytes,
        manifest: dict[str, Any],
        layout: ZipLayout,
        data: Sequence[_Data],
        previous: PreviousCatalog | None,
        added: list[int],
        replaced: list[int],
        removed: list[int],
        carried: list[int],
        verify: bool,
        temp_files: list[Path],
    ) -> None:
        self.zip_name = zip_name
        self.fields = sorted([*added, *replaced, *carried])
        self.fields_json = fields_json
        self.manifest = manifest
        self.size = layout.size
        self.added, self.replaced, self.removed, self.carried = added, replaced, removed, carried
        self.members = [m.name for m in layout.members]
        self.verify = verify
        self._layout = layout
        self._data = list(data)
        self._previous = previous
        self._temp_files = temp_files
        self._md5: str | None = None
        self._written: Path | None = None
        self.carried_bytes = sum(d.entry.compressed_size for d in self._data if isinstance(d, _Carried))
        self._last_of_run = {d.run: i for i, d in enumerate(self._data) if isinstance(d, _Carried)}
        self.new_bytes = sum(d.member.compressed_size for d in self._data if isinstance(d, _New))

    # -- the bytes -------------------------------------------------------------------------------------

    def iter_bytes(self, *, verify: bool | None = None) -> Iterator[bytes]:
        """The zip's bytes from the sources (previous zip, compressed temp files), verified as they pass."""
        verify = self.verify if verify is None else verify
        cursors: dict[int, Cursor] = {}
        try:
            yield from self._layout.iter_bytes(
                [self._member_chunks(i, d, cursors, verify) for i, d in enumerate(self._data)]
            )
        finally:
            for cursor in cursors.values():
                cursor.close()
            release = getattr(self._previous.source, "release", None) if self._previous is not None else None
            if release is not None:
                release()  # a whole-file read left open past the last carried byte: end it now

    def _member_chunks(
        self, index: int, data: _Data, cursors: dict[int, Cursor], verify: bool
    ) -> Iterator[bytes]:
        if isinstance(data, _InMemory):
            yield data.data
        elif isinstance(data, _New):
            with data.member.data_path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
        else:
            assert self._previous is not None
            cursor = cursors.get(data.run)
            if cursor is None:
                end = max(d.region_end for d in self._data if isinstance(d, _Carried) and d.run == data.run)
                cursor = cursors[data.run] = Cursor(self._previous.source, data.entry.header_offset, end)
            yield from iter_member_data(cursor, data.entry, self._previous.name, verify=verify)
            cursor.skip(data.region_end - cursor.pos)  # a data descriptor, if the old zip had them
            if index == self._last_of_run[data.run]:
                cursors.pop(data.run).close()  # one open read at a time, whatever the member order

    @property
    def md5(self) -> str:
        """The zip's md5; computed by a hashing pass unless ``write_to`` already hashed it."""
        if self._md5 is None:
            digest = hashlib.md5()
            for chunk in self._source_chunks():
                digest.update(chunk)
            self._md5 = digest.hexdigest()
        return self._md5

    def _source_chunks(self, *, verify: bool | None = None) -> Iterator[bytes]:
        """Read back the written zip when there is one (no second download), else build the bytes."""
        if (
            self._written is not None
            and self._written.is_file()
            and self._written.stat().st_size == self.size
        ):
            with self._written.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
        else:
            yield from self.iter_bytes(verify=verify)

    @property
    def md5_known(self) -> bool:
        """True once a pass (a stream read to its end, ``write_to`` or ``md5``) has hashed the bytes."""
        return self._md5 is not None

    @property
    def previous_read(self) -> str:
        """How the previous zip was read (byte ranges, or front to back), for logs and summaries."""
        if self._previous is None:
            return "no previous zip"
        describe = getattr(self._previous.source, "describe", None)
        return describe() if describe is not None else "a local file"

    def stream(self) -> BinaryIO:
        """A readable of exactly ``size`` bytes, built as it is read: one pass, hashed on the way.

        When an earlier pass already knows the md5, bytes that hash otherwise raise at the end; otherwise
        the stream's own hash becomes ``md5`` once it has been read to the end.
        """
        expected = self._md5

        def hashed() -> Iterator[bytes]:
            digest = hashlib.md5()
            # Bytes that hash to the md5 of a verified pass are the verified bytes: no second inflate.
            for chunk in self._source_chunks(verify=None if expected is None else False):
                digest.update(chunk)
                yield chunk
            if expected is not None and digest.hexdigest() != expected:
                raise CatalogError(
                    f"the streamed bytes hash to {digest.hexdigest()}, not the announced md5 {expected}",
                    hint="the previous zip changed while the release was built: rerun the build",
                    location=self.zip_name,
                )
            self._md5 = digest.hexdigest()

        return ChunkStream(hashed(), self.size)  # type: ignore[return-value]

    def write_to(self, path: str | Path, *, progress: bool = False) -> None:
        """Write the zip to ``path`` atomically (a temp name beside it, then a rename); hashes it too."""
        path = Path(path)
        digest = hashlib.md5()
        written = 0
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        tmp = Path(tmp_name)
        try:
            with (
                os.fdopen(fd, "wb") as out,
                byte_progress(f"writing {path.name}", self.size, progress) as tick,
            ):
                for chunk in self._source_chunks():
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    tick(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            if written != self.size:
                raise CatalogError(f"wrote {written} bytes, planned {self.size}", location=str(path))
            if self._md5 is not None and self._md5 != digest.hexdigest():
                raise CatalogError(
                    f"the bytes hash to {digest.hexdigest()}, an earlier pass gave {self._md5}",
                    hint="the previous zip changed while the release was built: rerun the build",
                    location=str(path),
                )
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._md5 = digest.hexdigest()
        self._written = path

    def write_fields_json(self, path: str | Path) -> None:
        _atomic_write(Path(path), self.fields_json)

    # -- housekeeping ----------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Delete the compressed temp files (the build cannot stream afterwards unless it was written)."""
        for f in self._temp_files:
            f.unlink(missing_ok=True)

    def __enter__(self) -> CatalogBuild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _check_request(
    previous: PreviousCatalog | None, new_fields: Sequence[NewField], remove: set[int]
) -> None:
    seen: dict[int, Path] = {}
    for nf in new_fields:
        where = str(nf.path)
        if not is_valid_field_number(nf.field):
            raise CatalogError(
                f"{nf.field} is not a ZTF field number", hint="fields run 1-881 and 1001-1897", location=where
            )
        named = field_from_filename(nf.path.name)
        if named is not None and named != nf.field:
            raise CatalogError(f"the file is named for field {named}, not {nf.field}", location=where)
        if nf.field in seen:
            raise CatalogUsageError(
                f"field {nf.field} is given twice ({seen[nf.field]} and {nf.path})",
                hint="pass one file per field",
            )
        seen[nf.field] = nf.path
        if not nf.path.is_file():
            raise CatalogUsageError(f"{where}: no such file", hint="check the path")
    both = sorted(remove & set(seen))
    if both:
        raise CatalogUsageError(
            f"field {both[0]} is both removed and added",
            hint="a replacement needs no --remove; drop one of the two",
        )
    have = set(previous.fields) if previous is not None else set()
    missing = sorted(remove - have)
    if missing:
        raise CatalogError(
            f"cannot remove field {missing[0]}: the previous catalog does not hold it",
            hint=f"the previous catalog holds {len(have)} fields; check the field number",
            location="--remove",
        )


def _normalise_folder(folder: str) -> str:
    folder = folder.strip("/")
    if "/" in folder or folder in (".", ".."):
        raise CatalogUsageError(
            f"zip folder {folder!r} is not a single folder name",
            hint='use "" (top level) or e.g. preds_dnn_xgb',
        )
    return folder


def _gz_size_hint(path: Path) -> int:
    """The uncompressed size a gzip trailer records (mod 4 GiB): good enough for a progress bar."""
    if not path.name.endswith(".gz"):
        return path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(path.stat().st_size - 4, 0))
        return int.from_bytes(f.read(4), "little")


def build_catalog(
    previous: PreviousCatalog | None,
    new_fields: Sequence[NewField],
    *,
    remove: Iterable[int] = (),
    workdir: Path,
    folder: str | None = None,
    compression_level: int = 6,
    progress: bool = False,
    version_label: str | None = None,
    verify: bool = True,
    max_file_bytes: int = ZENODO_MAX_FILE_BYTES,
    force_zip64: bool = False,
    on_compressed: Callable[[int, CompressedMember], None] | None = None,
    release: Mapping[str, Any] | None = None,
) -> CatalogBuild:
    """Plan the new catalog and compress its new members into ``workdir``.

    ``folder``: where the field CSVs go inside the zip; None keeps the previous zip's layout (top level when
    building from scratch). ``version_label`` fills the manifest's ``version`` of new fields that lack one;
    ``release`` is the manifest's record of the release as a whole.
    """
    remove_set = set(remove)
    new_fields = list(new_fields)
    _check_request(previous, new_fields, remove_set)
    if not 0 <= compression_level <= 9:
        raise CatalogUsageError(f"compression level {compression_level} is not 0-9", hint="the default is 6")
    folder = _normalise_folder(folder if folder is not None else (previous.folder if previous else ""))
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sets = _FieldSets.of(previous, new_fields, remove_set)
    zip_name = catalog_zip_name(len(sets.fields))
    # New members first: their compressed sizes are needed to lay the zip out.
    compressed, temp_files = _compress_new(new_fields, workdir, compression_level, progress, on_compressed)
    members, data, records = _members(previous, sets, {nf.field: nf for nf in new_fields}, compressed, folder,
                                      version_label)
    manifest = build_manifest(zip_name, records, release)
    members.append(_manifest_member(manifest, compression_level, data))
    try:
        layout = ZipLayout.plan(members, force_zip64=force_zip64)
    except ValueError as exc:  # a non-field member clashing with a field's new name
        raise CatalogError(str(exc), hint="rename or drop the clashing member", location=zip_name) from None
    check_file_size(zip_name, layout.size, max_file_bytes=max_file_bytes)
    return CatalogBuild(
        zip_name=zip_name, fields_json=dump_fields_json(sets.fields), manifest=manifest, layout=layout,
        data=_assign_runs(data), previous=previous, added=sets.added, replaced=sets.replaced,
        removed=sorted(remove_set), carried=sets.carried, verify=verify, temp_files=temp_files,
    )


@dataclass(frozen=True)
class _FieldSets:
    """Which fields the new catalog holds, and why."""

    added: list[int]
    replaced: list[int]
    carried: list[int]

    @property
    def fields(self) -> list[int]:
        return sorted([*self.added, *self.replaced, *self.carried])

    @classmethod
    def of(cls, previous: PreviousCatalog | None, new_fields: list[NewField], remove: set[int]) -> _FieldSets:
        previous_fields = set(previous.fields) if previous else set()
        new = {nf.field for nf in new_fields}
        sets = cls(sorted(new - previous_fields), sorted(new & previous_fields),
                   sorted(previous_fields - remove - new))
        if not sets.fields:
            raise CatalogError(
                "the new catalog would hold no fields",
                hint="keep at least one field, or add field files",
                location="catalog",
            )
        return sets


def _compress_new(
    new_fields: list[NewField], workdir: Path, level: int, progress: bool,
    on_compressed: Callable[[int, CompressedMember], None] | None,
) -> tuple[dict[int, CompressedMember], list[Path]]:
    """The new members, deflated (or as the validation pass already deflated them), and their temp files."""
    compressed: dict[int, CompressedMember] = {}
    temp_files: list[Path] = []
    total_in = sum(_gz_size_hint(nf.path) for nf in new_fields if nf.compressed is None)
    try:
        with byte_progress("compressing new fields", total_in, progress) as tick:
            for nf in sorted(new_fields, key=lambda f: f.field):
                if nf.compressed is not None:
                    temp_files.append(nf.compressed.data_path)
                    _check_against_validation(nf, nf.compressed)
                    compressed[nf.field] = nf.compressed
                    continue
                fd, tmp = tempfile.mkstemp(prefix=f".field_{nf.field}.", suffix=".deflate", dir=workdir)
                os.close(fd)
                temp_files.append(Path(tmp))
                member = compress_file(nf.path, Path(tmp), level=level, on_progress=tick)
                _check_against_validation(nf, member)
                compressed[nf.field] = member
                if on_compressed is not None:
                    on_compressed(nf.field, member)
    except BaseException:
        for f in temp_files:
            f.unlink(missing_ok=True)
        raise
    return compressed, temp_files


def _members(
    previous: PreviousCatalog | None, sets: _FieldSets, new_by_field: dict[int, NewField],
    compressed: dict[int, CompressedMember], folder: str, version_label: str | None,
) -> tuple[list[MemberInfo], list[_Data], list[dict[str, Any]]]:
    """The zip's members in order (fields, then the previous zip's other members), their data and the
    manifest's records."""
    members: list[MemberInfo] = []
    data: list[_Data] = []
    records: list[dict[str, Any]] = []
    old_manifest = previous.manifest if previous else None
    for field in sets.fields:
        name = member_name(field, folder)
        if field in compressed:
            nf, cm = new_by_field[field], compressed[field]
            members.append(cm.info(name))
            data.append(_New(cm))
            rows = nf.rows if nf.rows is not None else cm.rows
            records.append(field_record(field, name, rows=rows, md5=cm.md5, size=cm.size,
                                        source=source_record(nf.provenance, version_label), figures=nf.figures))
        else:
            assert previous is not None
            entry = previous.field_entries[field]
            members.append(entry.info(name))
            data.append(_Carried(entry, previous.region_ends[entry.index], run=-1))
            records.append(_carried_record(previous, old_manifest, field, entry, name))
    if previous is not None:
        for entry in sorted(previous.other_entries, key=lambda e: e.name):
            members.append(entry.info())
            data.append(_Carried(entry, previous.region_ends[entry.index], run=-1))
    return members, data, records


def _manifest_member(manifest: dict[str, Any], level: int, data: list[_Data]) -> MemberInfo:
    """MANIFEST.json, deflated in memory; its data joins ``data``."""
    manifest_bytes = dump_manifest(manifest)
    packed = deflate_bytes(manifest_bytes, level)
    data.append(_InMemory(packed))
    return MemberInfo(MANIFEST_NAME, DEFLATED, zlib.crc32(manifest_bytes), len(packed), len(manifest_bytes))


def _assign_runs(data: list[_Data]) -> list[_Data]:
    """Group carried members that follow each other in both zips, so each group is one range read."""
    out: list[_Data] = []
    run = -1
    prev: _Data | None = None
    for d in data:
        if isinstance(d, _Carried):
            if not (isinstance(prev, _Carried) and prev.region_end == d.entry.header_offset):
                run += 1
            d = _Carried(d.entry, d.region_end, run)
        out.append(d)
        prev = d
    return out


def _check_against_validation(nf: NewField, cm: CompressedMember) -> None:
    hint = "the file changed after it was validated: validate it again and rebuild"
    if nf.size is not None and nf.size != cm.size:
        raise CatalogError(f"is {cm.size} bytes, validation saw {nf.size}", hint=hint, location=str(nf.path))
    if nf.md5 is not None and nf.md5.lower() != cm.md5:
        raise CatalogError(f"has md5 {cm.md5}, validation saw {nf.md5}", hint=hint, location=str(nf.path))


def _carried_record(
    previous: PreviousCatalog, old: dict[int, dict[str, Any]] | None, field: int, entry: ZipEntry, name: str
) -> dict[str, Any]:
    record = (old or {}).get(field)
    if record is None:  # a zip from before the bot: what the CSV is we know, where it came from we do not
        return field_record(field, name, rows=None, md5=None, size=entry.size, source=None)
    if record.get("size") != entry.size:
        raise CorruptZipError(
            previous.name,
            f"says {entry.name} is {record.get('size')} bytes, the zip's directory says {entry.size}",
            member=MANIFEST_NAME,
            hint="the manifest does not match this zip: fix the previous release, or drop its MANIFEST.json",
        )
    return {**record, "file": name}
