"""How records, drafts and file entries look on the wire: the InvenioRDM shape and Zenodo's legacy one.

Clients that send ``Accept: application/vnd.inveniordm.v1+json`` get the InvenioRDM shape; the others get
a legacy-like shape, which (as on Zenodo) has no ``errors`` list.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

from bot.local.zenodo.store import Store, files_meta

INVENIORDM_JSON = "application/vnd.inveniordm.v1+json"


def _doi_json(identifier: str) -> dict[str, str]:
    return {"identifier": identifier, "provider": "datacite", "client": "datacite"}


def file_json(base: str, rec: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    key = quote(entry["key"], safe="")
    prefix = f"{base}/records/{rec['id']}" + ("/files" if rec["published"] else "/draft/files")
    links = {"self": f"{prefix}/{key}", "content": f"{prefix}/{key}/content"}
    if not rec["published"]:
        links["commit"] = f"{prefix}/{key}/commit"
    out: dict[str, Any] = {
        "key": entry["key"], "created": entry["created"], "updated": entry["updated"],
        "status": entry["status"], "mimetype": entry["mimetype"], "metadata": {},
        "storage_class": "L", "transfer": {"type": "L"}, "links": links,
    }
    if entry["blob"] is not None:
        out.update(size=entry["size"], checksum=entry["checksum"], file_id=entry["blob"])
    return out


def files_json(base: str, rec: dict[str, Any], keys: list[str] | None = None) -> dict[str, Any]:
    """The files listing (``GET .../files``): entries as a list."""
    chosen = rec["files"] if keys is None else {k: rec["files"][k] for k in keys}
    prefix = f"{base}/records/{rec['id']}" + ("/files" if rec["published"] else "/draft/files")
    meta = files_meta(rec)
    return {"enabled": True, "default_preview": meta["default_preview"], "order": list(meta["order"]),
            "entries": [file_json(base, rec, e) for e in chosen.values()], "links": {"self": prefix}}


def record_links(base: str, rec: dict[str, Any]) -> dict[str, str]:
    rid = rec["id"]
    html = base.removesuffix("/api")
    links = {
        "self": f"{base}/records/{rid}" + ("" if rec["published"] else "/draft"),
        "self_html": f"{html}/records/{rid}" if rec["published"] else f"{html}/uploads/{rid}",
        "record": f"{base}/records/{rid}",
        "draft": f"{base}/records/{rid}/draft",
        "files": f"{base}/records/{rid}" + ("/files" if rec["published"] else "/draft/files"),
        "latest": f"{base}/records/{rid}/versions/latest",
        "latest_html": f"{html}/records/{rid}/latest",
        "versions": f"{base}/records/{rid}/versions",
        "publish": f"{base}/records/{rid}/draft/actions/publish",
        "reserve_doi": f"{base}/records/{rid}/draft/pids/doi",
        "import_files": f"{base}/records/{rid}/draft/actions/files-import",
        "parent": f"{base}/records/{rec['concept']}",
    }
    if rec["doi"] is not None:
        links["doi"] = f"https://doi.org/{rec['doi']['identifier']}"
    return links


def record_json(store: Store, base: str, rec: dict[str, Any]) -> dict[str, Any]:
    """One version or draft in the InvenioRDM shape."""
    concept = store.concepts[rec["concept"]]
    published = rec["published"]
    entries = {k: file_json(base, rec, e) for k, e in rec["files"].items()}
    parent: dict[str, Any] = {"id": concept["id"], "communities": {}, "pids": {}}
    if concept["doi_registered"]:
        parent["pids"]["doi"] = _doi_json(store.doi_of(concept["id"]))
    status = "published" if published else "new_version_draft" if concept["versions"] else "draft"
    return {
        "id": rec["id"],
        "created": rec["created"],
        "updated": rec["updated"],
        "revision_id": rec["revision_id"],
        "is_published": published,
        "is_draft": not published,
        "status": status,
        "metadata": copy.deepcopy(rec["metadata"]),
        "pids": {"doi": _doi_json(rec["doi"]["identifier"])} if rec["doi"] else {},
        "parent": parent,
        "versions": {"index": rec["index"], "is_latest": store.is_latest(rec),
                     "is_latest_draft": not published},
        "files": {"enabled": True, "count": len(entries),
                  "total_bytes": sum(e["size"] or 0 for e in rec["files"].values()),
                  "order": list(files_meta(rec)["order"]), "default_preview": files_meta(rec)["default_preview"],
                  "entries": entries},
        "access": {"record": "public", "files": "public", "embargo": {"active": False, "reason": None}},
        "custom_fields": {},
        "links": record_links(base, rec),
    }


def legacy_record_json(store: Store, base: str, rec: dict[str, Any]) -> dict[str, Any]:
    """The same record as Zenodo's legacy serializer shows it: flat DOIs, files as a list, no errors."""
    md = rec["metadata"]
    concept = store.concepts[rec["concept"]]
    creators = [{"name": c.get("person_or_org", {}).get("name", "")} for c in md.get("creators", [])]
    legacy_md: dict[str, Any] = {
        "title": md.get("title", ""),
        "publication_date": md.get("publication_date"),
        "description": md.get("description", ""),
        "creators": creators,
        "resource_type": {"type": (md.get("resource_type") or {}).get("id", "")},
        "relations": {"version": [{"index": rec["index"] - 1, "is_last": store.is_latest(rec),
                                   "parent": {"pid_type": "recid", "pid_value": concept["id"]}}]},
    }
    if "version" in md:
        legacy_md["version"] = md["version"]
    if md.get("additional_descriptions"):
        legacy_md["notes"] = md["additional_descriptions"][0].get("description", "")
    out: dict[str, Any] = {
        "id": int(rec["id"]),
        "recid": rec["id"],
        "conceptrecid": concept["id"],
        "created": rec["created"],
        "modified": rec["updated"],
        "updated": rec["updated"],
        "revision": rec["revision_id"],
        "state": "done" if rec["published"] else "unsubmitted",
        "submitted": rec["published"],
        "title": md.get("title", ""),
        "metadata": legacy_md,
        "files": [{"id": e["blob"], "key": e["key"], "size": e["size"], "checksum": e["checksum"],
                   "links": {"self": file_json(base, rec, e)["links"]["content"]}}
                  for e in rec["files"].values()],
        "links": record_links(base, rec),
    }
    if rec["doi"]:
        out["doi"] = rec["doi"]["identifier"]
        out["doi_url"] = f"https://doi.org/{rec['doi']['identifier']}"
    if concept["doi_registered"]:
        out["conceptdoi"] = store.doi_of(concept["id"])
    return out


def versions_json(store: Store, base: str, recs: list[dict[str, Any]], invenio: bool) -> dict[str, Any]:
    shape = record_json if invenio else legacy_record_json
    hits = [shape(store, base, r) for r in reversed(recs)]  # newest first, as the API sorts
    self_link = f"{base}/records/{recs[0]['id']}/versions" if recs else f"{base}/records"
    return {"hits": {"hits": hits, "total": len(hits)}, "sortBy": "version", "links": {"self": self_link}}
