"""The Git LFS side of the bundled GitHub server: the batch API and basic downloads, for the real client.

Modelled on git-lfs/git-lfs docs/api/batch.md and docs/api/basic-transfers.md, with GitHub's URL layout
(the LFS server of ``<server>/<owner>/<repo>`` is ``<server>/<owner>/<repo>.git/info/lfs``, docs/api/
server-discovery.md). The repository is modelled as private: every batch request needs the token, sent the
way actions/checkout sends it (HTTP Basic, ``x-access-token:<token>``). It counts each object it serves,
which is what the tests and the bench compare with the size of ``fields/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LFS_JSON = "application/vnd.git-lfs+json"  # batch.md: required Accept and Content-Type of the batch API
_DOWNLOAD = re.compile(r"^/_lfs/objects/(?P<oid>[0-9a-f]{64})$")


@dataclass
class LfsAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, doc: dict[str, Any], **headers: str) -> LfsAnswer:
    return LfsAnswer(status, json.dumps(doc).encode(), {"Content-Type": LFS_JSON, **headers})


def _error(status: int, message: str, **headers: str) -> LfsAnswer:
    # batch.md "Response Errors": a message, optionally documentation_url and request_id; no objects.
    return _json(status, {"message": message, "documentation_url": "https://docs.github.com/lfs",
                          "request_id": secrets.token_hex(4)}, **headers)


class LfsStore:
    """The objects of one repository's LFS storage, and the record of every object downloaded."""

    def __init__(self, owner: str, repo: str) -> None:
        self.batch_path = f"/{owner}/{repo}.git/info/lfs/objects/batch"
        self.objects: dict[str, bytes] = {}
        self.downloads: list[tuple[str, int]] = []  # (oid, bytes sent), in order
        self.batches: list[dict[str, Any]] = []  # each batch request's JSON body
        self._grants: dict[str, str] = {}  # download token -> oid it may read
        self.on_download: Callable[[str], None] | None = None  # test hook: called with the oid before sending
        self._lock = threading.Lock()

    def add(self, data: bytes) -> str:
        """Store an object as a push would; returns its oid (sha256 of the content)."""
        oid = hashlib.sha256(data).hexdigest()
        with self._lock:
            self.objects[oid] = data
        return oid

    @property
    def bytes_downloaded(self) -> int:
        return sum(n for _, n in self.downloads)

    def handles(self, path: str) -> bool:
        return path == self.batch_path or _DOWNLOAD.match(path) is not None

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str,
               tokens: set[str]) -> LfsAnswer:
        if path == self.batch_path:
            if method != "POST":
                return _error(405, "Method Not Allowed")
            return self._batch(headers, body, base_url, tokens)
        m = _DOWNLOAD.match(path)
        if m is None or method != "GET":
            return _error(404, "Not Found")
        return self._download(m.group("oid"), headers)

    def _batch(self, headers: dict[str, str], body: bytes, base_url: str, tokens: set[str]) -> LfsAnswer:
        if LFS_JSON not in headers.get("accept", ""):
            return _error(406, f"Accept must be {LFS_JSON}")
        if _basic_password(headers.get("authorization", "")) not in tokens:
            # batch.md: 401 with LFS-Authenticate tells the client which scheme to use.
            return _error(401, "Credentials needed", **{"LFS-Authenticate": 'Basic realm="GitHub"'})
        try:
            request = json.loads(body)
            operation, objects = request["operation"], request["objects"]
        except (ValueError, KeyError, TypeError):
            return _error(422, "Validation Failed")
        if operation != "download":
            return _error(403, "Uploads are not modelled by the bundled server")  # batch.md: 403 read-only
        if "basic" not in request.get("transfers", ["basic"]):
            return _error(422, "Only the basic transfer adapter is supported")
        with self._lock:
            self.batches.append(request)
            answers = [self._download_action(obj, base_url) for obj in objects]
        return _json(200, {"transfer": "basic", "objects": answers, "hash_algo": "sha256"})

    def _download_action(self, obj: dict[str, Any], base_url: str) -> dict[str, Any]:
        oid, size = str(obj.get("oid", "")), obj.get("size")
        data = self.objects.get(oid)
        if data is None or size != len(data):
            # batch.md: per-object errors keep the 200; 404 when the object does not exist.
            return {"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}}
        grant = secrets.token_urlsafe(16)
        self._grants[grant] = oid
        # basic-transfers.md: the client GETs href with exactly the given headers (here a one-object grant,
        # as GitHub's signed storage URLs are), not the repository token.
        return {"oid": oid, "size": size, "authenticated": True, "actions": {"download": {
            "href": f"{base_url}/_lfs/objects/{oid}", "header": {"Authorization": f"RemoteAuth {grant}"},
            "expires_in": 3600}}}

    def _download(self, oid: str, headers: dict[str, str]) -> LfsAnswer:
        scheme, _, grant = headers.get("authorization", "").partition(" ")
        with self._lock:
            if scheme != "RemoteAuth" or self._grants.get(grant) != oid:
                return _error(403, "Forbidden")
            data = self.objects[oid]
            self.downloads.append((oid, len(data)))
        if self.on_download is not None:
            self.on_download(oid)
        return LfsAnswer(200, data, {"Content-Type": "application/octet-stream"})


def pointer_bytes(oid: str, size: int) -> bytes:
    """The pointer git-lfs commits in place of a file (git-lfs docs/spec.md, "The Pointer")."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def _basic_password(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        _, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except ValueError:
        return None
    return password
