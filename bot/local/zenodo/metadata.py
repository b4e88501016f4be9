"""Draft metadata checks, the way InvenioRDM's schema treats a saved draft.

Saving a draft is lenient: fields that fail their own checks are dropped and reported, the rest is kept.
An unknown vocabulary id is different: it rejects the whole save (400 ``Not a valid value.``).
Publishing is strict: the required fields must all be present.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

RESOURCE_TYPES = frozenset({
    "dataset", "software", "publication", "publication-article", "publication-report",
    "publication-technicalnote", "publication-datamanagementplan", "publication-other", "poster",
    "presentation", "image", "image-figure", "image-plot", "image-other", "video", "lesson",
    "physicalobject", "workflow", "model", "other",
})
# Zenodo's description types (InvenioRDM's spellings plus Zenodo's "notes").
DESCRIPTION_TYPES = frozenset({
    "abstract", "methods", "series-information", "seriesinformation", "table-of-contents",
    "tableofcontents", "technical-info", "technicalinfo", "other", "notes",
})
CREATOR_ROLES = frozenset({
    "contactperson", "datacollector", "datacurator", "datamanager", "distributor", "editor",
    "hostinginstitution", "producer", "projectleader", "projectmanager", "projectmember",
    "registrationagency", "registrationauthority", "relatedperson", "researcher", "researchgroup",
    "rightsholder", "sponsor", "supervisor", "workpackageleader", "other",
})
PERSON_TYPES = ("personal", "organizational")
KNOWN_FIELDS = frozenset({
    "title", "additional_titles", "version", "publication_date", "resource_type", "creators",
    "contributors", "description", "additional_descriptions", "subjects", "rights", "languages",
    "related_identifiers", "dates", "publisher", "references", "identifiers", "funding", "locations",
    "sizes", "formats",
})
REQUIRED_TO_PUBLISH = ("resource_type", "title", "publication_date", "creators")
MISSING = "Missing data for required field."
INVALID_VOCABULARY = "Not a valid value."
_EDTF = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted, e.g. "metadata.creators.0.person_or_org.family_name"
    message: str


def errors_json(errors: Iterable[FieldError]) -> list[dict[str, Any]]:
    """The API's error list: one entry per field with all its messages."""
    grouped: dict[str, list[str]] = {}
    for e in errors:
        grouped.setdefault(e.field, []).append(e.message)
    return [{"field": f, "messages": m} for f, m in grouped.items()]


@dataclass
class CheckedMetadata:
    kept: dict[str, Any]  # what a save stores
    dropped: list[FieldError]  # reported with 200, the fields are gone
    rejected: list[FieldError]  # the whole save fails with 400


def valid_edtf_date(value: object) -> bool:
    """A (simplified) EDTF level-0 date: YYYY, YYYY-MM or YYYY-MM-DD, and a real calendar date."""
    if not isinstance(value, str):
        return False
    m = _EDTF.match(value)
    if not m:
        return False
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def check_metadata(metadata: object) -> CheckedMetadata:
    out = CheckedMetadata({}, [], [])
    if not isinstance(metadata, dict):
        out.dropped.append(FieldError("metadata", "Invalid input type."))
        return out
    for name, value in metadata.items():
        where = f"metadata.{name}"
        if name not in KNOWN_FIELDS:
            out.dropped.append(FieldError(where, "Unknown field."))
            continue
        checker = _CHECKERS.get(name)
        problems, fatal = checker(where, value) if checker else ([], [])
        out.rejected.extend(fatal)
        if problems:
            out.dropped.extend(problems)
        else:
            out.kept[name] = _normalised(name, value)
    return out


def publish_problems(metadata: dict[str, Any]) -> list[FieldError]:
    """What stops a publish: required fields absent (possibly because a save dropped them)."""
    problems = [FieldError(f"metadata.{k}", MISSING) for k in REQUIRED_TO_PUBLISH if not metadata.get(k)]
    return problems


def _string(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    return ([] if isinstance(value, str) else [FieldError(where, "Not a valid string.")]), []


def _title(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    if not isinstance(value, str):
        return [FieldError(where, "Not a valid string.")], []
    if len(value.strip()) < 3:
        return [FieldError(where, "Title must be at least 3 characters long.")], []
    return [], []


def _date(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    if valid_edtf_date(value):
        return [], []
    return [FieldError(where, "Please provide a valid date or interval.")], []


def _vocabulary(where: str, value: object, ids: frozenset[str]) -> tuple[list[FieldError], list[FieldError]]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return [FieldError(where, "Invalid input type.")], []
    if value["id"] not in ids:
        at = f"{where}.id" if where.endswith("resource_type") else where
        return [], [FieldError(at, INVALID_VOCABULARY)]
    return [], []


def _resource_type(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    return _vocabulary(where, value, RESOURCE_TYPES)


def _creators(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    if not isinstance(value, list):
        return [FieldError(where, "Not a valid list.")], []
    dropped: list[FieldError] = []
    rejected: list[FieldError] = []
    for i, creator in enumerate(value):
        at = f"{where}.{i}"
        if not isinstance(creator, dict) or not isinstance(creator.get("person_or_org"), dict):
            dropped.append(FieldError(f"{at}.person_or_org", MISSING))
            continue
        person = creator["person_or_org"]
        kind = person.get("type")
        if kind not in PERSON_TYPES:
            allowed = ", ".join(PERSON_TYPES)
            dropped.append(FieldError(f"{at}.person_or_org.type", f"Must be one of: {allowed}."))
        elif kind == "personal" and not _filled(person.get("family_name")):
            dropped.append(FieldError(f"{at}.person_or_org.family_name", "Family name must be filled."))
        elif kind == "organizational" and not _filled(person.get("name")):
            dropped.append(FieldError(f"{at}.person_or_org.name", "Name cannot be blank."))
        role = creator.get("role")
        if role is not None:
            d, r = _vocabulary(f"{at}.role", role, CREATOR_ROLES)
            dropped.extend(d)
            rejected.extend(r)
    return dropped, rejected


def _descriptions(where: str, value: object) -> tuple[list[FieldError], list[FieldError]]:
    if not isinstance(value, list):
        return [FieldError(where, "Not a valid list.")], []
    dropped: list[FieldError] = []
    rejected: list[FieldError] = []
    for i, item in enumerate(value):
        at = f"{where}.{i}"
        if not isinstance(item, dict):
            dropped.append(FieldError(at, "Invalid input type."))
            continue
        if not _filled(item.get("description")):
            dropped.append(FieldError(f"{at}.description", MISSING))
        if "type" not in item:
            dropped.append(FieldError(f"{at}.type", MISSING))
        else:
            d, r = _vocabulary(f"{at}.type", item["type"], DESCRIPTION_TYPES)
            dropped.extend(d)
            rejected.extend(r)
    return dropped, rejected


def _filled(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _normalised(name: str, value: Any) -> Any:
    """Fill the derived parts InvenioRDM computes (a person's display name)."""
    if name != "creators":
        return value
    out = []
    for creator in value:
        person = dict(creator["person_or_org"])
        if person["type"] == "personal":
            given = person.get("given_name") or ""
            person["name"] = f"{person['family_name']}, {given}" if given else person["family_name"]
        out.append({**creator, "person_or_org": person})
    return out


_CHECKERS = {
    "title": _title,
    "version": _string,
    "description": _string,
    "publisher": _string,
    "publication_date": _date,
    "resource_type": _resource_type,
    "creators": _creators,
    "additional_descriptions": _descriptions,
}
