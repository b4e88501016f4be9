"""Everything around the API proper: the HTTP handler, rate limits, injected faults, the call log and the
``/_control`` endpoints that let a test in another process steer the server."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from bot.local.httpserver import LoopbackHTTPServer
from bot.local.httpserver import serve_in_thread as _serve_in_thread
from bot.local.zenodo.errors import ApiError
from bot.local.zenodo.faults import Faults
from bot.local.zenodo.metadata import errors_json
from bot.local.zenodo.ratelimit import RateLimiter
from bot.local.zenodo.routes import Api
from bot.local.zenodo.wire import CHUNK, Reply, Request, html_reply, json_reply

log = logging.getLogger("bot.local.zenodo")


def error_reply(req: Request, exc: ApiError) -> Reply:
    """JSON error; the ``errors`` list only for clients that asked for the InvenioRDM shape."""
    data: dict[str, Any] = {"status": exc.status, "message": exc.message}
    if (exc.errors or exc.extra) and req.wants_invenio():
        data["errors"] = errors_json(exc.errors) + exc.extra
    return json_reply(exc.status, data, headers=dict(exc.headers))


@dataclass
class Frontend:
    api: Api
    limiter: RateLimiter
    faults: Faults = field(default_factory=Faults)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    # (method, path, status, body bytes received, body bytes sent) per answer: what crossed the network
    traffic: list[tuple[str, str, int, int, int]] = field(default_factory=list)

    def handle(self, req: Request) -> Reply:
        if req.path.startswith("/_control/"):
            return self._control(req)
        # invenio_app/limiter.py useragent_and_ip_limit_key: the budget belongs to the client (user agent
        # and address), not to the token, so every session of one run draws on the same budget.
        budget = self.limiter.hit(f"{req.headers.get('User-Agent', '')}@{req.client}")
        try:
            reply = self._answer(req, budget.allowed, budget.retry_after)
        except ApiError as exc:
            reply = error_reply(req, exc)
        except Exception:  # a bug here must still answer, like a real server's 500
            log.exception("unexpected error on %s %s", req.method, req.path)
            reply = json_reply(500, {"status": 500, "message": "Internal server error (see the server log)."})
        for name, value in budget.headers().items():
            reply.headers.setdefault(name, value)
        self.calls.append((req.method, req.path, 0 if reply.drop else reply.status))
        return reply

    def _answer(self, req: Request, allowed: bool, retry_after: int) -> Reply:
        if not allowed:
            raise ApiError(429, "Too many requests: over the rate limit; wait for Retry-After seconds.",
                           headers={"Retry-After": str(retry_after)})
        fault = self.faults.take(req.method, req.path)
        if fault is not None and fault.kind == "delay":
            time.sleep(float(fault.opts.get("seconds", 1)))
            fault = None
        if fault is None:
            return self.api.dispatch(req)
        if fault.kind == "drop":
            return Reply(0, drop=True)
        if fault.kind == "429":
            seconds = str(fault.opts.get("retry_after", 1))
            raise ApiError(429, "Too many requests.", headers={"Retry-After": seconds})
        if fault.kind == "500":
            raise ApiError(500, "Internal server error.")
        if fault.kind in ("502", "504"):
            return html_reply(int(fault.kind))
        if fault.kind == "cut":  # the work is done and the answer starts, but the connection dies in it
            try:
                reply = self.api.dispatch(req)
            except ApiError as exc:
                reply = error_reply(req, exc)
            reply.cut = True
            return reply
        # "after": the work is done, but the client never learns it.
        with contextlib.suppress(ApiError):
            self.api.dispatch(req)
        req.drain()
        status = int(fault.opts.get("status", 504))
        if status >= 502:
            return html_reply(status)
        raise ApiError(status, "The server failed after processing the request.")

    def _control(self, req: Request) -> Reply:
        if not (req.client.startswith("127.") or req.client == "::1"):
            return json_reply(403, {"status": 403, "message": "The control endpoints answer loopback only."})
        try:
            return self._control_action(req)
        except (ApiError, ValueError, TypeError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            return json_reply(400, {"status": 400, "message": f"Bad control request: {message}"})

    def _control_action(self, req: Request) -> Reply:
        what = (req.method, req.path.rstrip("/"))
        if what == ("GET", "/_control/faults"):
            return json_reply(200, [f.as_json() for f in self.faults.pending()])
        if what == ("POST", "/_control/faults"):
            spec = req.json()
            if not isinstance(spec, dict):
                raise ValueError('send {"method": ..., "path": ..., "kind": ..., "times": 1, ...options}')
            fault = self.faults.add(**spec)
            return json_reply(201, fault.as_json())
        if what == ("DELETE", "/_control/faults"):
            self.faults.clear()
            return Reply(204)
        if what == ("GET", "/_control/calls"):
            return json_reply(200, [list(c) for c in self.calls])
        if what == ("GET", "/_control/state"):
            return json_reply(200, self.summary())
        if what == ("POST", "/_control/reset-rate-limit"):
            self.limiter.reset()
            return Reply(204)
        return json_reply(404, {"status": 404, "message": f"No control endpoint {req.method} {req.path}; "
                                                         "see bot/local/zenodo/frontend.py."})

    def summary(self) -> dict[str, Any]:
        store = self.api.store
        with store.lock:
            concepts = {cid: {"versions": list(c["versions"]), "draft": c["draft"]}
                        for cid, c in store.concepts.items()}
            return {"concepts": concepts, "dois_reserved": store.dois_reserved, "calls": len(self.calls)}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 120  # an idle or stalled client frees its thread after this
    # Headers and body go out in separate writes: with Nagle on, delayed ACKs add ~40 ms per answer.
    disable_nagle_algorithm = True
    server: ZenodoHTTPServer
    _sent = 0

    def _serve(self) -> None:
        req = Request(self.command, self.path, self.headers, self.rfile, self.client_address[0])
        reply = self.server.frontend.handle(req)
        if reply.drop:
            self.close_connection = True
            return
        if not req.drain() or reply.cut:
            self.close_connection = True
        self._sent = 0
        try:
            self._send(reply)
        finally:  # counted also when the client hung up part-way: those bytes left the server
            self.server.frontend.traffic.append((req.method, req.path, reply.status, req.body_bytes, self._sent))
        if req.abandoned:
            self._linger()

    def _linger(self) -> None:
        """Close gently: closing with unread bytes would reset the connection and lose our answer."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(2)
            for _ in range(256):  # at most 16 MiB, then give up
                if not self.connection.recv(CHUNK):
                    break

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def _send(self, reply: Reply) -> None:
        """Answer, counting the body bytes written in ``_sent``."""
        source = None
        if reply.file is not None:
            try:
                source = reply.file[0].open("rb")
            except FileNotFoundError:  # removed by a concurrent DELETE
                reply = json_reply(404, {"status": 404, "message": "The file was removed meanwhile."})
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.status not in (204, 304):
                self.send_header("Content-Length", str(reply.length))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.cut:  # half the promised bytes, then the connection closes
                if source is not None and reply.file is not None:
                    _, offset, length = reply.file
                    source.seek(offset)
                    self.wfile.write(source.read(length // 2))
                    self._sent += length // 2
                    return
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self._sent += len(reply.body) // 2
                return
            if source is not None and reply.file is not None:
                _, offset, length = reply.file
                source.seek(offset)
                while length > 0:
                    piece = source.read(min(CHUNK, length))
                    if not piece:
                        break
                    self.wfile.write(piece)
                    self._sent += len(piece)
                    length -= len(piece)
            elif reply.body:
                self.wfile.write(reply.body)
                self._sent += len(reply.body)
        finally:
            if source is not None:
                source.close()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)


class ZenodoHTTPServer(LoopbackHTTPServer):
    allow_reuse_address = True

    def __init__(self, port: int, frontend: Frontend) -> None:
        self.frontend = frontend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped server answers nobody (as after a real restart)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def serve_in_thread(httpd: ZenodoHTTPServer) -> threading.Thread:
    return _serve_in_thread(httpd, "zenodo-server")

