"""The release notes as one value, built from a change set; the Markdown and HTML renderers read it.

Both renderings come from this model so they never disagree on a number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import UsageError
from bot.notes.changeset import ChangeSet, FieldChange, PullRef
from bot.scope import CLASS_LABELS, CLASSES, MODELS, POSITIVE_THRESHOLD, catalog_zip_name

# Control characters (incl. newlines) and bidirectional overrides, which could hide or reorder text.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")

_SHA = re.compile(r"^[0-9a-f]{7,64}$")

TOP_CLASSES = 5  # classes shown in the summary; the full table follows
INLINE_FIELDS = 12  # longer field lists are summarised, with the full list in a table


@dataclass(frozen=True)
class FieldLine:
    field: int
    rows: int | None
    rows_before: int | None
    md5: str | None
    size: int | None


@dataclass(frozen=True)
class ClassLine:
    code: str  # SCoPe's class code, e.g. "rrab"
    label: str  # its human label, e.g. "RR Lyrae ab"
    counts: tuple[int, ...]  # light curves scored >= threshold, one per model in MODELS order

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class FileLine:
    key: str  # the file's name on Zenodo
    size: int | None
    md5: str | None


@dataclass(frozen=True)
class ReleaseNotes:
    version: str
    date: str  # ISO date of the release
    previous_version: str | None
    added: tuple[FieldLine, ...]
    replaced: tuple[FieldLine, ...]
    removed: tuple[FieldLine, ...]
    fields_before: int
    fields_after: int
    light_curves_before: int | None
    light_curves_after: int | None
    # Class counts over the new files (added + replaced); None when no file had statistics.
    classes: tuple[ClassLine, ...] | None
    top_classes: tuple[ClassLine, ...]
    classes_from: int  # how many new files the class counts cover
    new_files: int  # added + replaced
    pulls: tuple[PullRef, ...]
    contributors: tuple[str, ...]
    other_authors: tuple[str, ...]
    merge_commit: str
    merge_commit_url: str | None
    files: tuple[FileLine, ...]
    threshold: float = POSITIVE_THRESHOLD
    models: tuple[str, ...] = MODELS
    # Class counts over the whole catalog after the release (from its manifest); None when unknown.
    catalog_classes: tuple[ClassLine, ...] | None = None
    catalog_classes_from: int = 0  # how many of the catalog's fields those counts cover

    @property
    def changed_fields(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.removed)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--format json`` output)."""
        out = dataclasses.asdict(self)
        for name in ("classes", "top_classes", "catalog_classes"):
            if out[name] is not None:
                out[name] = [
                    {"code": c.code, "label": c.label, **dict(zip(self.models, c.counts, strict=True))}
                    for c in getattr(self, name)
                ]
        for pr in out["pulls"]:
            pr["labels"] = list(pr["labels"])
        return out


def _line(c: FieldChange) -> FieldLine:
    return FieldLine(c.field, c.rows, c.rows_before, c.md5, c.size)


def _iso_date(date: dt.date | str) -> str:
    if isinstance(date, dt.datetime):
        return date.date().isoformat()
    if isinstance(date, dt.date):
        return date.isoformat()
    try:
        return dt.date.fromisoformat(str(date)).isoformat()
    except ValueError:
        raise UsageError(f"release date {date!r} is not a date", hint="use YYYY-MM-DD") from None


def class_table(changes: ChangeSet) -> tuple[tuple[ClassLine, ...] | None, int]:
    """Per class, the new files' light curves above the threshold per model; and how many files counted."""
    totals = {m: dict.fromkeys(CLASSES, 0) for m in MODELS}
    counted = 0
    for c in changes.changes:
        if c.kind == "removed" or c.class_counts is None:
            continue
        counted += 1
        for m in MODELS:
            for cls, n in c.class_counts.get(m, {}).items():
                if cls in totals[m]:
                    totals[m][cls] += n
    if counted == 0:
        return None, 0
    lines = tuple(ClassLine(cls, CLASS_LABELS[cls], tuple(totals[m][cls] for m in MODELS)) for cls in CLASSES)
    return lines, counted


def manifest_class_table(records: Iterable[Mapping[str, Any]]) -> tuple[tuple[ClassLine, ...] | None, int]:
    """Per class, the light curves above the threshold per model over a manifest's fields; and how many
    fields had counts (a field from before the manifest carried them has none)."""
    totals = {m: dict.fromkeys(CLASSES, 0) for m in MODELS}
    counted = 0
    for record in records:
        counts = record.get("classes")
        if not isinstance(counts, Mapping):
            continue
        counted += 1
        for m in MODELS:
            for cls, n in (counts.get(m) or {}).items():
                if cls in totals[m] and isinstance(n, int) and not isinstance(n, bool):
                    totals[m][cls] += n
    if counted == 0:
        return None, 0
    lines = tuple(ClassLine(cls, CLASS_LABELS[cls], tuple(totals[m][cls] for m in MODELS)) for cls in CLASSES)
    return lines, counted


def top_classes(lines: tuple[ClassLine, ...] | None, n: int = TOP_CLASSES) -> tuple[ClassLine, ...]:
    """The ``n`` classes with the most positives over both models (ties in SCoPe's order), zeros left out."""
    if not lines:
        return ()
    order = {c.code: i for i, c in enumerate(lines)}
    ranked = sorted((c for c in lines if c.total > 0), key=lambda c: (-c.total, order[c.code]))
    return tuple(ranked[:n])


def build_notes(
    changes: ChangeSet,
    version: str,
    date: dt.date | str,
    files: Mapping[str, tuple[int | None, str | None]] | None = None,
    *,
    field_checksums: bool = True,
    catalog: Iterable[Mapping[str, Any]] | None = None,
) -> ReleaseNotes:
    """The notes of releasing ``changes`` as ``version`` on ``date``.

    ``files`` maps a Zenodo file name (the catalog zip, fields.json) to (size, md5) where known; the
    catalog zip's expected name is listed even when its checksum is not known yet.
    ``field_checksums`` adds each new field file's md5 from the validation statistics.
    ``catalog``: the manifest's field records of the catalog after the release, for its class counts.
    """
    classes, counted = class_table(changes)
    catalog_classes, catalog_counted = manifest_class_table(catalog) if catalog is not None else (None, 0)
    file_lines = [FileLine(k, s, m) for k, (s, m) in (files or {}).items()]
    zip_name = catalog_zip_name(len(changes.fields_after))
    if not any(f.key == zip_name for f in file_lines):
        file_lines.insert(0, FileLine(zip_name, None, None))
    if field_checksums:
        file_lines += [
            FileLine(f"field_{c.field}.csv", c.size, c.md5)
            for c in changes.changes
            if c.kind != "removed" and c.md5
        ]
    return ReleaseNotes(
        version=version,
        date=_iso_date(date),
        previous_version=changes.previous_version,
        added=tuple(_line(c) for c in changes.of_kind("added")),
        replaced=tuple(_line(c) for c in changes.of_kind("replaced")),
        removed=tuple(_line(c) for c in changes.of_kind("removed")),
        fields_before=len(changes.fields_before),
        fields_after=len(changes.fields_after),
        light_curves_before=changes.light_curves_before,
        light_curves_after=changes.light_curves_after,
        classes=classes,
        top_classes=top_classes(classes),
        classes_from=counted,
        new_files=len(changes.of_kind("added")) + len(changes.of_kind("replaced")),
        pulls=changes.pulls,
        contributors=changes.contributors,
        other_authors=changes.other_authors,
        merge_commit=changes.merge_commit,
        merge_commit_url=changes.merge_commit_url,
        files=tuple(file_lines),
        catalog_classes=catalog_classes,
        catalog_classes_from=catalog_counted,
    )


# --- wording shared by both renderings ------------------------------------------------------------------


def plain_text(value: object) -> str:
    """One visible line of untrusted text: control and bidi characters become spaces, runs of space one."""
    return " ".join(_INVISIBLE.sub(" ", str(value)).split())


def short_commit(sha: str) -> str:
    """The first 12 hex digits of a commit id; "unknown" for anything that is not one."""
    return sha[:12] if _SHA.match(sha) else "unknown"


def count_text(n: int | None) -> str:
    return "unknown" if n is None else f"{n:,}"


def size_text(n: int | None) -> str:
    if n is None:
        return "unknown"
    if n < 1000:
        return f"{n:,} bytes"
    value, unit = n / 1000, "KB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def rows_text(line: FieldLine, kind: str) -> str:
    """``380,571 rows``; for a replacement ``20,000 → 20,500 rows``; for a removal the rows it had."""
    if kind == "removed":
        return f"{count_text(line.rows_before)} rows" if line.rows_before is not None else "rows unknown"
    if kind == "replaced" and line.rows_before is not None:
        return f"{count_text(line.rows_before)} → {count_text(line.rows)} rows"
    return f"{count_text(line.rows)} rows" if line.rows is not None else "rows unknown"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def headline(notes: ReleaseNotes) -> str:
    """``3 fields added, 1 replaced`` (plain text, no values from pull requests)."""
    parts: list[str] = []
    for kind, lines in (("added", notes.added), ("replaced", notes.replaced), ("removed", notes.removed)):
        if lines:
            parts.append(f"{plural(len(lines), 'field')} {kind}" if not parts else f"{len(lines):,} {kind}")
    return ", ".join(parts) if parts else "no field changed"


def totals_text(notes: ReleaseNotes) -> str:
    lc = ""
    if notes.light_curves_before is not None or notes.light_curves_after is not None:
        before, after = count_text(notes.light_curves_before), count_text(notes.light_curves_after)
        lc = f"; light curves {before} → {after}"
    return f"fields {notes.fields_before:,} → {notes.fields_after:,}{lc}"


def classes_caption(notes: ReleaseNotes) -> str:
    models = " and ".join(m.upper() for m in notes.models)
    scope = "the new field files" if notes.classes_from == notes.new_files else (
        f"{notes.classes_from:,} of the {notes.new_files:,} new field files (the others have no statistics)"
    )
    return f"Light curves scored ≥ {notes.threshold} by {models} in {scope}"


def catalog_caption(notes: ReleaseNotes) -> str:
    scope = f"{plural(notes.fields_after, 'field')}" if notes.catalog_classes_from == notes.fields_after else (
        f"{notes.catalog_classes_from:,} of its {notes.fields_after:,} fields (the others have no class counts "
        "in the manifest)"
    )
    return f"The catalog after {notes.version}: {scope}"
