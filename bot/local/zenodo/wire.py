"""HTTP plumbing: a request whose body is read lazily (Content-Length or chunked), and a reply value."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from bot.local.zenodo.errors import ApiError

CHUNK = 1 << 16
MAX_JSON_BYTES = 16 * 1024 * 1024


class IncompleteBody(Exception):
    """The client stopped sending before the body was complete."""

    def __init__(self, received: int, expected: int | None) -> None:
        super().__init__(f"body cut off after {received} bytes")
        self.received = received
        self.expected = expected


class Request:
    def __init__(self, method: str, target: str, headers: Message, rfile: BinaryIO | io.BufferedIOBase,
                 client: str) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.headers = headers
        self.client = client
        self._rfile = rfile
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        length = headers.get("Content-Length")
        self.content_length: int | None = int(length) if length and not self.chunked else None
        self.body_started = False
        self.body_bytes = 0  # body bytes read so far (for the traffic log)
        self.abandoned = False  # the body will not be read: close the connection after answering
        self.body_done = self.content_length in (None, 0) and not self.chunked

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return self.query.get("access_token")

    def wants_invenio(self) -> bool:
        return "application/vnd.inveniordm.v1+json" in self.headers.get("Accept", "")

    def iter_body(self) -> Iterator[bytes]:
        """Yield the body in pieces as it arrives; raise IncompleteBody if the client stops early."""
        self.body_started = True
        received = 0
        try:
            if self.chunked:
                while True:
                    line = self._rfile.readline(1024)
                    if not line.endswith(b"\n"):
                        raise IncompleteBody(received, None)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self._rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    for piece in self._exactly(size):
                        received += len(piece)
                        self.body_bytes += len(piece)
                        yield piece
                    if self._rfile.readline(16) not in (b"\r\n", b"\n"):
                        raise IncompleteBody(received, None)
            elif self.content_length:
                for piece in self._exactly(self.content_length):
                    received += len(piece)
                    self.body_bytes += len(piece)
                    yield piece
        except (ConnectionError, TimeoutError, ValueError) as exc:
            raise IncompleteBody(received, self.content_length) from exc
        self.body_done = True

    def _exactly(self, size: int) -> Iterator[bytes]:
        left = size
        while left:
            piece = self._rfile.read1(min(left, CHUNK)) if hasattr(self._rfile, "read1") \
                else self._rfile.read(min(left, CHUNK))
            if not piece:
                raise IncompleteBody(size - left, size)
            left -= len(piece)
            yield piece

    def json(self) -> Any:
        if self.content_length is not None and self.content_length > MAX_JSON_BYTES:
            raise ApiError(413, f"JSON body of {self.content_length} bytes is over {MAX_JSON_BYTES}.")
        data = b"".join(self.iter_body())
        if not data.strip():
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ApiError(400, f"The request body is not valid JSON ({exc}); send a JSON document.") \
                from None

    def drain(self) -> bool:
        """Read and discard an unread body; False when the connection cannot be reused."""
        if self.body_done:
            return True
        if self.body_started or self.abandoned:
            return False
        try:
            for _ in self.iter_body():
                pass
        except IncompleteBody:
            return False
        return True


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    file: tuple[Path, int, int] | None = None  # stream (path, offset, length) instead of body
    drop: bool = False  # close the connection without answering
    cut: bool = False  # send the headers and half the body, then close the connection

    @property
    def length(self) -> int:
        return self.file[2] if self.file else len(self.body)


def json_reply(status: int, data: Any, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data).encode(), content_type, headers or {})


_REASONS = {502: "Bad Gateway", 504: "Gateway Time-out", 500: "Internal Server Error",
            503: "Service Temporarily Unavailable"}


def html_reply(status: int) -> Reply:
    """What the proxy in front of Zenodo answers: HTML, not JSON."""
    title = f"{status} {_REASONS.get(status, 'Error')}"
    body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    return Reply(status, body.encode(), "text/html")
