"""The server's state: concepts, their versions and drafts, file entries and the blobs behind them.

State is plain JSON-able dicts, saved atomically to ``state.json`` after every change; file bodies live
in ``blobs/`` and are shared (an imported file points at the previous version's blob), so a blob is
removed only when no entry refers to it any more.

A record: ``{"id", "concept", "published", "metadata", "doi", "files", "created", "updated",
"revision_id", "index"}`` where ``doi`` is ``None`` or ``{"identifier", "status": reserved|registered}``
and ``files`` maps a key to ``{"key", "status": pending|completed, "blob", "size", "checksum",
"imported", "mimetype", "created", "updated"}``.
A concept: ``{"id", "versions": [published record ids, oldest first], "draft": id | None,
"doi_registered": bool}``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import mimetypes
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.local.zenodo.errors import ApiError, not_found
from bot.local.zenodo.metadata import FieldError, check_metadata, publish_problems

STATE_FILE = "state.json"
TRANSFER_FAILED = "File upload transfer failed."


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 10**9
    max_record_bytes: int = 50 * 10**9
    max_files: int = 100


def files_meta(rec: dict[str, Any]) -> dict[str, Any]:
    """The record's ``files.default_preview`` and ``files.order`` (state saved before them has none)."""
    meta: dict[str, Any] = rec.setdefault("files_meta", {"default_preview": None, "order": []})
    return meta


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Store:
    def __init__(self, root: Path, today: Callable[[], str], doi_prefix: str = "10.5281",
                 limits: Limits | None = None) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.today = today
        self.doi_prefix = doi_prefix
        self.limits = limits or Limits()
        self.lock = threading.RLock()
        self.next_id = 100001
        self.concepts: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.dois_reserved = 0
        # Community checks (invenio-checks) run on every draft save: entries like {"field", "messages",
        # "severity": "error"|"warning"|"info", "community"}; only severity "error" blocks publishing.
        self.community_checks: list[dict[str, Any]] = []
        self._load()

    # -- persistence -------------------------------------------------------------------------------
    def _load(self) -> None:
        path = self.root / STATE_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        self.next_id = data["next_id"]
        self.concepts = data["concepts"]
        self.records = data["records"]
        self.dois_reserved = data["dois_reserved"]

    def save(self) -> None:
        """Write the state atomically: a crash leaves the old or the new file, never half of one."""
        with self.lock:
            data = {"next_id": self.next_id, "concepts": self.concepts, "records": self.records,
                    "dois_reserved": self.dois_reserved}
            tmp = self.root / f".{STATE_FILE}.{uuid.uuid4().hex}.tmp"
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, self.root / STATE_FILE)

    # -- lookups -----------------------------------------------------------------------------------
    def doi_of(self, record_or_concept_id: str) -> str:
        return f"{self.doi_prefix}/zenodo.{record_or_concept_id}"

    def blob_path(self, blob: str) -> Path:
        return self.blobs / blob

    def new_upload_path(self) -> Path:
        return self.blobs / f".upload-{uuid.uuid4().hex}"

    def published(self, rid: str) -> dict[str, Any]:
        rec = self.records.get(rid)
        if rec is None or not rec["published"]:
            raise not_found(f"Record {rid}", "Drafts are read with GET /records/{id}/draft.")
        return rec

    def draft(self, rid: str) -> dict[str, Any]:
        rec = self.records.get(rid)
        if rec is None or rec["published"]:
            hint = ("It is published and has no draft; start one with POST /records/{id}/versions."
                    if rec is not None else "")
            raise not_found(f"Draft {rid}", hint)
        return rec

    def concept_of(self, rid: str) -> dict[str, Any]:
        """The concept of a concept id or of any version/draft id."""
        if rid in self.concepts:
            return self.concepts[rid]
        rec = self.records.get(rid)
        if rec is None:
            raise not_found(f"Record {rid}")
        return self.concepts[rec["concept"]]

    def latest(self, rid: str) -> dict[str, Any]:
        concept = self.concept_of(rid)
        if not concept["versions"]:
            raise not_found(f"A published version of record {rid}", "Publish the draft first.")
        return self.records[concept["versions"][-1]]

    def is_latest(self, rec: dict[str, Any]) -> bool:
        versions = self.concepts[rec["concept"]]["versions"]
        return rec["published"] and bool(versions) and versions[-1] == rec["id"]

    def entry(self, rec: dict[str, Any], key: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = rec["files"].get(key)
        if entry is None:
            raise not_found(f"File {key!r} in record {rec['id']}",
                            "List the files with GET .../files; start an upload with POST .../files.")
        return entry

    # -- records and drafts ------------------------------------------------------------------------
    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def _new_record(self, concept_id: str, metadata: dict[str, Any], index: int) -> dict[str, Any]:
        now = _now()
        rec: dict[str, Any] = {"id": self._new_id(), "concept": concept_id, "published": False, "metadata": metadata,
               "doi": None, "files": {}, "created": now, "updated": now, "revision_id": 1, "index": index,
               "files_meta": {"default_preview": None, "order": []}, "soft_deleted": []}
        self.records[rec["id"]] = rec
        self.concepts[concept_id]["draft"] = rec["id"]
        return rec

    def create_draft(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """A first draft of a new concept (``POST /records``)."""
        with self.lock:
            checked = check_metadata(body.get("metadata", {}))
            if checked.rejected:
                raise ApiError(400, "A validation error occurred.", checked.rejected)
            concept_id = self._new_id()
            self.concepts[concept_id] = {"id": concept_id, "versions": [], "draft": None,
                                         "doi_registered": False}
            rec = self._new_record(concept_id, checked.kept, 1)
            self.save()
            return rec, checked.dropped

    def new_version(self, rid: str) -> dict[str, Any]:
        """A new-version draft of a published version; a second call returns the same draft."""
        with self.lock:
            rec = self.records.get(rid)
            if rec is None or not rec["published"]:
                raise not_found(f"Published record {rid}", "New versions start from a published "
                                                            "version's id, not a concept or draft id.")
            concept = self.concepts[rec["concept"]]
            if concept["draft"]:
                return self.records[concept["draft"]]
            metadata = copy.deepcopy(rec["metadata"])
            metadata.pop("version", None)
            metadata["publication_date"] = self.today()
            draft = self._new_record(concept["id"], metadata, len(concept["versions"]) + 1)
            self.save()
            return draft

    def update_draft(self, rid: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        """Replace the draft's metadata; invalid fields are dropped and returned, bad vocabulary raises."""
        with self.lock:
            rec = self.draft(rid)
            checked = check_metadata(body.get("metadata", {}))
            if checked.rejected:
                raise ApiError(400, "A validation error occurred.", checked.rejected)
            rec["metadata"] = checked.kept
            if "pids" in body:
                self._apply_pids(rec, body["pids"])
            if isinstance(body.get("files"), dict):
                self._apply_files_meta(rec, body["files"])
            self._touch(rec)
            self.save()
            return rec, checked.dropped

    @staticmethod
    def _apply_files_meta(rec: dict[str, Any], files: dict[str, Any]) -> None:
        """A draft PUT sets what its ``files`` block says: ``default_preview`` and ``order`` as sent
        (invenio-rdm-records FilesSchema), so a body read before a files-import sends the old values."""
        meta = files_meta(rec)
        if "default_preview" in files:
            preview = files["default_preview"]
            meta["default_preview"] = preview if preview in rec["files"] else None
        if isinstance(files.get("order"), list):
            meta["order"] = [k for k in files["order"] if isinstance(k, str)]

    def check_errors(self) -> list[dict[str, Any]]:
        """What the community checks report on a draft save (invenio_checks/api.py extract_run_errors)."""
        return [{"field": c["field"], "messages": list(c["messages"]), "severity": c["severity"],
                 "context": {"community": c["community"]}} for c in self.community_checks]

    def _apply_pids(self, rec: dict[str, Any], pids: object) -> None:
        doi = pids.get("doi") if isinstance(pids, dict) else None
        if not isinstance(doi, dict) or not doi.get("identifier"):
            rec["doi"] = None  # "pids": {} detaches the reserved DOI
        elif rec["doi"] is None or rec["doi"]["identifier"] != doi["identifier"]:
            rec["doi"] = {"identifier": str(doi["identifier"]), "status": "external"}

    def reserve_doi(self, rid: str) -> dict[str, Any]:
        with self.lock:
            rec = self.draft(rid)
            if rec["doi"] is not None:
                raise ApiError(400, f"Draft {rid} already has a DOI ({rec['doi']['identifier']}); "
                                    "read it from the draft's pids.doi.identifier.")
            rec["doi"] = {"identifier": self.doi_of(rid), "status": "reserved"}
            self.dois_reserved += 1
            self._touch(rec)
            self.save()
            return rec

    def discard_doi(self, rid: str) -> dict[str, Any]:
        with self.lock:
            rec = self.draft(rid)
            if rec["doi"] is None:
                raise not_found(f"A DOI on draft {rid}")
            rec["doi"] = None
            self._touch(rec)
            self.save()
            return rec

    def publish(self, rid: str) -> dict[str, Any]:
        with self.lock:
            rec = self.draft(rid)
            problems = publish_problems(rec["metadata"])
            if not rec["files"]:
                problems.append(FieldError("files.enabled", "Missing uploaded files. To disable files for "
                                                            "this record please mark it as metadata-only."))
            total = 0
            for key, entry in rec["files"].items():
                total += entry["size"] or 0
                if entry["status"] != "completed":
                    problems.append(FieldError(f"files.entries.{key}", f"File {key!r} is not committed: "
                                                                       "commit it or delete it first."))
            if problems:
                raise ApiError(400, "A validation error occurred.", problems)
            blocking = [e for e in self.check_errors() if e["severity"] == "error"]
            if blocking:  # invenio_checks/components.py ChecksComponent.publish
                raise ApiError(400, "A validation error occurred.", extra=blocking)
            concept = self.concepts[rec["concept"]]
            if rec["doi"] is None:
                rec["doi"] = {"identifier": self.doi_of(rid), "status": "registered"}
            rec["doi"]["status"] = "registered"
            rec["published"] = True
            rec["index"] = len(concept["versions"]) + 1
            concept["versions"].append(rid)
            concept["draft"] = None
            concept["doi_registered"] = True
            self._touch(rec)
            self.save()
            return rec

    def discard_draft(self, rid: str) -> None:
        with self.lock:
            rec = self.draft(rid)
            del self.records[rid]
            concept = self.concepts[rec["concept"]]
            concept["draft"] = None
            if not concept["versions"]:
                del self.concepts[concept["id"]]
            for entry in rec["files"].values():
                self._release_blob(entry.get("blob"))
            self.save()

    def _touch(self, rec: dict[str, Any]) -> None:
        rec["updated"] = _now()
        rec["revision_id"] += 1

    # -- draft files -------------------------------------------------------------------------------
    def files_import(self, rid: str) -> dict[str, Any]:
        with self.lock:
            rec = self.draft(rid)
            if rec["files"]:
                raise ApiError(400, f"Draft {rid} already holds files: importing is only possible into a "
                                    "draft without files. Delete its files first (DELETE .../draft/files).")
            concept = self.concepts[rec["concept"]]
            if not concept["versions"]:
                raise ApiError(400, f"Draft {rid} has no previous version to import files from.")
            previous = self.records[concept["versions"][-1]]
            collide = sorted(set(previous["files"]) & set(rec.get("soft_deleted", [])))
            if collide:
                # The rows a delete-all left behind (soft-deleted, ZENODO.md "More traps") clash with the
                # same keys imported again: a database integrity error, answered as a bare 500.
                raise ApiError(500, "Internal server error.")
            now = _now()
            for key, entry in previous["files"].items():
                rec["files"][key] = {**entry, "imported": True, "created": now, "updated": now}
            # invenio-records-resources FilesManager.copy: default_preview and order come along.
            rec["files_meta"] = copy.deepcopy(files_meta(previous))
            self._touch(rec)
            self.save()
            return rec

    def init_files(self, rid: str, keys: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            rec = self.draft(rid)
            for key in keys:
                if key in rec["files"]:
                    raise ApiError(400, f"File with key {key} already exists.")
            if len(set(keys)) != len(keys):
                raise ApiError(400, "The same key is listed twice in one request.")
            if len(rec["files"]) + len(keys) > self.limits.max_files:
                raise ApiError(400, f"Too many files: a record holds at most {self.limits.max_files}.")
            now = _now()
            for key in keys:
                rec["files"][key] = {"key": key, "status": "pending", "blob": None, "size": None,
                                     "checksum": None, "imported": False,
                                     "mimetype": mimetypes.guess_type(key)[0] or "application/octet-stream",
                                     "created": now, "updated": now}
            self._touch(rec)
            self.save()
            return [rec["files"][k] for k in keys]

    def upload_target(self, rid: str, key: str) -> str:
        """``"ok"`` when content may be written; ``"failed"`` for the committed/imported-key trap."""
        with self.lock:
            entry = self.entry(self.draft(rid), key)
            return "failed" if entry["status"] == "completed" or entry["imported"] else "ok"

    def set_content(self, rid: str, key: str, upload: Path, size: int, md5_hex: str) -> dict[str, Any]:
        """Attach a fully received upload to a pending entry."""
        with self.lock:
            try:
                rec = self.draft(rid)
                entry = self.entry(rec, key)
            except ApiError:
                upload.unlink(missing_ok=True)
                raise
            others = sum(e["size"] or 0 for k, e in rec["files"].items() if k != key)
            if others + size > self.limits.max_record_bytes:
                upload.unlink(missing_ok=True)
                self.remove_file(rid, key)
                raise ApiError(400, f"Record {rid} would hold {others + size} bytes, over the "
                                    f"{self.limits.max_record_bytes}-byte quota; the file was removed.")
            blob = uuid.uuid4().hex
            os.replace(upload, self.blob_path(blob))
            self._release_blob(entry["blob"], ignore=entry)
            entry.update(blob=blob, size=size, checksum=f"md5:{md5_hex}", updated=_now())
            self._touch(rec)
            self.save()
            return entry

    def commit(self, rid: str, key: str) -> dict[str, Any]:
        with self.lock:
            rec = self.draft(rid)
            entry = self.entry(rec, key)
            if entry["blob"] is None:
                raise ApiError(400, f"File {key!r} has no content yet: PUT .../files/{key}/content first.")
            if entry["size"] == 0:
                raise ApiError(400, f"File {key!r} is empty: zero-byte files are not accepted. "
                                    "Upload its real content, or delete it.")
            entry["status"] = "completed"
            entry["updated"] = _now()
            self._touch(rec)
            self.save()
            return entry

    def remove_file(self, rid: str, key: str) -> None:
        with self.lock:
            rec = self.draft(rid)
            entry = self.entry(rec, key)
            del rec["files"][key]
            meta = files_meta(rec)
            if meta["default_preview"] == key:
                meta["default_preview"] = None
            meta["order"] = [k for k in meta["order"] if k != key]
            self._release_blob(entry.get("blob"))
            self._touch(rec)
            self.save()

    def remove_all_files(self, rid: str) -> None:
        with self.lock:
            rec = self.draft(rid)
            entries = list(rec["files"].values())
            # The file rows are only marked deleted: importing the same keys later collides with them.
            rec.setdefault("soft_deleted", []).extend(sorted(rec["files"]))
            rec["files"] = {}
            rec["files_meta"] = {"default_preview": None, "order": []}
            for entry in entries:
                self._release_blob(entry.get("blob"))
            self._touch(rec)
            self.save()

    def _release_blob(self, blob: str | None, ignore: dict[str, Any] | None = None) -> None:
        """Delete a blob no entry refers to any more (imports share blobs)."""
        if blob is None:
            return
        for rec in self.records.values():
            for entry in rec["files"].values():
                if entry is not ignore and entry.get("blob") == blob:
                    return
        self.blob_path(blob).unlink(missing_ok=True)

    # -- introspection -----------------------------------------------------------------------------
    def drafts_of(self, concept_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(r) for r in self.records.values()
                    if r["concept"] == concept_id and not r["published"]]

    def published_versions(self, concept_id: str) -> list[dict[str, Any]]:
        with self.lock:
            concept = self.concepts.get(concept_id)
            return [copy.deepcopy(self.records[r]) for r in (concept["versions"] if concept else [])]
