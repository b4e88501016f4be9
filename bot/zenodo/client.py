"""An HTTP client for Zenodo's records API (InvenioRDM), with one retry policy and typed answers.

Each method is one API call as ZENODO.md describes it. Calls that are not idempotent and may have
succeeded before their answer was lost (a 504 from the proxy, a dropped connection) read the state back
before trying again, so a lost answer never turns into a second file, a second DOI or a second publish.
The token lives only in the session's headers: it is never part of a message, a repr or a log line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO, TypeVar

import requests

from bot import USER_AGENT
from bot.errors import BotError
from bot.zenodo.models import Draft, FileEntry, Record, doi_of, parse_file_entries, parse_file_entry
from bot.zenodo.retry import RETRYABLE_STATUS, RateBudget, RetryPolicy

log = logging.getLogger("bot.zenodo")

INVENIORDM_JSON = "application/vnd.inveniordm.v1+json"
PLAIN_JSON = "application/json"  # file endpoints only speak this one
OCTET_STREAM = "application/octet-stream"  # what an upload's body is (Content-Type), never an Accept
# File content routes negotiate like the others and name no binary type (flask-resources: an Accept of
# "application/octet-stream" alone is a 406): only a wildcard gets the bytes.
ANY = "*/*"

T = TypeVar("T")

_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a bearer token is made of
# An answer that never arrived whole: the call may or may not have taken effect.
_LOST_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # the body was cut off
    requests.exceptions.ContentDecodingError,
)


class ZenodoError(BotError):
    """Zenodo refused or failed a call. Carries its status, message and the ``errors`` list it sent."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Sequence[dict[str, Any]] = (),
        method: str | None = None,
        path: str | None = None,
        html_summary: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.errors = list(errors)
        self.method = method
        self.path = path
        self.html_summary = html_summary
        where = f"{method} {path}" if method and path else (path or "Zenodo")
        text = f"{where}: {message}"
        if self.errors:
            text += " (" + "; ".join(_error_text(e) for e in self.errors) + ")"
        super().__init__(text, hint if hint is not None else _hint_for(status, self.errors))

    @property
    def fields(self) -> list[str]:
        return [str(e.get("field")) for e in self.errors if isinstance(e, dict) and e.get("field")]

    def __repr__(self) -> str:
        return f"ZenodoError(status={self.status!r}, message={self.message!r})"


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    messages = error.get("messages") or error.get("message") or error.get("description") or ""
    if isinstance(messages, list):
        messages = " ".join(map(str, messages))
    community = (error.get("context") or {}).get("community") if isinstance(error.get("context"), dict) else None
    where = f" (community {community})" if community else ""
    return f"{error.get('field', '?')}: {messages}{where}"


def split_errors(errors: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(what blocks, what is only reported) of an answer's ``errors`` list.

    Entries of community checks carry a ``severity`` and a ``context.community``; invenio-checks
    (invenio_checks/components.py, ChecksComponent.publish) refuses to publish only on ``severity ==
    "error"``. Entries without a severity are the schema's own: the field was dropped, which blocks.
    """
    blocking: list[Any] = []
    notices: list[Any] = []
    for error in errors:
        severity = error.get("severity") if isinstance(error, dict) else None
        (notices if severity is not None and severity != "error" else blocking).append(error)
    return blocking, notices


def _hint_for(status: int | None, errors: Sequence[Any]) -> str | None:
    if status == 403:
        return ("check the Zenodo token: it must belong to the record's owner and have the "
                "deposit:write and deposit:actions scopes")
    if status == 404:
        return ("check the record id in release-config.yaml (zenodo.record) and that zenodo.api_url "
                "points at the right Zenodo")
    if status == 429:
        return ("Zenodo's rate limit (about 100 requests a minute, 5,000 an hour, per client) is exhausted; "
                "rerun in a while")
    if status is None or status >= 500:
        return "Zenodo or the network failed repeatedly; the release steps are safe to rerun later"
    if errors:
        return "fix the named metadata fields (in the draft on Zenodo or in the release inputs) and rerun"
    return None


def _html_summary(text: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S) or re.search(
        r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S
    )
    raw = m.group(1) if m else re.sub(r"<[^>]*>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(raw)).strip()[:120] or "(empty body)"


class _Lost(Exception):
    """An attempt whose answer says nothing definite: a 5xx, a dropped connection, a timeout."""

    def __init__(self, what: str, status: int | None = None, html_summary: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.html_summary = html_summary


class _StreamingBody:
    """A file object for requests: a fixed length (so Content-Length, not chunked), progress per read."""

    def __init__(self, raw: BinaryIO, size: int, on_read: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._size = size
        self._on_read = on_read

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        chunk = self._raw.read(n)
        if self._on_read is not None and chunk:
            self._on_read(len(chunk))
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk


class ZenodoClient:
    """One session against one Zenodo. ``calls`` counts HTTP requests, ``calls_by_step`` per release step."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
        upload_timeout: float = 900.0,
        session: requests.Session | None = None,
    ) -> None:
        token = (token or "").strip()  # a secret pasted from a file often ends in a newline
        if not token:
            raise ZenodoError("no Zenodo token given", hint="put the token in the environment")
        if not _TOKEN_CHARS.fullmatch(token):
            # requests would refuse the header and quote it, token included, in its exception.
            raise ZenodoError(
                "the Zenodo token holds spaces or control characters (its value is not shown)",
                hint="set ZENODO_TOKEN to the token alone, as Zenodo showed it, without quotes or spaces",
            )
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.policy = policy or RetryPolicy()
        self.budget = RateBudget(now=now)
        self._now = now
        self.timeout = timeout
        self.upload_timeout = upload_timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT})
        self.calls = 0
        self.calls_by_step: Counter[str] = Counter()
        self.slept = 0.0
        self.rate_waited = 0.0  # of the policy's rate_wait_budget, shared by every call of this client
        self._step = "other"

    def __repr__(self) -> str:  # no headers: they hold the token
        return f"ZenodoClient({self.base_url!r}, calls={self.calls})"

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Count the calls made inside the block under ``name``."""
        outer, self._step = self._step, name
        try:
            yield
        finally:
            self._step = outer

    # ---- the one request loop -------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept += seconds
            self.sleep(seconds)

    def _rate_wait(self, seconds: float) -> bool:
        """Wait ``seconds`` for the rate limit if the run's budget allows it; False (no wait) if not."""
        if self.rate_waited + seconds > self.policy.rate_wait_budget:
            return False
        self.rate_waited += seconds
        self._sleep(seconds)
        return True

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        self._rate_wait(self.budget.pause())  # nearly out of requests: wait for the reset if affordable
        try:
            resp = self.session.request(method, self.base_url + path, **kwargs)
        except _LOST_ERRORS as exc:
            self._count(1)
            # The exception text may quote the URL but never the headers; keep only its class name.
            raise _Lost(f"connection failed ({type(exc).__name__})") from None
        self._count(1 + len(resp.history))
        self.budget.observe(resp.headers)
        log.debug("%s %s -> %s", method, path, resp.status_code)
        return resp

    def _count(self, n: int) -> None:
        self.calls += n
        self.calls_by_step[self._step] += n

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[requests.Response], T],
        *,
        expect: Sequence[int] = (200,),
        json: Any = None,
        body: Callable[[], BinaryIO] | None = None,
        size: int | None = None,
        accept: str = INVENIORDM_JSON,
        reconcile: Callable[[], T | None] | None = None,
        on_read: Callable[[int], None] | None = None,
        stream: bool = False,
    ) -> T:
        """Send one call, retrying by the policy; ``reconcile`` reads back a call whose answer was lost.

        ``reconcile`` returns the call's result when the state shows it took effect, else None (try again).
        """
        failures = rate_waits = 0
        while True:
            kwargs, opened = self._request_options(accept, stream, json, body, size, on_read)
            try:
                try:
                    resp = self._send(method, path, **kwargs)
                finally:
                    if opened is not None:
                        opened.close()
                if resp.status_code in expect:
                    return parse(resp)
                if resp.status_code == 429:
                    rate_waits += 1
                    wait = self.policy.rate_wait(resp.headers, self._now())
                    if rate_waits > self.policy.max_rate_waits or not self._rate_wait(wait):
                        raise self._rate_limited(method, path, wait)
                    self.budget.remaining = None  # waited already; do not wait again for the same reset
                    continue
                if resp.status_code in RETRYABLE_STATUS:
                    raise _Lost(f"answered {resp.status_code}", resp.status_code, self._summary(resp))
                raise self._error(method, path, resp)
            except _Lost as lost:
                failures += 1
                log.info("%s %s: %s (attempt %d)", method, path, lost.what, failures)
                if failures >= self.policy.max_attempts:
                    raise ZenodoError(
                        f"{lost.what} {failures} times, giving up",
                        status=lost.status, method=method, path=path, html_summary=lost.html_summary,
                    ) from None
                self._sleep(self.policy.backoff(failures))
                if reconcile is not None:
                    done = reconcile()
                    if done is not None:
                        return done

    def _request_options(
        self, accept: str, stream: bool, json: Any, body: Callable[[], BinaryIO] | None, size: int | None,
        on_read: Callable[[int], None] | None,
    ) -> tuple[dict[str, Any], BinaryIO | None]:
        """requests' keyword arguments for one attempt, and the body it opened (closed after the attempt)."""
        headers = {"Accept": accept}
        kwargs: dict[str, Any] = {"headers": headers, "timeout": self.timeout, "stream": stream}
        opened: BinaryIO | None = None
        if json is not None:
            kwargs["json"] = json
        if body is not None:
            opened = body()
            headers["Content-Type"] = OCTET_STREAM
            headers["Content-Length"] = str(size)
            kwargs["data"] = _StreamingBody(opened, int(size or 0), on_read)
            kwargs["timeout"] = (self.timeout, self.upload_timeout)
        return kwargs, opened

    def _rate_limited(self, method: str, path: str, wait: float) -> ZenodoError:
        """Stop rather than wait past the run's budget: say when a rerun will be let in."""
        when = dt.datetime.fromtimestamp(self._now() + wait, dt.UTC)
        return ZenodoError(
            f"answered 429: Zenodo's rate limit asks to wait {wait:.0f} s, more than this run may spend "
            f"waiting ({self.policy.rate_wait_budget - self.rate_waited:.0f} s of "
            f"{self.policy.rate_wait_budget:.0f} s left)",
            status=429, method=method, path=path,
            hint=f"rerun after {when:%Y-%m-%d %H:%M} UTC; every step is safe to rerun (the limit belongs to "
                 "this client's address and user agent, not to the token)",
        )

    @staticmethod
    def _summary(resp: requests.Response) -> str | None:
        if "json" in resp.headers.get("Content-Type", ""):
            return None
        return _html_summary(resp.text)

    def _error(self, method: str, path: str, resp: requests.Response) -> ZenodoError:
        status = resp.status_code
        try:
            data = resp.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            errors = data.get("errors")
            return ZenodoError(
                f"answered {status}: {data.get('message') or resp.reason}",
                status=status, errors=errors if isinstance(errors, list) else [], method=method, path=path,
            )
        summary = _html_summary(resp.text)
        return ZenodoError(f"answered {status}: {summary}", status=status, method=method, path=path,
                           html_summary=summary)

    # ---- records ----------------------------------------------------------------------------------

    def get_record(self, record_id: str) -> Record:
        return self._call("GET", f"/records/{record_id}", _record)

    def find_record(self, record_id: str) -> Record | None:
        """The published record, or None when there is none (404: not published, or a draft only)."""
        return self._call("GET", f"/records/{record_id}", _record_or_none, expect=(200, 404, 410))

    def latest_record(self, record_id: str) -> Record:
        """The latest published version of the concept ``record_id`` (any version, or the concept) is in."""
        return self._call("GET", f"/records/{record_id}/versions/latest", _record)

    def record_files(self, record_id: str) -> dict[str, FileEntry]:
        return self._call("GET", f"/records/{record_id}/files", _files, accept=PLAIN_JSON)

    def download(self, record_id: str, key: str, max_bytes: int = 16 << 20) -> bytes:
        """A small published file's content (fields.json); big files are read by the catalog's range reader."""

        def content(resp: requests.Response) -> bytes:
            data = bytearray()
            for chunk in resp.iter_content(1 << 16):  # streamed: a huge file never lands in memory
                data += chunk
                if len(data) > max_bytes:
                    resp.close()
                    raise ZenodoError(f"{key} of record {record_id} is larger than {max_bytes} bytes",
                                      hint="read large files with a streaming reader")
            return bytes(data)

        return self._call("GET", f"/records/{record_id}/files/{_quote(key)}/content", content, accept=ANY,
                          stream=True)

    def user_drafts(self, query: str) -> list[Draft]:
        """The token owner's unpublished drafts matching an InvenioRDM search query."""
        params = f"?q={urllib.parse.quote(query)}&is_published=false&allversions=true&size=25"
        return self._call("GET", f"/user/records{params}", _drafts)

    # ---- drafts -----------------------------------------------------------------------------------

    def get_draft(self, draft_id: str) -> Draft:
        return self._call("GET", f"/records/{draft_id}/draft", _draft)

    def find_draft(self, draft_id: str) -> Draft | None:
        return self._call("GET", f"/records/{draft_id}/draft", _draft_or_none, expect=(200, 404, 410))

    def new_version(self, published_id: str) -> Draft:
        """POST versions: idempotent by design (answers the pending draft if one exists), so just retried."""
        return self._call("POST", f"/records/{published_id}/versions", _draft, expect=(200, 201))

    def draft_files(self, draft_id: str) -> dict[str, FileEntry]:
        return self._call("GET", f"/records/{draft_id}/draft/files", _files, accept=PLAIN_JSON)

    def import_files(self, draft_id: str) -> dict[str, FileEntry]:
        """Copy the previous version's files into an empty draft; returns the draft's files after."""

        def took_effect() -> dict[str, FileEntry] | None:
            files = self.draft_files(draft_id)
            return files or None

        return self._call(
            "POST", f"/records/{draft_id}/draft/actions/files-import",
            lambda r: _files(r) or self.draft_files(draft_id),
            expect=(200, 201), reconcile=took_effect,
        )

    def delete_draft_file(self, draft_id: str, key: str) -> None:
        """Delete one file of a draft. There is deliberately no "delete all": InvenioRDM's
        ``DELETE .../draft/files`` soft-deletes the rows, and importing the same keys again may collide."""

        def took_effect() -> bool | None:
            return True if key not in self.draft_files(draft_id) else None

        path = f"/records/{draft_id}/draft/files/{_quote(key)}"
        self._call("DELETE", path, lambda r: True, expect=(204,), accept=PLAIN_JSON, reconcile=took_effect)

    def discard_draft(self, draft_id: str) -> None:
        """Delete an unpublished draft (its reserved DOI is never registered)."""

        def took_effect() -> bool | None:
            return True if self.find_draft(draft_id) is None else None

        self._call("DELETE", f"/records/{draft_id}/draft", lambda r: True, expect=(204,), reconcile=took_effect)

    def start_uploads(self, draft_id: str, keys: Sequence[str]) -> None:
        """Declare files to upload, all in one call."""

        def took_effect() -> bool | None:
            return True if set(keys) <= set(self.draft_files(draft_id)) else None

        self._call("POST", f"/records/{draft_id}/draft/files", lambda r: True, expect=(200, 201),
                   json=[{"key": k} for k in keys], accept=PLAIN_JSON, reconcile=took_effect)

    def upload_content(
        self,
        draft_id: str,
        key: str,
        open_file: Callable[[], BinaryIO],
        size: int,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        """Stream a declared file's bytes; the file is opened afresh for every attempt."""

        def redeclare_if_dropped() -> None:
            # A cut-off upload removes the file from the draft: declare it again before resending.
            if key not in self.draft_files(draft_id):
                self.start_uploads(draft_id, [key])
            return None

        def check(resp: requests.Response) -> None:
            data = _json_or_none(resp)
            if isinstance(data, dict) and data.get("errors"):
                # Zenodo's way of saying the transfer failed: 200, an "errors" string, and the file gone.
                raise ZenodoError(
                    f"upload of {key} failed: {data['errors']}", status=resp.status_code,
                    method="PUT", path=f"/records/{draft_id}/draft/files/{key}/content",
                    hint="rerun: the draft step removes the broken entry and uploads the file again",
                )

        self._call(
            "PUT", f"/records/{draft_id}/draft/files/{_quote(key)}/content", check,
            body=open_file, size=size, accept=PLAIN_JSON, reconcile=redeclare_if_dropped, on_read=on_read,
        )

    def commit_file(self, draft_id: str, key: str) -> FileEntry:
        def took_effect() -> FileEntry | None:
            entry = self.draft_files(draft_id).get(key)
            return entry if entry is not None and entry.committed else None

        return self._call(
            "POST", f"/records/{draft_id}/draft/files/{_quote(key)}/commit",
            lambda r: parse_file_entry(r.json()), expect=(200, 201), accept=PLAIN_JSON, reconcile=took_effect,
        )

    def update_draft(self, draft_id: str, body: dict[str, Any]) -> Draft:
        """PUT the whole draft (idempotent). A 200 with field ``errors`` is a failure: those fields were
        dropped. Community checks' entries (with a ``severity``) block only at ``severity: error``."""

        def check(resp: requests.Response) -> Draft:
            data = resp.json()
            blocking, notices = split_errors(data.get("errors") or [])
            for notice in notices:
                log.warning("Zenodo, community check (%s): %s", notice.get("severity"), _error_text(notice))
            if blocking:
                raise ZenodoError(
                    "the draft was saved without some fields, or a community check failed: Zenodo rejected "
                    "them", status=resp.status_code,
                    errors=blocking, method="PUT", path=f"/records/{draft_id}/draft",
                )
            return Draft.from_json(data)

        if "pids" in body and not body["pids"]:
            # "pids": {} detaches a reserved DOI; leaving the key out keeps whatever the draft has.
            body = {k: v for k, v in body.items() if k != "pids"}
        return self._call("PUT", f"/records/{draft_id}/draft", check, json=body)

    def reserve_doi(self, draft_id: str) -> Draft:
        """Reserve the draft's DOI. A second reservation answers 400: then the draft already holds one."""

        def took_effect() -> Draft | None:
            draft = self.get_draft(draft_id)
            return draft if draft.doi else None

        def answer(resp: requests.Response) -> Draft:
            data = _json_or_none(resp)
            if isinstance(data, dict) and "id" in data and doi_of(data):
                return Draft.from_json(data)
            return self.get_draft(draft_id)  # an answer holding only the pid: read the draft back

        path = f"/records/{draft_id}/draft/pids/doi"
        try:
            return self._call("POST", path, answer, expect=(200, 201), reconcile=took_effect)
        except ZenodoError as exc:
            if exc.status != 400 or (draft := took_effect()) is None:
                raise
            return draft

    def publish(self, draft_id: str) -> Record:
        """Publish; a lost answer (504, a dropped connection) is checked by reading the record first."""

        def took_effect() -> Record | None:
            record = self.find_record(draft_id)
            return record if record is not None and record.is_published else None

        return self._call(
            "POST", f"/records/{draft_id}/draft/actions/publish", _record,
            expect=(200, 202), reconcile=took_effect,
        )


def _quote(key: str) -> str:
    return urllib.parse.quote(key, safe="")


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _files(resp: requests.Response) -> dict[str, FileEntry]:
    return parse_file_entries(resp.json())


def _record(resp: requests.Response) -> Record:
    return Record.from_json(resp.json())


def _draft(resp: requests.Response) -> Draft:
    return Draft.from_json(resp.json())


def _drafts(resp: requests.Response) -> list[Draft]:
    hits = (resp.json().get("hits") or {}).get("hits") or []
    return [Draft.from_json(h) for h in hits if not h.get("is_published", False)]


def _record_or_none(resp: requests.Response) -> Record | None:
    return Record.from_json(resp.json()) if resp.status_code == 200 else None


def _draft_or_none(resp: requests.Response) -> Draft | None:
    return Draft.from_json(resp.json()) if resp.status_code == 200 else None
