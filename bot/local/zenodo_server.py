"""A local, Zenodo-compatible server (InvenioRDM records API) for the demo, the tests and curious users.

It speaks the API of ``/work/shared/domain/ZENODO.md`` on 127.0.0.1, traps included, with real state:
published versions grouped by a concept, drafts, reserved DOIs, files streamed to disk. Only the base URL
tells a client it is not talking to Zenodo.

    with ZenodoServer(tokens={"secret"}) as server:      # started; port picked by the OS
        concept, record = server.seed_concept({"fields.json": b"[296]"}, {"title": "..."})
        server.faults.add("POST", r"/actions/publish$", "after")   # publish, then answer 504
        ... drive server.url with any HTTP client ...

From the shell: ``release-bot serve-zenodo --port 5800 --data DIR --seed-demo``. The token is read from
``ZENODO_TOKEN`` (or ``--token`` where the CLI offers it); without either, the demo's fixed token
``local-token`` is accepted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.errors import UsageError
from bot.local.zenodo.demo import demo_files, demo_metadata
from bot.local.zenodo.faults import Faults
from bot.local.zenodo.frontend import Frontend, ZenodoHTTPServer, serve_in_thread
from bot.local.zenodo.metadata import check_metadata
from bot.local.zenodo.ratelimit import RateLimiter
from bot.local.zenodo.routes import Api
from bot.local.zenodo.shapes import record_json
from bot.local.zenodo.store import Limits, Store

DEFAULT_TOKEN = "local-token"
__all__ = ["DEFAULT_TOKEN", "ZenodoServer", "run"]


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


class ZenodoServer:
    """The server as an object: start it, point a client at ``url``, inspect and steer it from a test."""

    def __init__(
        self,
        data_dir: Path | str | None = None,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        rate_limit_per_min: int = 100,
        max_file_bytes: int = 50 * 10**9,
        today: Callable[[], str] | None = None,
        *,
        max_record_bytes: int | None = None,
        max_files: int = 100,
        port: int = 0,
        doi_prefix: str = "10.5281",
        api_range: bool = False,
        rate_limit_per_hour: int | None = None,
        record_pages: bool = True,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="zenodo-server-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tokens = frozenset(tokens)
        self.port = port
        limits = Limits(max_file_bytes, max_record_bytes if max_record_bytes is not None else max_file_bytes,
                        max_files)
        self.state = Store(self.data_dir, today or _today, doi_prefix, limits)
        self.faults = Faults()
        self.limiter = RateLimiter(rate_limit_per_min, rate_limit_per_hour)
        self.api_range = api_range
        self.record_pages = record_pages
        self._frontend: Frontend | None = None
        self._httpd: ZenodoHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> str:
        """Listen on 127.0.0.1 and serve in a background thread; returns the API base URL."""
        if self._httpd is not None:
            return self.url
        api = Api(self.state, "", self.tokens, api_range=self.api_range, record_pages=self.record_pages)
        self._frontend = Frontend(api, self.limiter, self.faults)
        self._httpd = ZenodoHTTPServer(self.port, self._frontend)
        self.port = self._httpd.server_address[1]
        self.url = api.base = f"http://127.0.0.1:{self.port}/api"
        self._thread = serve_in_thread(self._httpd)
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_connections()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ZenodoServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- introspection -----------------------------------------------------------------------------
    @property
    def calls(self) -> list[tuple[str, str, int]]:
        """Every answered request as (method, path, status); 0 when the connection was dropped."""
        return self._frontend.calls if self._frontend else []

    @property
    def traffic(self) -> list[tuple[str, str, int, int, int]]:
        """Every answered request as (method, path, status, body bytes received, body bytes sent)."""
        return self._frontend.traffic if self._frontend else []

    @property
    def dois_reserved(self) -> int:
        return self.state.dois_reserved

    def drafts_of(self, concept_id: str) -> list[dict[str, Any]]:
        """The concept's unpublished drafts, in the InvenioRDM shape (a healthy concept has 0 or 1)."""
        return [self.record(r["id"]) for r in self.state.drafts_of(concept_id)]

    def published_versions(self, concept_id: str) -> list[dict[str, Any]]:
        """The concept's published versions, oldest first, in the InvenioRDM shape."""
        return [self.record(r["id"]) for r in self.state.published_versions(concept_id)]

    def record(self, record_id: str) -> dict[str, Any]:
        """Any record or draft in the InvenioRDM shape."""
        with self.state.lock:
            return record_json(self.state, self.url, self.state.records[str(record_id)])

    def doi_status(self, record_id: str) -> str | None:
        """``reserved``, ``registered`` (published) or ``external``; None without a DOI."""
        with self.state.lock:
            doi = self.state.records[str(record_id)]["doi"]
            return doi["status"] if doi else None

    def file_bytes(self, record_id: str, key: str) -> bytes:
        """A stored file's content (for tests on small files)."""
        with self.state.lock:
            entry = self.state.entry(self.state.records[str(record_id)], key)
            return self.state.blob_path(entry["blob"]).read_bytes()

    # -- seeding -----------------------------------------------------------------------------------
    def add_community_check(self, field: str, message: str, severity: str = "error",
                            community: str = "ztf-scope") -> None:
        """A community's check (invenio-checks) reporting on every draft save; "error" blocks publishing."""
        self.state.community_checks.append({"field": field, "messages": [message], "severity": severity,
                                            "community": community})

    def seed_concept(self, files: Mapping[str, bytes | Path], metadata: dict[str, Any],
                     version: str = "v1.0.0", default_preview: str | None = None) -> tuple[str, str]:
        """Create a concept whose first version, ``version``, is published with these files (in this
        order, ``default_preview`` the one its page previews)."""
        metadata = {"publication_date": self.state.today(), **metadata, "version": version}
        checked = check_metadata(metadata)
        if checked.rejected or checked.dropped:
            problems = "; ".join(f"{e.field}: {e.message}" for e in checked.rejected + checked.dropped)
            raise ValueError(f"seed metadata is not valid: {problems}")
        store = self.state
        with store.lock:
            rec, _ = store.create_draft({"metadata": metadata})
            rid = rec["id"]
            store.init_files(rid, list(files))
            for key, content in files.items():
                target = store.new_upload_path()
                md5 = hashlib.md5(usedforsecurity=False)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                    md5.update(content)
                else:
                    shutil.copyfile(content, target)
                    with open(target, "rb") as fh:
                        for piece in iter(functools.partial(fh.read, 1 << 20), b""):
                            md5.update(piece)
                store.set_content(rid, key, target, target.stat().st_size, md5.hexdigest())
                store.commit(rid, key)
            rec["files_meta"] = {"default_preview": default_preview, "order": list(files)}
            store.publish(rid)
            return rec["concept"], rid


def run(args: argparse.Namespace) -> int:
    """``release-bot serve-zenodo``: serve until Ctrl-C."""
    token = getattr(args, "token", None) or os.environ.get("ZENODO_TOKEN") or DEFAULT_TOKEN
    rate_limit = getattr(args, "rate_limit", None) or 100  # a --rate-limit flag, where the CLI offers it
    server = ZenodoServer(data_dir=args.data, tokens={token}, port=args.port, rate_limit_per_min=rate_limit,
                          api_range=bool(getattr(args, "api_range", False)))
    try:
        url = server.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
                         hint="pick another --port, or 0 to let the system choose") from None
    out = sys.stdout
    print(f"Zenodo-compatible server at {url}", file=out)
    print("  file content on the API: " + ("byte ranges honoured (--api-range)" if server.api_range
                                           else "Range ignored, as on zenodo.org"), file=out)
    print("  token: " + ("from ZENODO_TOKEN/--token" if token != DEFAULT_TOKEN else "the demo's local token"),
          file=out)
    if args.data:
        print(f"  state kept in {Path(args.data).resolve()}", file=out)
    if getattr(args, "seed_demo", False):
        existing = [cid for cid, c in server.state.concepts.items() if c["versions"]]
        if existing:
            concept = existing[0]
        else:
            concept, _ = server.seed_concept(demo_files(), demo_metadata(server.state.today()))
        print(f"  demo concept record: {concept} (latest: {url}/records/{concept}/versions/latest)", file=out)
    out.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
