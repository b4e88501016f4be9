"""Zenodo's size and count limits, checked before anything is written or uploaded."""

from __future__ import annotations

from collections.abc import Mapping

from bot.catalog.errors import CatalogError

# Zenodo: 50 GB per file and per record (its default quota), 100 files per record.
ZENODO_MAX_FILE_BYTES = 50 * 10**9
ZENODO_MAX_RECORD_BYTES = 50 * 10**9
ZENODO_MAX_FILES = 100

SPLIT_HINT = (
    "split the catalog into several zips, each under the limit: for example one zip per ZTF grid "
    "(fields 1-881 and 1001-1897) or per range of field numbers, each with its own fields list; "
    "or ask Zenodo support for a larger quota for this record"
)


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def check_file_size(name: str, size: int, *, max_file_bytes: int = ZENODO_MAX_FILE_BYTES) -> None:
    if size > max_file_bytes:
        raise CatalogError(
            f"would be {_gb(size)} ({size} bytes); Zenodo accepts at most {_gb(max_file_bytes)} per file",
            hint=SPLIT_HINT,
            location=name,
        )


def check_record_limits(
    files: Mapping[str, int],
    *,
    max_file_bytes: int = ZENODO_MAX_FILE_BYTES,
    max_record_bytes: int = ZENODO_MAX_RECORD_BYTES,
    max_files: int = ZENODO_MAX_FILES,
) -> None:
    """Check a whole record's files (name -> size) against Zenodo's limits; raise CatalogError if over."""
    for name, size in sorted(files.items()):
        check_file_size(name, size, max_file_bytes=max_file_bytes)
    if len(files) > max_files:
        raise CatalogError(
            f"the record would hold {len(files)} files; Zenodo accepts at most {max_files}",
            hint="bundle small files into one zip, or split the release into several records",
            location="Zenodo record",
        )
    total = sum(files.values())
    if total > max_record_bytes:
        raise CatalogError(
            f"the record's files would total {_gb(total)}; Zenodo allows {_gb(max_record_bytes)} per record",
            hint=SPLIT_HINT,
            location="Zenodo record",
        )
