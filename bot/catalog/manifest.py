"""``MANIFEST.json``: per field, what the CSV is (rows, md5, size) and where it came from.

A field checked by the bot's validation also carries figures the release pictures need later without
reading the field again: ``classes`` (light curves scored >= 0.7 per model and class, non-zero ones only)
and ``footprint`` (RA/Dec bounds in degrees and rows per 1° sky cell, see ``bot.skymap.density``).

Unchanged fields carry their record forward from the previous release's manifest, so provenance
accumulates release after release. A field whose origin is unknown (a zip built before the bot) says so
with ``"source": null``. The JSON is deterministic: sorted keys, indent 1, final newline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MANIFEST_FORMAT = 1
SOURCE_KEYS = ("pr", "commit", "contributor", "version")


def source_record(
    provenance: Mapping[str, Any] | None, version_label: str | None = None
) -> dict[str, Any] | None:
    """Where a new field came from; the four known keys are always present (null when unknown)."""
    if provenance is None and version_label is None:
        return None
    record: dict[str, Any] = {key: None for key in SOURCE_KEYS}
    record.update(provenance or {})
    if record.get("version") is None:
        record["version"] = version_label
    return record


def field_record(
    field: int, member: str, *, rows: int | None, md5: str | None, size: int, source: Mapping[str, Any] | None,
    figures: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **dict(figures or {}),
        "field": field,
        "file": member,
        "rows": rows,
        "md5": md5,
        "size": size,
        "source": dict(source) if source is not None else None,
    }


def field_figures(
    class_counts: Mapping[str, Mapping[str, int]] | None,
    ra: tuple[float | None, float | None] = (None, None),
    dec: tuple[float | None, float | None] = (None, None),
    sky_cells: str | None = None,
) -> dict[str, Any]:
    """The ``classes`` and ``footprint`` entries of a field's record (each left out when unknown)."""
    out: dict[str, Any] = {}
    if class_counts is not None:
        out["classes"] = {m: {c: n for c, n in sorted(counts.items()) if n} for m, counts in class_counts.items()}
    if sky_cells is not None and None not in (*ra, *dec):
        out["footprint"] = {"ra": list(ra), "dec": list(dec), "cells": sky_cells}
    return out


def build_manifest(
    zip_name: str, records: Sequence[Mapping[str, Any]], release: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The manifest document; ``release`` records the version as a whole (its version, the commit it was
    built from, its pull requests): the next release starts from that commit, whatever git tags say."""
    records = sorted(records, key=lambda r: r["field"])
    rows = [r.get("rows") for r in records]
    extra = {"release": dict(release)} if release is not None else {}
    return {
        **extra,
        "manifest_format": MANIFEST_FORMAT,
        "catalog": zip_name,
        "field_count": len(records),
        # A total is only honest when every field's count is known.
        "rows": sum(rows) if all(isinstance(r, int) for r in rows) else None,
        "size": sum(r["size"] for r in records),
        "fields": [dict(r) for r in records],
    }


def dump_manifest(manifest: Mapping[str, Any]) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def parse_manifest(data: bytes) -> dict[int, dict[str, Any]]:
    """The per-field records of a manifest; raises ValueError saying what is wrong."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("fields"), list):
        raise ValueError('expected an object with a "fields" list')
    out: dict[int, dict[str, Any]] = {}
    for i, record in enumerate(doc["fields"]):
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("field"), int)
            or isinstance(record.get("field"), bool)
        ):
            raise ValueError(f'fields[{i}] is not an object with an integer "field"')
        if record["field"] in out:
            raise ValueError(f"field {record['field']} is listed twice")
        out[record["field"]] = record
    return out


def release_record(data: bytes) -> dict[str, Any] | None:
    """The manifest's ``release`` record (version, commit, prs), or None when it has none."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    release = doc.get("release") if isinstance(doc, dict) else None
    return release if isinstance(release, dict) else None
