"""The bundled GitHub-compatible HTTP server: loopback only, stateful, with GitHub's errors and faults."""

from __future__ import annotations

import json
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.local.github import routes, views
from bot.local.github.faults import Fault, Faults
from bot.local.github.gitimport import import_git
from bot.local.github.lfs import LfsStore
from bot.local.github.protocol import NOT_ACCESSIBLE, ApiError, Request, Response
from bot.local.github.state import GitHubState, StateError, Token
from bot.local.httpserver import LoopbackHTTPServer, serve_in_thread
from bot.local.payloads import push_commit

UPLOADS_PREFIX = "/uploads"  # where the releases' upload_url points (this server plays the upload host too)
API_PREFIX = "/api/v3"  # GitHub Enterprise's API root; accepted as well as the bare root
HTML_502 = ("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
            "<p>We couldn't respond to your request in time.</p></body></html>")
SECONDARY_LIMIT = ("You have exceeded a secondary rate limit. "
                   "Please wait a few minutes before you try again.")


class GitHubServer(GitHubState):
    """A GitHub-compatible REST server for one repository, on 127.0.0.1.

    ``start()`` returns the base URL to give PyGithub (``Github(base_url=url)``) and to put in
    ``GITHUB_API_URL``. The builders of :class:`GitHubState` declare what the repository holds.
    """

    def __init__(self, owner: str = "scope-ml", repo: str = "scope-catalog", default_branch: str = "main",
                 port: int = 0) -> None:
        super().__init__(owner, repo, default_branch)
        self.faults = Faults()
        self.lfs = LfsStore(owner, repo)
        self._port = port
        self._httpd: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.base_url

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        self._httpd = LoopbackHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = serve_in_thread(self._httpd, "github-server")
        return self.base_url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (for ``release-bot serve-github``)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> GitHubServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_commits_from_git(self, repo_dir: str | Path, logins: dict[str, str] | None = None) -> list[str]:
        """Import a local git repository's commits, branches and tags (see gitimport.import_git)."""
        return import_git(self, repo_dir, logins)

    def post_comment_as(self, login: str, number: int, body: str) -> dict[str, Any]:
        """Post a comment on issue or pull ``number`` as ``login``; returns it as the API shows it."""
        with self.lock:
            return views.comment_json(self, self.add_comment(login, number, body))

    def edit_comment_as(self, login: str, comment_id: int, body: str) -> dict[str, Any]:
        """Edit a comment as ``login`` (the author or a writer), bypassing HTTP."""
        with self.lock:
            comment = self.comment_store.get(comment_id)
            if comment is None:
                raise StateError(f"comment {comment_id} is unknown")
            if not self.may_edit(login, comment):
                raise StateError(f"{login} may not edit comment {comment_id} by {comment.author}")
            comment.edit(self.user(login).login, body, self.clock.tick())
            return views.comment_json(self, comment)

    # ---- introspection --------------------------------------------------------------------------
    def comments(self, number: int) -> list[dict[str, Any]]:
        """The comments on ``number``, oldest first, as the API shows them."""
        with self.lock:
            return [views.comment_json(self, c) for c in self.comment_store.values() if c.issue == number]

    def reactions(self, comment_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [views.reaction_json(self, r) for r in self.reaction_store.values()
                    if r.comment_id == comment_id]

    def statuses(self, sha: str) -> list[dict[str, Any]]:
        """Commit statuses on ``sha``, newest first (as GitHub lists them)."""
        with self.lock:
            return [views.status_json(self, s) for s in reversed(self.status_store) if s.sha == sha]

    def release_asset_bytes(self, tag: str, name: str) -> bytes | None:
        """The content of a release's asset, as a browser download of it would give."""
        with self.lock:
            for release in self.release_store.values():
                for asset in release.assets if release.tag_name == tag else ():
                    if asset.name == name:
                        return asset.data
        return None

    def releases(self) -> list[dict[str, Any]]:
        """Releases, newest first."""
        with self.lock:
            return [views.release_json(self, r) for r in reversed(self.release_store.values())]

    # ---- payload helpers: the same JSON the API serves, for building webhook events -------------
    def repo_payload(self) -> dict[str, Any]:
        with self.lock:
            return views.repo_json(self)

    def pull_payload(self, number: int) -> dict[str, Any]:
        with self.lock:
            pull = self.pull(number)
            if pull is None:
                raise KeyError(f"pull #{number} is unknown")
            return views.pull_json(self, pull)

    def issue_payload(self, number: int) -> dict[str, Any]:
        with self.lock:
            return views.issue_json(self, self.issues[number])

    def user_payload(self, login: str) -> dict[str, Any]:
        with self.lock:
            return views.user_json(self, login)

    def comment_payload(self, comment_id: int) -> dict[str, Any]:
        with self.lock:
            return views.comment_json(self, self.comment_store[comment_id])

    def push_commits(self, before: str, after: str) -> list[dict[str, Any]]:
        """The ``commits`` of a push event moving a branch from ``before`` to ``after``, oldest first."""
        with self.lock:
            out = []
            for c in self.commits_between(before, after):
                by_status: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
                for f in c.files:
                    if f.status == "renamed":
                        by_status["added"].append(f.filename)
                        by_status["removed"].append(f.previous_filename or "")
                    else:
                        by_status.get(f.status, by_status["modified"]).append(f.filename)
                out.append(push_commit(
                    c.sha, c.message, author_name=c.author_name, author_email=c.author_email,
                    username=c.author, timestamp=c.date, repo_html_url=views.html_url(self), **by_status))
            return out

    # ---- one request, without sockets -----------------------------------------------------------
    def answer(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> Response:
        """Authenticate, route and run one request under the state lock."""
        split = urlsplit(target)
        raw_path = split.path.rstrip("/") or "/"
        path = unquote(raw_path)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            path = path[len(API_PREFIX):] or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        # Release assets go to the upload host (uploads.github.com; /api/uploads on GitHub Enterprise) as the
        # raw bytes, not JSON (docs.github.com/rest/releases/assets#upload-a-release-asset).
        uploading = path.startswith(UPLOADS_PREFIX + "/")
        if uploading:
            path = path[len(UPLOADS_PREFIX):]
        try:
            body = raw_body if uploading else (json.loads(raw_body) if raw_body.strip() else None)
        except ValueError:
            return ApiError(400, "Problems parsing JSON").response()
        req = Request(method, path, raw_path, query, body, content_type=headers.get("content-type"))
        try:
            with self.lock:
                return self._dispatch(req, headers)
        except ApiError as exc:
            return exc.response()
        except Exception:  # a bug in the server: answer like GitHub would, and show it to the developer
            traceback.print_exc()
            return ApiError(500, "Server Error").response()

    def _dispatch(self, req: Request, headers: dict[str, str]) -> Response:
        req.token = self._token(headers)
        route, params = routes.router.match(req.method, req.path)
        owner, repo = params.pop("owner", None), params.pop("repo", None)
        here = (self.owner.lower(), self.repo.lower())
        if owner is not None and (owner.lower(), (repo or "").lower()) != here:
            raise ApiError(404, "Not Found")
        # A GraphQL query is a POST that only reads: a read-only token may send it.
        if req.method != "GET" and not req.token.write and route.handler is not routes.graphql_query:
            raise ApiError(403, NOT_ACCESSIBLE)
        if route.push and not self.can_push(req.token):
            raise ApiError(403, NOT_ACCESSIBLE if self.user(req.login).type == "Bot"
                           else "Resource not accessible by personal access token")
        return route.handler(self, req, **params)

    def _token(self, headers: dict[str, str]) -> Token:
        auth = headers.get("authorization", "")
        scheme, _, secret = auth.partition(" ")
        token = self.tokens.get(secret.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            raise ApiError(401, "Bad credentials")
        return token


def _handler_for(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One buffered write per answer and no Nagle: otherwise headers and body go out in two packets and
        # the client's delayed ACK adds ~40 ms to every request.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True
        server_version = "GitHub.com"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read server.calls instead
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if server.lfs.handles(path):
                self._send_lfs(path, raw_body)
                return
            fault = server.faults.take(self.command, path)
            if fault is not None and fault.kind not in ("delay", "after"):
                self._fault(fault, path)
                return
            if fault is not None and fault.kind == "delay":
                time.sleep(float(fault.opts.get("seconds", 0.2)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = server.answer(self.command, self.path, headers, raw_body)
            if fault is not None and fault.kind == "after":
                status = int(fault.opts.get("status", 502))
                response = Response(status, HTML_502 if status >= 500 else {"message": "Error"})
            self._send(response, path)

        def _send_lfs(self, path: str, raw_body: bytes) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.lfs.answer(self.command, path, headers, raw_body, server.base_url, set(server.tokens))
            self.send_response(answer.status)
            for key, value in {**answer.headers, "Content-Length": str(len(answer.body))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def _fault(self, fault: Fault, path: str) -> None:
            retry_after = str(fault.opts.get("retry_after", 1))
            if fault.kind == "drop":
                server.calls.append((self.command, path, 0))
                self.close_connection = True
                return
            if fault.kind == "500":
                response = ApiError(500, "Server Error").response()
            elif fault.kind == "502":
                response = Response(502, HTML_502)
            elif fault.kind == "secondary-rate-limit":
                response = ApiError(403, SECONDARY_LIMIT, headers={"Retry-After": retry_after}).response()
            else:  # "429"
                response = ApiError(429, "API rate limit exceeded for installation.",
                                    headers={"Retry-After": retry_after}).response()
            self._send(response, path)

        def _send(self, response: Response, path: str) -> None:
            server.calls.append((self.command, path, response.status))
            if response.body is None:
                data, ctype = b"", None
            elif isinstance(response.body, str):
                data, ctype = response.body.encode(), "text/html; charset=utf-8"
            else:
                data, ctype = json.dumps(response.body).encode(), "application/json; charset=utf-8"
            self.send_response(response.status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            self.send_header("X-RateLimit-Limit", "5000")
            self.send_header("X-RateLimit-Remaining", "4999")
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 3600))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler
