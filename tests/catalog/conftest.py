"""Fixtures for the catalog tests: small field files and a real HTTP server with Range support."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.local.sample import write_field_csv

POOL = (247, 296, 297, 423, 487, 539, 881, 1001, 1897)


@pytest.fixture(scope="session")
def field_pool(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """A few small synthetic field files (rows vary, so members differ in size)."""
    base = tmp_path_factory.mktemp("fields")
    return {f: write_field_csv(base / f"field_{f}.csv", f, 20 + (f * 7) % 60) for f in POOL}


@pytest.fixture
def make_field(tmp_path: Path) -> Callable[..., Path]:
    def make(field: int, rows: int = 30, seed: int = 0, folder: str = "in") -> Path:
        return write_field_csv(tmp_path / folder / f"field_{field}.csv", field, rows, seed)

    return make


@dataclass
class Served:
    """What the test server holds and saw; tests change the behaviour flags between requests."""

    files: dict[str, bytes] = field(default_factory=dict)  # storage key -> content
    token: str | None = None  # when set, the API path demands "Bearer <token>"
    drop_next: int = 0  # cut this many range responses off half-way
    ignore_range: bool = False
    status: int | None = None  # answer every request with this status
    status_times: int = -1  # ... only this many times (-1: for ever), then serve normally
    retry_after: str = "0"  # the Retry-After header sent with ``status``
    log: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (method, path, headers)
    uploads: dict[str, tuple[dict[str, str], bytes]] = field(default_factory=dict)
    base: str = ""  # http://127.0.0.1:port
    other_host_base: str = ""  # the same server as http://localhost:port (another host to requests)

    def url(self, key: str) -> str:
        """A Zenodo-style content URL that redirects to the storage on another host name."""
        return f"{self.base}/api/records/1/files/{key}/content"

    def storage_requests(self) -> list[dict[str, str]]:
        return [h for m, p, h in self.log if p.startswith("/storage/")]


def _handler(state: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            state.log.append(("GET", self.path, dict(self.headers)))
            if state.status is not None and state.status_times != 0:
                state.status_times -= 1
                self._send(state.status, b"<html>busy</html>", {"Retry-After": state.retry_after})
                return
            m = re.match(r"^/api/records/1/files/([^/]+)/content$", self.path)
            if m:
                if state.token is not None and self.headers.get("Authorization") != f"Bearer {state.token}":
                    self._send(403, b'{"status": 403, "message": "Permission denied."}')
                    return
                self._send(302, headers={"Location": f"{state.other_host_base}/storage/{m.group(1)}"})
                return
            m = re.match(r"^/storage/([^/]+)$", self.path)
            if not m or m.group(1) not in state.files:
                self._send(404, b"not found")
                return
            self._serve(state.files[m.group(1)])

        def _serve(self, data: bytes) -> None:
            size = len(data)
            rng = self.headers.get("Range")
            if rng is None or state.ignore_range:
                self._send_whole(data)
                return
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng)
            assert m, rng
            if m.group(1) == "":
                start, end = max(0, size - int(m.group(2))), size - 1
            else:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size:
                self._send(416, headers={"Content-Range": f"bytes */{size}"})
                return
            body = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.drop_next > 0 and len(body) > 1:
                state.drop_next -= 1
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def _send_whole(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if state.drop_next > 0 and len(data) > 1:
                state.drop_next -= 1
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "-1"))
            body = self.rfile.read(length) if length >= 0 else b""
            state.log.append(("PUT", self.path, dict(self.headers)))
            state.uploads[self.path] = (dict(self.headers), body)
            self._send(200, hashlib.md5(body).hexdigest().encode())

    return Handler


@pytest.fixture
def http_server() -> Iterator[Served]:
    state = Served()

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client hanging up mid-body (the tests do it on purpose) is not news

    server = QuietServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    port = server.server_address[1]
    state.base = f"http://127.0.0.1:{port}"
    state.other_host_base = f"http://localhost:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
