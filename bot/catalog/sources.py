"""Byte sources for the previous catalog zip: a local file, or a URL read by ranges or front to back.

The build reads the previous zip's tail (its directories) once, then each run of carried members as one
sequential range, so a 20 GB zip on Zenodo costs a handful of requests and never lands on the runner's disk.
Where the server ignores Range, the whole file is read once for its directories and once more, front to
back, while the carried members pass (at most twice the carried bytes, still no disk).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import requests

from bot import __version__
from bot.catalog.errors import SourceError
from bot.catalog.httpread import MAX_WAIT, Forward, Retry, TailKeeper, retry_after

log = logging.getLogger("bot.catalog")

CHUNK = 1 << 20
TAIL_SIZE = (1 << 16) + 22  # the end record with the longest comment a zip can have
KEEP_TAIL = 8 << 20  # when the server ignores Range: bytes kept from the end of the whole-file read
FORWARD_CHUNK = 1 << 16  # a front-to-back read that stops early leaves at most this much unread
RANGES, FORWARD = "ranges", "front-to-back"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
# Statuses worth another try: rate limiting and the proxy's transient failures.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a bearer token is made of


class ByteSource(Protocol):
    name: str  # for messages: a path or a URL without its query
    size: int
    bytes_read: int
    requests: int  # reads started (HTTP requests, or sequential reads of a file)

    def read_at(self, offset: int, length: int) -> bytes: ...

    def iter_range(self, start: int, end: int, chunk_size: int = CHUNK) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class LocalSource:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            raise SourceError(
                "previous catalog zip not found",
                hint="pass the path of the last release's zip, or a URL",
                location=self.name,
            ) from None
        except OSError as exc:
            raise SourceError(
                f"cannot open the previous catalog zip ({exc.strerror})", location=self.name
            ) from None
        self.size = os.fstat(self._file.fileno()).st_size
        self.bytes_read = 0
        self.requests = 0

    def read_at(self, offset: int, length: int) -> bytes:
        return b"".join(self.iter_range(offset, offset + length))

    def iter_range(self, start: int, end: int, chunk_size: int = CHUNK) -> Iterator[bytes]:
        self.requests += 1
        pos = start
        while pos < end:
            chunk = os.pread(self._file.fileno(), min(chunk_size, end - pos), pos)
            if not chunk:
                raise SourceError(
                    f"file ends at byte {pos}, expected data up to byte {end}",
                    hint="the previous zip is truncated: copy it again",
                    location=self.name,
                )
            pos += len(chunk)
            self.bytes_read += len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


class HttpSource:
    """A file on a web server, read by byte ranges when the server allows them, else front to back.

    The first request asks for the file's tail. A 206 means ranges work: each later read is one range
    request (``mode == RANGES``). A 200 means the server ignores ``Range`` (zenodo.org's API content URL
    does): that one response is read to its end, keeping the last ``keep_tail`` bytes (the zip's
    directories), and later reads come from a single response read front to back (``mode == FORWARD``),
    so carried members are copied as they pass. Bytes already held in the tail are never fetched again.

    Redirects are followed (Zenodo sends downloads to its storage); requests drops the ``Authorization``
    header when a redirect leaves the host, so the token never reaches the storage. A read that fails or
    is cut off resumes where it stopped, up to ``retries`` times in a row.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: tuple[float, float] = (15.0, 120.0),
        tail_size: int = TAIL_SIZE,
        keep_tail: int = KEEP_TAIL,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self.name = f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query: it may hold a signature
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.session = session or requests.Session()
        # File content endpoints negotiate on Accept and offer no binary type by name (flask-resources
        # answers 406 to "application/octet-stream"): a wildcard is what every download route serves.
        self.headers = {"User-Agent": f"release-bot/{__version__}", "Accept": "*/*"}
        token = (token or "").strip()  # a secret pasted from a file often ends in a newline
        if token:
            if not _TOKEN_CHARS.fullmatch(token):
                # requests would refuse the header and quote it, token included, in its exception.
                raise SourceError(
                    "the Zenodo token holds spaces or control characters (its value is not shown)",
                    hint="set ZENODO_TOKEN to the token alone, as Zenodo showed it, without quotes or spaces",
                    location=self.name,
                )
            self.headers["Authorization"] = f"Bearer {token}"
        self.bytes_read = 0
        self.requests = 0
        self.passes = 0  # whole-file reads from the start (FORWARD mode)
        self.mode = RANGES
        self.size = -1
        self._forward: Forward | None = None
        self._tail_start, self._tail = self._fetch_tail(tail_size, max(keep_tail, tail_size))

    @property
    def file_name(self) -> str:
        """The file's name: the key of a Zenodo ``.../files/<key>[/content]`` URL, else the last segment."""
        segments = [unquote(s) for s in urlsplit(self.url).path.split("/") if s]
        if len(segments) >= 2 and segments[-1] == "content":
            return segments[-2]
        return segments[-1] if segments else ""

    def describe(self) -> str:
        """How the file was read, for logs and summaries."""
        if self.mode == RANGES:
            return f"byte ranges ({self.requests} requests, {self.bytes_read:,} bytes)"
        return (f"front to back: the server ignores Range ({self.passes} whole-file read(s), "
                f"{self.bytes_read:,} bytes)")

    def _count(self, n: int) -> None:
        self.bytes_read += n

    def _fetch_tail(self, tail_size: int, keep_tail: int) -> tuple[int, bytes]:
        """One request learns the size and brings the end of the file, where the zip's directories are."""
        for attempt in range(self.retries + 1):
            try:
                resp = self._request(f"bytes=-{tail_size}")
                try:
                    if resp.status_code == 416:
                        raise SourceError("the server says the file is empty", location=self.name)
                    if resp.status_code == 200:
                        return self._read_whole(resp, keep_tail)
                    first, _last, total = self._content_range(resp)
                    data = resp.content
                finally:
                    resp.close()
                self.size = total
                if first + len(data) != total:
                    raise Retry(f"short tail read: {len(data)} bytes from {first} of {total}")
                self._count(len(data))
                return first, data
            except (Retry, requests.RequestException) as exc:
                self._wait(attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_whole(self, resp: requests.Response, keep_tail: int) -> tuple[int, bytes]:
        """The server sent the whole file: read it once, keeping its tail."""
        self.mode = FORWARD
        self.passes += 1
        log.info("%s: the server ignores Range; reading it front to back", self.name)
        keeper = TailKeeper(keep_tail)
        for chunk in resp.iter_content(CHUNK):
            self._count(len(chunk))
            keeper.add(chunk)
        expected = resp.headers.get("Content-Length", "")
        if expected.isdigit() and int(expected) != keeper.total:
            raise Retry(f"the response ended at byte {keeper.total} of {expected}")
        if keeper.total == 0:
            raise SourceError("the server says the file is empty", location=self.name)
        self.size = keeper.total
        return keeper.tail()

    def _no_ranges_hint(self) -> str:
        return "the server answered a range read with a different file: rerun, or pass a local copy"

    def _content_range(self, resp: requests.Response) -> tuple[int, int, int]:
        m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if not m or m.group(3) == "*":
            raise SourceError(
                f"unusable Content-Range header {resp.headers.get('Content-Range')!r}", location=self.name
            )
        return int(m.group(1)), int(m.group(2)), int(m.group(3))

    def _request(self, byte_range: str | None) -> requests.Response:
        self.requests += 1
        headers = {**self.headers, "Range": byte_range} if byte_range else self.headers
        resp = self.session.get(self.url, headers=headers, stream=True, timeout=self.timeout,
                                allow_redirects=True)
        if resp.status_code in _RETRY_STATUSES:
            wait = retry_after(resp.headers.get("Retry-After", ""))
            resp.close()
            raise Retry(f"HTTP {resp.status_code}", wait)
        if resp.status_code in (401, 403, 404, 406, 410):
            resp.close()
            raise SourceError(f"HTTP {resp.status_code} reading the previous zip",
                              hint=_STATUS_HINTS[resp.status_code], location=self.name, status=resp.status_code)
        if resp.status_code not in (200, 206, 416):
            resp.close()
            raise SourceError(
                f"unexpected HTTP {resp.status_code} reading the previous zip", location=self.name
            )
        return resp

    def _wait(self, attempt: int, exc: Exception) -> None:
        if attempt >= self.retries:
            raise SourceError(
                f"reading failed after {self.retries + 1} attempts ({exc})",
                hint="the network or the server is failing: rerun the job later",
                location=self.name,
            ) from None
        wait = exc.wait if isinstance(exc, Retry) and exc.wait is not None else self.backoff * 2**attempt
        time.sleep(min(wait, MAX_WAIT))

    def read_at(self, offset: int, length: int) -> bytes:
        return b"".join(self.iter_range(offset, offset + length))

    def iter_range(self, start: int, end: int, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The bytes of ``[start, end)``: fetched up to the held tail, the rest served from it."""
        split = max(start, min(end, self._tail_start))
        if start < split:
            read = self._ranged if self.mode == RANGES else self._forward_range
            yield from read(start, split, chunk_size)
        if split < end:
            yield self._tail[split - self._tail_start : end - self._tail_start]

    def _ranged(self, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
        pos = start
        failures = 0
        while pos < end:
            try:
                resp = self._request(f"bytes={pos}-{end - 1}")
                if resp.status_code == 200:  # ranges stopped working: carry on from this whole response
                    self._adopt(resp)
                    yield from self._forward_range(pos, end, chunk_size)
                    return
                try:
                    yield from self._range_body(resp, pos, end, chunk_size)
                    pos = end
                finally:
                    resp.close()
            except _Progress as progress:
                pos = progress.pos
                failures = 0 if progress.moved else failures
                self._wait(failures, progress.cause)
                failures += 1
            except (Retry, requests.RequestException) as exc:
                self._wait(failures, exc)
                failures += 1

    def _range_body(self, resp: requests.Response, pos: int, end: int, chunk_size: int) -> Iterator[bytes]:
        """Yield a 206's body; a failure part-way raises ``_Progress`` saying where to resume."""
        start = pos
        if resp.status_code == 416:
            raise SourceError(
                f"bytes {pos}-{end - 1} are past the end of the file",
                hint="the file changed on the server while it was read: rerun",
                location=self.name,
            )
        first, _last, _total = self._content_range(resp)
        if first != pos:
            raise Retry(f"asked for byte {pos}, the server started at {first}")
        try:
            for chunk in resp.iter_content(chunk_size):
                chunk = chunk[: end - pos]
                pos += len(chunk)
                self._count(len(chunk))
                yield chunk
                if pos >= end:
                    return
        except requests.RequestException as exc:
            raise _Progress(pos, pos > start, exc) from None
        raise _Progress(pos, pos > start, Retry(f"the response ended at byte {pos}, before byte {end}"))

    def _adopt(self, resp: requests.Response) -> None:
        """A whole-file answer to a range read: from now on read front to back, starting with this one."""
        log.info("%s: the server stopped honouring Range; reading it front to back", self.name)
        self.mode = FORWARD
        self.passes += 1
        self._close_forward()
        self._forward = Forward(resp, FORWARD_CHUNK, self._count)

    def _forward_range(self, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
        failures = 0
        while start < end:
            forward = self._forward
            if forward is None or forward.pos > start:  # behind us: only a new read from byte 0 helps
                self._close_forward()
                try:
                    forward = self._forward = self._open_forward()
                except (Retry, requests.RequestException) as exc:
                    self._wait(failures, exc)
                    failures += 1
                    continue
            try:
                for piece in forward.read_range(start, end):
                    start += len(piece)
                    failures = 0
                    yield piece
            except (Retry, requests.RequestException) as exc:
                self._close_forward()
                self._wait(failures, exc)
                failures += 1

    def _open_forward(self) -> Forward:
        resp = self._request(None)
        if resp.status_code != 200:
            resp.close()
            raise SourceError(f"HTTP {resp.status_code} to a plain read", hint=self._no_ranges_hint(),
                              location=self.name)
        self.passes += 1
        if self.passes > 2:
            log.warning("%s: read from the start %d times (members out of order)", self.name, self.passes)
        return Forward(resp, FORWARD_CHUNK, self._count)

    def _close_forward(self) -> None:
        if self._forward is not None:
            self._forward.close()
            self._forward = None

    def release(self) -> None:
        """End a front-to-back read still open (the bytes after the last carried member are not wanted)."""
        self._close_forward()

    def close(self) -> None:
        self._close_forward()
        self.session.close()


class _Progress(Exception):
    """A range read that failed after ``pos``; ``moved``: it got somewhere before failing."""

    def __init__(self, pos: int, moved: bool, cause: Exception) -> None:
        super().__init__(str(cause))
        self.pos = pos
        self.moved = moved
        self.cause = cause


_STATUS_HINTS = {
    401: "check the URL, and that ZENODO_TOKEN may read it (drafts and restricted files need one)",
    403: "check the URL, and that ZENODO_TOKEN may read it (drafts and restricted files need one)",
    404: "check the URL, and that ZENODO_TOKEN may read it (drafts and restricted files need one)",
    406: "the server refused the Accept header: report this as a bug of release-bot",
    410: "the file was removed; use another release's zip",
}


def open_source(source: str | Path, token: str | None = None, **http_options: object) -> ByteSource:
    """A local path, or an http(s) URL (read with Range requests; the token is sent only if given)."""
    text = str(source)
    if isinstance(source, str) and re.match(r"^https?://", text, re.IGNORECASE):
        return HttpSource(text, token, **http_options)  # type: ignore[arg-type]
    return LocalSource(Path(text))
