"""Random-access byte sources for the previous catalog zip: a local file, or a URL read with Range requests.

The build reads the previous zip's tail (its directories) once, then each run of carried members as one
sequential range, so a 20 GB zip on Zenodo costs a handful of requests and never lands on the runner's disk.
"""

from __future__ import annotations

import datetime as dt
import email.utils
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

CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
# Statuses worth another try: rate limiting and the proxy's transient failures.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a bearer token is made of
_MAX_WAIT = 60.0


def _retry_after(value: str) -> float | None:
    """Seconds a ``Retry-After`` header asks for: a number of seconds or an HTTP date (RFC 9110)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, when.timestamp() - time.time()), _MAX_WAIT)


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


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class HttpSource:
    """A file on a web server read with ``Range`` requests (Zenodo's ``/files/<key>/content``).

    Redirects are followed (Zenodo sends file downloads to its storage); requests drops the
    ``Authorization`` header when a redirect leaves the host, so the token never reaches the storage.
    A read that fails or is cut off resumes from the last byte received, up to ``retries`` times in a row.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: tuple[float, float] = (15.0, 120.0),
        tail_size: int = 1 << 20,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self.name = f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query: it may hold a signature
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = {"User-Agent": f"release-bot/{__version__}", "Accept": "application/octet-stream"}
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
        self.size = -1
        self._tail_start, self._tail = self._fetch_tail(tail_size)

    @property
    def file_name(self) -> str:
        """The file's name: the key of a Zenodo ``.../files/<key>/content`` URL, else the last segment."""
        segments = [unquote(s) for s in urlsplit(self.url).path.split("/") if s]
        if len(segments) >= 2 and segments[-1] == "content":
            return segments[-2]
        return segments[-1] if segments else ""

    def _fetch_tail(self, tail_size: int) -> tuple[int, bytes]:
        """One request learns the size and brings the end of the file, where the zip's directories are."""
        for attempt in range(self.retries + 1):
            try:
                resp = self._request(f"bytes=-{tail_size}")
                try:
                    if resp.status_code == 416:
                        raise SourceError("the server says the file is empty", location=self.name)
                    if resp.status_code != 206:
                        raise self._no_ranges()
                    first, _last, total = self._content_range(resp)
                    data = resp.content
                finally:
                    resp.close()
                self.size = total
                if first + len(data) != total:
                    raise _Retry(f"short tail read: {len(data)} bytes from {first} of {total}")
                self.bytes_read += len(data)
                return first, data
            except (_Retry, requests.RequestException) as exc:
                self._wait(attempt, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def _no_ranges(self) -> SourceError:
        return SourceError(
            "the server ignored the Range request (it would send the whole file)",
            hint="download the previous zip and pass its local path with --previous",
            location=self.name,
        )

    def _content_range(self, resp: requests.Response) -> tuple[int, int, int]:
        m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if not m or m.group(3) == "*":
            raise SourceError(
                f"unusable Content-Range header {resp.headers.get('Content-Range')!r}", location=self.name
            )
        return int(m.group(1)), int(m.group(2)), int(m.group(3))

    def _request(self, byte_range: str) -> requests.Response:
        self.requests += 1
        resp = self.session.get(
            self.url,
            headers={**self.headers, "Range": byte_range},
            stream=True,
            timeout=self.timeout,
            allow_redirects=True,
        )
        if resp.status_code in _RETRY_STATUSES:
            retry_after = resp.headers.get("Retry-After", "")
            resp.close()
            wait = _retry_after(retry_after)
            raise _Retry(f"HTTP {resp.status_code}", wait)
        if resp.status_code in (401, 403, 404, 410):
            resp.close()
            hint = (
                "check the URL, and that ZENODO_TOKEN may read it (drafts and restricted files need one)"
                if resp.status_code != 410
                else "the file was removed; use another release's zip"
            )
            raise SourceError(
                f"HTTP {resp.status_code} reading the previous zip", hint=hint, location=self.name
            )
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
        wait = exc.wait if isinstance(exc, _Retry) and exc.wait is not None else self.backoff * 2**attempt
        time.sleep(min(wait, _MAX_WAIT))

    def read_at(self, offset: int, length: int) -> bytes:
        tail_end = self._tail_start + len(self._tail)
        if offset >= self._tail_start and offset + length <= tail_end:
            rel = offset - self._tail_start
            return self._tail[rel : rel + length]
        return b"".join(self.iter_range(offset, offset + length))

    def iter_range(self, start: int, end: int, chunk_size: int = CHUNK) -> Iterator[bytes]:
        pos = start
        failures = 0
        while pos < end:
            try:
                resp = self._request(f"bytes={pos}-{end - 1}")
                try:
                    if resp.status_code == 416:
                        raise SourceError(
                            f"bytes {pos}-{end - 1} are past the end of the file",
                            hint="the file changed on the server while it was read: rerun",
                            location=self.name,
                        )
                    if resp.status_code == 200:
                        raise self._no_ranges()
                    first, _last, _total = self._content_range(resp)
                    if first != pos:
                        raise _Retry(f"asked for byte {pos}, the server started at {first}")
                    for chunk in resp.iter_content(chunk_size):
                        chunk = chunk[: end - pos]
                        pos += len(chunk)
                        self.bytes_read += len(chunk)
                        failures = 0  # progress was made: a later drop gets a fresh set of retries
                        yield chunk
                        if pos >= end:
                            break
                finally:
                    resp.close()
                if pos < end:
                    raise _Retry(f"the response ended at byte {pos}, before byte {end}")
            except (_Retry, requests.RequestException) as exc:
                self._wait(failures, exc)
                failures += 1

    def close(self) -> None:
        self.session.close()


def open_source(source: str | Path, token: str | None = None, **http_options: object) -> ByteSource:
    """A local path, or an http(s) URL (read with Range requests; the token is sent only if given)."""
    text = str(source)
    if isinstance(source, str) and re.match(r"^https?://", text, re.IGNORECASE):
        return HttpSource(text, token, **http_options)  # type: ignore[arg-type]
    return LocalSource(Path(text))
