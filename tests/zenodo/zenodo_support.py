"""Helpers of the Zenodo client tests: the bundled server, SCoPe-like records and release inputs.

Imported by name (``from zenodo_support import ...``): conftest.py puts this folder on ``sys.path``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.local.sample import field_csv_bytes
from bot.local.zenodo_server import ZenodoServer
from bot.scope import FIELDS_JSON, catalog_zip_name, dump_fields_json, is_catalog_zip_name
from bot.zenodo.client import ZenodoClient
from bot.zenodo.drafts import DraftRequest, UploadFile

TOKEN = "local-token"
SANDBOX_URL = "https://sandbox.zenodo.org/api"
TODAY = "2025-03-14"

SEED_METADATA: dict[str, Any] = {
    "title": "SCoPe ZTF variable star classifications (synthetic test record)",
    "resource_type": {"id": "dataset"},
    "publication_date": "2024-01-10",
    "creators": [{"person_or_org": {"type": "personal", "family_name": "Curator", "given_name": "Ada"}}],
    "description": "<p>Machine-learned classifications of ZTF light curves, one CSV per field.</p>",
    "version": "v1.0.0",
    "additional_descriptions": [
        {"description": "<p>Methods: DNN and XGB.</p>", "type": {"id": "methods"}},
        {"description": "<p>First release.</p>", "type": {"id": "notes"}},
    ],
}


@functools.cache
def catalog_zip(fields: tuple[int, ...], rows: int = 5, seed: int = 0) -> bytes:
    """A small catalog zip built from the sample generator (cached: generating rows is the slow part)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in fields:
            zf.writestr(f"field_{f}.csv", field_csv_bytes(f, rows, seed))
    return buf.getvalue()


@functools.cache
def _sample_csv(field: int, rows: int) -> bytes:
    return field_csv_bytes(field, rows)


def seed_files(fields: tuple[int, ...]) -> dict[str, bytes]:
    """The files of a SCoPe-like published version (7 files, small)."""
    return {
        catalog_zip_name(len(fields)): catalog_zip(fields),
        FIELDS_JSON: dump_fields_json(fields),
        "field_296_100rows.csv": _sample_csv(296, 100),
        "SCoPe_classification_demo.ipynb": b'{"cells": [], "nbformat": 4}',
        "trained_dnn_models.zip": b"dnn-models" * 50,
        "trained_xgb_models.zip": b"xgb-models" * 50,
        "training_set.parquet": b"PAR1" + b"\x00" * 200 + b"PAR1",
    }


def upload_of(key: str, data: bytes) -> UploadFile:
    return UploadFile(key, len(data), hashlib.md5(data).hexdigest(), lambda: io.BytesIO(data))


def replaces_catalog(key: str) -> bool:
    return is_catalog_zip_name(key) or key == FIELDS_JSON


@dataclass
class Release:
    """One release's inputs against a seeded concept, and what the draft must end up holding."""

    concept_record: str
    previous: dict[str, str]  # key -> md5 of the latest published version's files
    new_files: dict[str, bytes]
    version: str = "v1.1.0"
    notes_html: str = "<p>Added field 297.</p>"
    publication_date: str = TODAY

    def request(self, **changes: Any) -> DraftRequest:
        base = dict(
            concept_record=self.concept_record,
            uploads=[upload_of(k, v) for k, v in self.new_files.items()],
            replaces=replaces_catalog,
            version=self.version,
            notes_html=self.notes_html,
            publication_date=self.publication_date,
        )
        base.update(changes)
        return DraftRequest(**base)

    @property
    def expected(self) -> dict[str, str]:
        """key -> md5 of the exact file set the draft must hold."""
        kept = {k: v for k, v in self.previous.items() if not replaces_catalog(k) and k not in self.new_files}
        return {**kept, **{k: hashlib.md5(v).hexdigest() for k, v in self.new_files.items()}}


@dataclass
class Target:
    """A Zenodo to talk to: the bundled server (with its state accessors) or the sandbox."""

    base_url: str
    token: str
    server: Any | None
    slept: list[float] = field(default_factory=list)

    def client(self, **kwargs: Any) -> ZenodoClient:
        # Tests never wait for real: the client's sleeps are recorded instead.
        kwargs.setdefault("sleep", self.slept.append)
        return ZenodoClient(self.base_url, self.token, **kwargs)


def md5s(files: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.md5(v).hexdigest() for k, v in files.items()}


def new_catalog(fields: tuple[int, ...], seed: int = 1) -> dict[str, bytes]:
    return {catalog_zip_name(len(fields)): catalog_zip(tuple(fields), seed=seed),
            FIELDS_JSON: dump_fields_json(fields)}


@contextmanager
def local_server(data_dir: Path, **kwargs: Any) -> Iterator[Target]:
    server = ZenodoServer(data_dir=data_dir, tokens=(TOKEN,), today=lambda: TODAY, **kwargs)
    base_url = server.start()
    try:
        yield Target(base_url, TOKEN, server)
    finally:
        server.stop()


def seed_release(zenodo: Target, old_fields: tuple[int, ...] = (296, 423),
                 new_fields: tuple[int, ...] = (296, 297, 423)) -> Release:
    """Seed a published v1.0.0 on the local server; return the inputs of the next release."""
    previous = seed_files(tuple(old_fields))
    concept, _record = zenodo.server.seed_concept(previous, SEED_METADATA, version="v1.0.0",
                                                  default_preview="SCoPe_classification_demo.ipynb")
    return Release(str(concept), md5s(previous), new_catalog(new_fields))


# ---- what the server holds ------------------------------------------------------------------


def the_draft(zenodo: Target, release: Release) -> dict[str, Any]:
    """The concept's one and only draft, read from the server's own state (InvenioRDM shape)."""
    drafts = zenodo.server.drafts_of(release.concept_record)
    assert len(drafts) == 1, f"expected one draft, found {len(drafts)}"
    return drafts[0]


def files_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return record["files"]["entries"]


def draft_md5s(draft: dict[str, Any]) -> dict[str, str]:
    assert all(e["status"] == "completed" for e in files_of(draft).values())
    return {k: e["checksum"].removeprefix("md5:") for k, e in files_of(draft).items()}


def notes_in(draft: dict[str, Any]) -> list[str]:
    return [d["description"] for d in draft["metadata"].get("additional_descriptions", [])
            if d["type"]["id"] == "notes"]


def assert_converged(zenodo: Target, release: Release) -> dict[str, Any]:
    """One draft, holding exactly the release: files, version, date, notes, one reserved DOI."""
    draft = the_draft(zenodo, release)
    assert draft_md5s(draft) == release.expected
    assert draft["metadata"]["version"] == release.version
    assert draft["metadata"]["publication_date"] == release.publication_date
    assert notes_in(draft) == [release.notes_html]
    assert draft["pids"]["doi"]["identifier"].endswith(draft["id"])
    assert zenodo.server.dois_reserved == 1
    # The unchanged files were imported (they share the previous version's stored file), not uploaded.
    previous = files_of(zenodo.server.published_versions(release.concept_record)[-1])
    kept = [k for k in files_of(draft) if k not in release.new_files]
    assert kept and all(files_of(draft)[k]["file_id"] == previous[k]["file_id"] for k in kept)
    return draft


def writes(zenodo: Target, since: int = 0) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _status in zenodo.server.calls[since:] if m != "GET"]
