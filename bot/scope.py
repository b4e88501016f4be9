"""Facts about the SCoPe catalog that every part of the bot shares.

This is the one place that knows the catalog's file names, its columns and its classes. The per-row
value rules live in ``schemas/row.schema.json``; this module only names things.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

METADATA_COLUMNS: tuple[str, ...] = (
    "_id",
    "Gaia_EDR3___id",
    "AllWISE___id",
    "PS1_DR1___id",
    "ra",
    "dec",
    "period",
    "field",
    "ccd",
    "quad",
    "filter",
)

# Phenomenological classes first, then ontological, as SCoPe lists them.
CLASS_LABELS: dict[str, str] = {
    "vnv": "variable",
    "pnp": "periodic",
    "sin": "sinusoidal",
    "el": "ellipsoidal",
    "saw": "sawtooth",
    "mp": "multi periodic",
    "longt": "long timescale",
    "e": "eclipsing",
    "ea": "EA",
    "eb": "EB",
    "ew": "EW",
    "wp": "wrong period",
    "hp": "half period",
    "dp": "double period",
    "i": "irregular",
    "fla": "flaring",
    "dip": "dipping",
    "bogus": "bogus",
    "ext": "extended",
    "blend": "blend",
    "bright": "bright star",
    "agn": "AGN",
    "bis": "binary star",
    "blher": "BL Her",
    "blyr": "Beta Lyr",
    "ceph": "Cepheid",
    "ceph2": "Cepheid type-II",
    "cv": "CV",
    "dscu": "Delta Scu",
    "emsms": "detached eclipsing MS-MS",
    "lpv": "LPV",
    "mir": "Mira",
    "osarg": "OSARG",
    "puls": "pulsator",
    "rrlyr": "RR Lyrae",
    "rrab": "RR Lyrae ab",
    "rrc": "RR Lyrae c",
    "rrd": "RR Lyrae d",
    "rrblz": "RR Lyrae Blazhko",
    "rscvn": "RS CVn",
    "srv": "SRV",
    "wuma": "W UMa",
    "wvir": "W Virginis",
    "yso": "YSO",
}
CLASSES: tuple[str, ...] = tuple(CLASS_LABELS)
MODELS: tuple[str, ...] = ("dnn", "xgb")
CLASS_COLUMNS: tuple[str, ...] = tuple(f"{c}_{m}" for m in MODELS for c in CLASSES)
ALL_COLUMNS: tuple[str, ...] = METADATA_COLUMNS + CLASS_COLUMNS

# SCoPe calls a light curve a member of a class when the model's score reaches this.
POSITIVE_THRESHOLD = 0.7

# ZTF field numbers: primary grid 1-881, secondary grid 1001-1897.
FIELD_RANGES: tuple[tuple[int, int], ...] = ((1, 881), (1001, 1897))

FIELDS_JSON = "fields.json"
MANIFEST_NAME = "MANIFEST.json"
_ZIP_NAME = re.compile(r"^predictions_dnn_xgb_(\d+)_fields\.zip$")
_FIELD_FILE = re.compile(r"^field_([1-9]\d*)\.csv(\.gz)?$")
_FIELD_MEMBER = re.compile(r"^(?:[^/]+/)?field_([1-9]\d*)\.csv$")


def is_valid_field_number(n: int) -> bool:
    return any(lo <= n <= hi for lo, hi in FIELD_RANGES)


def catalog_zip_name(field_count: int) -> str:
    """The catalog zip's name, which encodes how many fields it holds."""
    return f"predictions_dnn_xgb_{field_count}_fields.zip"


def is_catalog_zip_name(name: str) -> bool:
    return _ZIP_NAME.match(name) is not None


def field_from_filename(name: str) -> int | None:
    """``field_296.csv`` or ``field_296.csv.gz`` -> 296; anything else (``field_0296.csv``) -> None."""
    m = _FIELD_FILE.match(name)
    return int(m.group(1)) if m else None


def field_from_member(name: str) -> int | None:
    """A zip member ``field_296.csv`` or ``preds_dnn_xgb/field_296.csv`` -> 296."""
    m = _FIELD_MEMBER.match(name)
    return int(m.group(1)) if m else None


def member_name(field: int, folder: str = "") -> str:
    return f"{folder}/field_{field}.csv" if folder else f"field_{field}.csv"


def dump_fields_json(fields: Iterable[int]) -> bytes:
    """fields.json exactly as SCoPe writes it: ``json.dump`` defaults, sorted ints, no final newline."""
    return json.dumps(sorted(set(fields))).encode()


def parse_fields_json(data: bytes | str) -> list[int]:
    """Read fields.json; accepts the 2024 form with ``"field_296"`` strings as well as ints."""
    items = json.loads(data)
    if not isinstance(items, list):
        raise ValueError("fields.json must hold a JSON array of field numbers")
    out: set[int] = set()
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"fields.json: {item!r} is not a field number")
        if isinstance(item, int):
            out.add(item)
        elif isinstance(item, str) and re.fullmatch(r"field_[1-9]\d*", item):
            out.add(int(item[len("field_"):]))
        else:
            raise ValueError(f"fields.json: {item!r} is not a field number")
    return sorted(out)
