"""Typed views of Zenodo's (InvenioRDM's) record, draft and file answers.

Parsing is lenient about shape (Zenodo has answered files as a list and as a dict keyed by name) and
strict about meaning: a missing id is an error, a missing DOI is simply ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

NOTES_TYPE = "notes"


@dataclass(frozen=True)
class FileEntry:
    key: str
    size: int | None
    md5: str | None  # hex digest without the "md5:" prefix; None until committed
    status: str  # "completed" once committed (or imported), "pending" while an upload is open

    @property
    def committed(self) -> bool:
        return self.status == "completed" and self.md5 is not None


@dataclass(frozen=True)
class Record:
    """A published version (or, as the subclass Draft, an unpublished one)."""

    id: str
    concept_id: str | None
    version: str | None
    publication_date: str | None
    doi: str | None  # reserved on a draft, registered once published
    files: dict[str, FileEntry]
    notes_html: str | None
    metadata: dict[str, Any]
    is_published: bool
    html_url: str | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        if "id" not in data:
            raise ValueError("record answer has no id")
        metadata = data.get("metadata") or {}
        parent = data.get("parent") or {}
        concept = parent.get("id") or data.get("conceptrecid")
        files_block = data.get("files")
        entries = files_block.get("entries") if isinstance(files_block, dict) else files_block
        links = data.get("links") or {}
        return cls(
            id=str(data["id"]),
            concept_id=str(concept) if concept is not None else None,
            version=metadata.get("version"),
            publication_date=metadata.get("publication_date"),
            doi=doi_of(data),
            files=parse_file_entries(entries) if entries is not None else {},
            notes_html=notes_of(metadata),
            metadata=metadata,
            is_published=bool(data.get("is_published", data.get("status") == "published")),
            html_url=links.get("self_html") or links.get("html"),
            raw=data,
        )


@dataclass(frozen=True)
class Draft(Record):
    """An unpublished version; its ``files`` are only filled when read from the files listing."""


def doi_of(data: dict[str, Any]) -> str | None:
    doi = ((data.get("pids") or {}).get("doi") or {}).get("identifier")
    return str(doi) if doi else None


def notes_of(metadata: dict[str, Any]) -> str | None:
    """The html of the first additional description of type "notes", if any."""
    for desc in metadata.get("additional_descriptions") or []:
        if ((desc.get("type") or {}).get("id")) == NOTES_TYPE:
            text = desc.get("description")
            return str(text) if text is not None else None
    return None


def parse_file_entry(item: dict[str, Any]) -> FileEntry:
    checksum = item.get("checksum") or ""
    md5 = checksum.split(":", 1)[1] if checksum.startswith("md5:") else None
    size = item.get("size")
    return FileEntry(
        key=str(item["key"]),
        size=int(size) if size is not None else None,
        md5=md5,
        status=str(item.get("status") or ("completed" if md5 else "pending")),
    )


def parse_file_entries(entries: Any) -> dict[str, FileEntry]:
    """Files as ``{"entries": [...]}``, a bare list, or a dict keyed by name -> {key: FileEntry}."""
    if isinstance(entries, dict) and "entries" in entries:
        entries = entries["entries"]
    items = list(entries.values()) if isinstance(entries, dict) else list(entries or [])
    out: dict[str, FileEntry] = {}
    for item in items:
        entry = parse_file_entry(item)
        out[entry.key] = entry
    return out
