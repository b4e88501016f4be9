"""The records API endpoints: each route maps a method and a path to one small function."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from bot.local.zenodo.errors import PERMISSION_DENIED, ApiError, not_found
from bot.local.zenodo.metadata import FieldError, errors_json
from bot.local.zenodo.shapes import (
    INVENIORDM_JSON,
    file_json,
    files_json,
    legacy_record_json,
    record_json,
    versions_json,
)
from bot.local.zenodo.store import TRANSFER_FAILED, Store
from bot.local.zenodo.wire import IncompleteBody, Reply, Request, json_reply


@dataclass
class Api:
    store: Store
    base: str  # absolute API root used in links, e.g. http://127.0.0.1:5800/api
    tokens: frozenset[str]
    # zenodo.org's API file content ignores Range; some InvenioRDM instances set
    # FILES_REST_ALLOW_RANGE_REQUESTS and honour it (``--api-range``).
    api_range: bool = False
    # The record page's file link (invenio-app-rdm's UI); False models a site serving the API alone.
    record_pages: bool = True

    # -- helpers -----------------------------------------------------------------------------------
    def authorized(self, req: Request) -> bool:
        return req.token is not None and req.token in self.tokens

    def record_reply(self, req: Request, status: int, rec: dict[str, Any],
                     errors: list[FieldError] | None = None, extra: list[dict[str, Any]] | None = None) -> Reply:
        if req.wants_invenio():
            data = record_json(self.store, self.base, rec)
            if errors or extra:
                data["errors"] = errors_json(errors or []) + (extra or [])
            return json_reply(status, data, INVENIORDM_JSON)
        return json_reply(status, legacy_record_json(self.store, self.base, rec))

    # -- records -----------------------------------------------------------------------------------
    def get_record(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            if rid in self.store.concepts:  # a concept id resolves to its latest version
                latest = self.store.latest(rid)
                return Reply(302, headers={"Location": f"{self.base}/records/{latest['id']}"})
            return self.record_reply(req, 200, self.store.published(rid))

    def list_versions(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            concept = self.store.concept_of(rid)
            recs = [self.store.records[r] for r in concept["versions"]]
            data = versions_json(self.store, self.base, recs, req.wants_invenio())
            return json_reply(200, data, INVENIORDM_JSON if req.wants_invenio() else "application/json")

    def latest_version(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            latest = self.store.latest(rid)
        return Reply(302, headers={"Location": f"{self.base}/records/{latest['id']}"})

    def new_version(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return self.record_reply(req, 201, self.store.new_version(rid))

    def create_draft(self, req: Request) -> Reply:
        body = _object(req.json())
        with self.store.lock:
            rec, dropped = self.store.create_draft(body)
            return self.record_reply(req, 201, rec, dropped)

    def search(self, req: Request) -> Reply:
        """Published records, latest versions only (a tiny stand-in for the search API)."""
        q = req.query.get("q", "").lower()
        with self.store.lock:
            concepts = [c for c in self.store.concepts.values() if c["versions"]]
            recs = [self.store.records[c["versions"][-1]] for c in concepts]
            recs = [r for r in recs if q in str(r["metadata"].get("title", "")).lower()]
            return json_reply(200, versions_json(self.store, self.base, recs, req.wants_invenio()))

    def user_records(self, req: Request) -> Reply:
        """The token owner's records and drafts (every record belongs to the one local user)."""
        with self.store.lock:
            recs = list(self.store.records.values())
            return json_reply(200, versions_json(self.store, self.base, recs, req.wants_invenio()))

    # -- drafts ------------------------------------------------------------------------------------
    def get_draft(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return self.record_reply(req, 200, self.store.draft(rid))

    def put_draft(self, req: Request, rid: str) -> Reply:
        body = _object(req.json())
        with self.store.lock:
            rec, dropped = self.store.update_draft(rid, body)
            # A save also runs the community checks; their findings ride in the same errors list.
            return self.record_reply(req, 200, rec, dropped, self.store.check_errors())

    def discard_draft(self, req: Request, rid: str) -> Reply:
        self.store.discard_draft(rid)
        return Reply(204)

    def publish(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return self.record_reply(req, 202, self.store.publish(rid))

    def reserve_doi(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            rec = self.store.reserve_doi(rid)
            return self.record_reply(req, 201, rec)

    def discard_doi(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return self.record_reply(req, 200, self.store.discard_doi(rid))

    # -- draft files -------------------------------------------------------------------------------
    def files_import(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            rec = self.store.files_import(rid)
            return json_reply(201, files_json(self.base, rec))

    def list_draft_files(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return json_reply(200, files_json(self.base, self.store.draft(rid)))

    def init_files(self, req: Request, rid: str) -> Reply:
        body = req.json()
        if not isinstance(body, list) or not all(isinstance(i, dict) and isinstance(i.get("key"), str)
                                                 and i["key"] for i in body):
            raise ApiError(400, 'Send a JSON list of file entries, e.g. [{"key": "fields.json"}].')
        keys = [i["key"] for i in body]
        with self.store.lock:
            self.store.init_files(rid, keys)
            return json_reply(201, files_json(self.base, self.store.draft(rid), keys))

    def delete_draft_files(self, req: Request, rid: str) -> Reply:
        self.store.remove_all_files(rid)
        return Reply(204)

    def get_draft_file(self, req: Request, rid: str, key: str) -> Reply:
        with self.store.lock:
            rec = self.store.draft(rid)
            return json_reply(200, file_json(self.base, rec, self.store.entry(rec, key)))

    def delete_draft_file(self, req: Request, rid: str, key: str) -> Reply:
        self.store.remove_file(rid, key)
        return Reply(204)

    def upload(self, req: Request, rid: str, key: str) -> Reply:
        limit = self.store.limits.max_file_bytes
        if self.store.upload_target(rid, key) == "failed":
            # Zenodo's trap: overwriting a committed or imported file "succeeds" and loses it.
            with self.store.lock:
                rec = self.store.draft(rid)
                data = {**file_json(self.base, rec, self.store.entry(rec, key)), "errors": TRANSFER_FAILED}
                self.store.remove_file(rid, key)
            return json_reply(200, data)
        if req.content_length is not None and req.content_length > limit:
            req.abandoned = req.content_length > 1 << 20  # never read gigabytes only to refuse them
            self.store.remove_file(rid, key)
            raise ApiError(400, f"File {key!r} is {req.content_length} bytes, over the {limit}-byte limit "
                                "per file; the file was removed from the draft.")
        target = self.store.new_upload_path()
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with target.open("wb") as out:
                for piece in req.iter_body():
                    size += len(piece)
                    if size > limit:
                        raise ApiError(400, f"File {key!r} is over the {limit}-byte limit per file; "
                                            "the file was removed from the draft.")
                    md5.update(piece)
                    out.write(piece)
        except IncompleteBody:
            target.unlink(missing_ok=True)
            _remove_quietly(self.store, rid, key)
            raise ApiError(400, f"The upload of {key!r} was cut off after {size} bytes; the file was removed "
                                "from the draft. Start again with POST .../draft/files.") from None
        except ApiError:
            target.unlink(missing_ok=True)
            _remove_quietly(self.store, rid, key)
            raise
        with self.store.lock:
            entry = self.store.set_content(rid, key, target, size, md5.hexdigest())
            return json_reply(200, file_json(self.base, self.store.draft(rid), entry))

    def commit(self, req: Request, rid: str, key: str) -> Reply:
        with self.store.lock:
            entry = self.store.commit(rid, key)
            return json_reply(200, file_json(self.base, self.store.draft(rid), entry))

    def download_draft_file(self, req: Request, rid: str, key: str) -> Reply:
        with self.store.lock:
            entry = self.store.entry(self.store.draft(rid), key)
        return _content(req, entry, self.store, ranges=self.api_range)

    # -- published files ---------------------------------------------------------------------------
    def list_files(self, req: Request, rid: str) -> Reply:
        with self.store.lock:
            return json_reply(200, files_json(self.base, self.store.published(rid)))

    def get_file(self, req: Request, rid: str, key: str) -> Reply:
        with self.store.lock:
            rec = self.store.published(rid)
            return json_reply(200, file_json(self.base, rec, self.store.entry(rec, key)))

    def download_file(self, req: Request, rid: str, key: str) -> Reply:
        # The Accept header was negotiated like any other route's (see ``negotiate``). The content itself
        # comes from invenio-files-rest's send_stream, which serves byte ranges only when
        # FILES_REST_ALLOW_RANGE_REQUESTS is set: it defaults to False and Zenodo does not set it (users
        # report the whole file for any Range: zenodo/zenodo#2593, #2575).
        with self.store.lock:
            entry = self.store.entry(self.store.published(rid), key)
        return _content(req, entry, self.store, ranges=self.api_range)

    # -- the record page's file link (outside /api) ------------------------------------------------
    def record_page_file(self, req: Request, rid: str, key: str) -> Reply:
        """``/records/<id>/files/<key>?download=1``: invenio-app-rdm's record_file_download.

        A plain Flask view (invenio_app_rdm/records_ui/views/records.py), not a flask-resources one: no
        Accept negotiation, no token needed for public files. It answers byte ranges on zenodo.org
        (ZENODO.md, "Range"), which is what lets a reader fetch a zip's directory and members alone.
        """
        if not self.record_pages:
            raise ApiError(404, f"The requested URL {req.path} was not found on the server.")
        with self.store.lock:
            rec = self.store.records.get(rid)
            if rec is None or not rec["published"]:  # a draft's files need a logged-in owner: not modelled
                raise not_found(f"Record {rid}")
            entry = self.store.entry(rec, key)
        return _content(req, entry, self.store, ranges=True, attachment="download" in req.query)

    # -- dispatch ----------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Reply:
        if req.path.startswith("/api/"):
            return self._route(req, req.path.removeprefix("/api"), ROUTES)
        return self._route(req, req.path, PAGE_ROUTES)

    def _route(self, req: Request, path: str, routes: list[Route]) -> Reply:
        allowed: list[str] = []
        for route in routes:
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            if req.method not in (route.method, "HEAD" if route.method == "GET" else route.method):
                allowed.append(route.method)
                continue
            if route.needs_token and not self.authorized(req):
                raise ApiError(403, PERMISSION_DENIED)
            if route.offers:
                negotiate(req, route.offers)
            args = {k: unquote(v) for k, v in m.groupdict().items()}
            return route.func(self, req, **args)
        if allowed:
            methods = ", ".join(sorted(set(allowed)))
            raise ApiError(405, f"The method {req.method} is not allowed for {req.path}; use {methods}.",
                           headers={"Allow": methods})
        raise ApiError(404, f"The requested URL {req.path} was not found on the server.")


def negotiate(req: Request, offers: tuple[str, ...]) -> str:
    """The response type for the request's Accept, as flask-resources chooses it, or a 406.

    flask_resources/content_negotiation.py (ContentNegotiator.match_by_accept, applied to every route of a
    Resource by with_content_negotiation): a type the route offers by its exact name wins; otherwise a
    ``*/*`` (or no Accept at all) gets the route's default; anything else is MIMETypeNotAccepted (406).
    File routes of invenio-records-resources offer only application/json, content downloads included.
    """
    asked = []
    for part in req.headers.get("Accept", "").split(","):
        name, *params = (p.strip() for p in part.split(";"))
        quality = next((p[2:] for p in params if p.startswith("q=")), "1")
        if name and _quality(quality) > 0:
            asked.append(name.lower())
    for name in asked:
        if name in offers:
            return name
    if not asked or "*/*" in asked:
        return offers[0]
    raise ApiError(406, f"Invalid 'Accept' header. Expected one of: {', '.join(offers)}")


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Send a JSON object with a metadata key, as GET .../draft returns it.")
    return body


def _remove_quietly(store: Store, rid: str, key: str) -> None:
    with contextlib.suppress(ApiError):  # already gone (deleted meanwhile)
        store.remove_file(rid, key)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _content(req: Request, entry: dict[str, Any], store: Store, *, ranges: bool,
             attachment: bool = True) -> Reply:
    """Stream a file; with ``ranges``, honour a single byte range (206), else send it whole (200)."""
    if entry["blob"] is None:
        raise ApiError(404, f"File {entry['key']!r} has no content yet.")
    path, size = store.blob_path(entry["blob"]), entry["size"]
    disposition = f'attachment; filename="{entry["key"]}"' if attachment else "inline"
    headers = {"ETag": f'"{entry["checksum"]}"', "Content-Disposition": disposition}
    spec = req.headers.get("Range", "").replace(" ", "")
    m = _RANGE.match(spec)
    if not ranges:
        # Ranges off: the Range header is ignored and no Accept-Ranges is sent (invenio-records-resources
        # tests/services/files/test_container_item.py, test_container_item_range_requests_disabled).
        return Reply(200, content_type="application/octet-stream", headers=headers, file=(path, 0, size))
    headers["Accept-Ranges"] = "bytes"
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return Reply(200, content_type="application/octet-stream", headers=headers, file=(path, 0, size))
    first, last = m.group(1), m.group(2)
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end or (first == "" and int(last) == 0):
        raise ApiError(416, f"Range {spec} is outside the file's {size} bytes.",
                       headers={"Content-Range": f"bytes */{size}"})
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Reply(206, content_type="application/octet-stream", headers=headers,
                 file=(path, start, end - start + 1))


Handler = Callable[..., Reply]
JSON = "application/json"
# What each kind of route serves (flask-resources response_handlers): records and drafts both JSON shapes
# (invenio-rdm-records RDMRecordResourceConfig), file routes JSON only (invenio-records-resources
# FileResourceConfig), so "application/octet-stream" on a file's content is a 406.
RECORD_TYPES = (JSON, INVENIORDM_JSON)
FILE_TYPES = (JSON,)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    func: Handler
    needs_token: bool
    offers: tuple[str, ...]  # () for routes that do not negotiate


_ID = r"(?P<rid>\d+)"
_KEY = r"(?P<key>[^/]+)"
_ROUTE_TABLE: list[tuple[str, str, Handler, bool, tuple[str, ...]]] = [
    ("GET", r"/records", Api.search, False, RECORD_TYPES),
    ("POST", r"/records", Api.create_draft, True, RECORD_TYPES),
    ("GET", r"/user/records", Api.user_records, True, RECORD_TYPES),
    ("GET", f"/records/{_ID}", Api.get_record, False, RECORD_TYPES),
    ("GET", f"/records/{_ID}/versions", Api.list_versions, False, RECORD_TYPES),
    ("POST", f"/records/{_ID}/versions", Api.new_version, True, RECORD_TYPES),
    ("GET", f"/records/{_ID}/versions/latest", Api.latest_version, False, RECORD_TYPES),
    ("GET", f"/records/{_ID}/draft", Api.get_draft, True, RECORD_TYPES),
    ("PUT", f"/records/{_ID}/draft", Api.put_draft, True, RECORD_TYPES),
    ("DELETE", f"/records/{_ID}/draft", Api.discard_draft, True, RECORD_TYPES),
    ("POST", f"/records/{_ID}/draft/actions/publish", Api.publish, True, RECORD_TYPES),
    # files-import is a route of the record resource (invenio-rdm-records RDMRecordResource.import_files)
    ("POST", f"/records/{_ID}/draft/actions/files-import", Api.files_import, True, RECORD_TYPES),
    ("POST", f"/records/{_ID}/draft/pids/doi", Api.reserve_doi, True, RECORD_TYPES),
    ("DELETE", f"/records/{_ID}/draft/pids/doi", Api.discard_doi, True, RECORD_TYPES),
    ("GET", f"/records/{_ID}/draft/files", Api.list_draft_files, True, FILE_TYPES),
    ("POST", f"/records/{_ID}/draft/files", Api.init_files, True, FILE_TYPES),
    ("DELETE", f"/records/{_ID}/draft/files", Api.delete_draft_files, True, FILE_TYPES),
    ("GET", f"/records/{_ID}/draft/files/{_KEY}", Api.get_draft_file, True, FILE_TYPES),
    ("DELETE", f"/records/{_ID}/draft/files/{_KEY}", Api.delete_draft_file, True, FILE_TYPES),
    ("GET", f"/records/{_ID}/draft/files/{_KEY}/content", Api.download_draft_file, True, FILE_TYPES),
    ("PUT", f"/records/{_ID}/draft/files/{_KEY}/content", Api.upload, True, FILE_TYPES),
    ("POST", f"/records/{_ID}/draft/files/{_KEY}/commit", Api.commit, True, FILE_TYPES),
    ("GET", f"/records/{_ID}/files", Api.list_files, False, FILE_TYPES),
    ("GET", f"/records/{_ID}/files/{_KEY}", Api.get_file, False, FILE_TYPES),
    ("GET", f"/records/{_ID}/files/{_KEY}/content", Api.download_file, False, FILE_TYPES),
]
ROUTES = [Route(m, re.compile(p), f, auth, offers) for m, p, f, auth, offers in _ROUTE_TABLE]
# The web pages outside /api that a client of files uses: the record page's file link.
PAGE_ROUTES = [Route("GET", re.compile(f"/records/{_ID}/files/{_KEY}"), Api.record_page_file, False, ())]
