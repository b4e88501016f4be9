"""A small sample catalog, published as v1.0.0, so the demo and users have something to release from."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import zipfile
from typing import Any

from bot.local.sample import field_csv_bytes
from bot.scope import FIELDS_JSON, catalog_zip_name, dump_fields_json

DEMO_FIELDS = (296, 297, 487)
DEMO_ROWS = 200
NOTEBOOK = "SCoPe_classification_demo.ipynb"
SAMPLE_CSV = "field_296_100rows.csv"


def demo_metadata(today: str | None = None) -> dict[str, Any]:
    return {
        "title": "SCoPe ZTF source classification catalog (local demo)",
        "publication_date": today or dt.date.today().isoformat(),
        "resource_type": {"id": "dataset"},
        "creators": [
            {"person_or_org": {"type": "organizational", "name": "SCoPe collaboration (demo)"}},
            {"person_or_org": {"type": "personal", "family_name": "Curator", "given_name": "Demo"}},
        ],
        "description": "<p>Synthetic ML predictions for a few ZTF fields, one CSV per field, made by "
                       "release-bot's sample generator for local demos.</p>",
    }


def demo_files() -> dict[str, bytes]:
    """The files of the demo's first version: the zipped fields, fields.json, a sample CSV, a notebook."""
    return dict(_demo_files())


@functools.cache
def _demo_files() -> dict[str, bytes]:  # deterministic and ~0.2 s to make: make it once per process
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for field in DEMO_FIELDS:
            zf.writestr(f"field_{field}.csv", field_csv_bytes(field, DEMO_ROWS))
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {},
                           "source": ["Placeholder for SCoPe's classification demo notebook."]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return {
        catalog_zip_name(len(DEMO_FIELDS)): buffer.getvalue(),
        FIELDS_JSON: dump_fields_json(DEMO_FIELDS),
        SAMPLE_CSV: field_csv_bytes(296, 100),
        NOTEBOOK: json.dumps(notebook, indent=1).encode(),
    }
