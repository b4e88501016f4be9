"""The previous release's catalog zip, seen through its central directory: fields, layout, manifest."""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.catalog.errors import CorruptZipError
from bot.catalog.manifest import parse_manifest
from bot.catalog.sources import ByteSource, HttpSource, open_source
from bot.catalog.zipread import CentralDirectory, ZipEntry, read_central_directory, read_member
from bot.scope import MANIFEST_NAME, field_from_member


def _folder_of(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


class PreviousCatalog:
    """A catalog zip read from a local path or a URL; only its directories are read when opened."""

    def __init__(self, source: ByteSource) -> None:
        self.source = source
        self.name = source.name
        self.directory: CentralDirectory = read_central_directory(source)
        self.field_entries: dict[int, ZipEntry] = {}
        self.manifest_entry: ZipEntry | None = None
        self.other_entries: list[ZipEntry] = []  # carried as they are
        for entry in self.directory.entries:
            field = field_from_member(entry.name)
            if field is not None:
                if field in self.field_entries:
                    raise CorruptZipError(
                        self.name,
                        f"holds field {field} twice ({self.field_entries[field].name} and {entry.name})",
                        member=entry.name,
                        hint="remove one of the two members and publish a fixed zip first",
                    )
                self.field_entries[field] = entry
            elif entry.name.rsplit("/", 1)[-1] == MANIFEST_NAME and _folder_of(entry.name).count("/") == 0:
                self.manifest_entry = entry
            else:
                self.other_entries.append(entry)
        self.region_ends = self.directory.region_ends()

    @property
    def fields(self) -> list[int]:
        return sorted(self.field_entries)

    @property
    def file_name(self) -> str:
        """The zip's file name (``predictions_dnn_xgb_<N>_fields.zip``), from the path or the URL."""
        if isinstance(self.source, HttpSource):
            return self.source.file_name
        return Path(self.name).name

    @property
    def source_description(self) -> str:
        """Where the zip is read from and how (byte ranges, or front to back)."""
        if isinstance(self.source, HttpSource):
            return f"{self.source.name}, read by {self.source.describe()}"
        return f"{self.name}, a local file"

    @property
    def folder(self) -> str:
        """The folder the field CSVs sit in ("" for the top level); the most common one if they differ."""
        counts = Counter(_folder_of(e.name) for e in self.field_entries.values())
        if not counts:
            return ""
        return min(counts, key=lambda folder: (-counts[folder], folder))

    @cached_property
    def manifest(self) -> dict[int, dict[str, Any]] | None:
        """Per-field records of the previous ``MANIFEST.json``, or None when the zip has none."""
        if self.manifest_entry is None:
            return None
        data = read_member(self.source, self.directory, self.manifest_entry)
        try:
            return parse_manifest(data)
        except ValueError as exc:
            raise CorruptZipError(
                self.name,
                str(exc),
                member=self.manifest_entry.name,
                hint="fix or remove MANIFEST.json in the previous zip (without it, provenance starts afresh)",
            ) from None

    def read_member(self, name: str) -> bytes:
        """A member's whole inflated content (meant for small members)."""
        for entry in self.directory.entries:
            if entry.name == name:
                return read_member(self.source, self.directory, entry)
        raise KeyError(name)

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> PreviousCatalog:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def open_previous(source: str | Path, token: str | None = None, **http_options: Any) -> PreviousCatalog:
    """Open the previous release's zip: a local path or an http(s) URL (read with Range requests)."""
    byte_source = open_source(source, token, **http_options)
    try:
        return PreviousCatalog(byte_source)
    except BaseException:
        byte_source.close()
        raise
