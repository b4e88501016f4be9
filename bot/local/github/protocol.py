"""Requests, answers and errors of the bundled GitHub server, in GitHub's shapes (no sockets here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot.local.github.state import GitHubState, Token

DOCS = "https://docs.github.com/rest"
NOT_ACCESSIBLE = "Resource not accessible by integration"


@dataclass
class Request:
    method: str
    path: str  # decoded, without the API prefix and the query
    raw_path: str  # as sent, without the query (for Link headers)
    query: dict[str, str]
    body: Any  # parsed JSON; the raw bytes for an upload
    token: Token | None = None
    content_type: str | None = None  # of an upload

    @property
    def login(self) -> str:
        assert self.token is not None
        return self.token.login

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able; str for HTML; None for no content
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer: ``{"message", "documentation_url", "status"}`` plus ``errors`` for 422."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message, "documentation_url": DOCS,
                                "status": str(self.status)}
        if self.errors is not None:
            body["errors"] = self.errors
        return Response(self.status, body, self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(resource: str, field_name: str, code: str = "invalid", message: str | None = None) -> ApiError:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    push: bool  # needs push access to the repository


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, push: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, re.compile(pattern + r"\Z"), handler, push))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    return route, m.groupdict()
                allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed")
        raise not_found()


def paginate(s: GitHubState, req: Request, items: Sequence[Any], default: int = 30,
             maximum: int = 100) -> tuple[list[Any], dict[str, str]]:
    """One page of ``items`` per ``page``/``per_page`` plus the ``Link`` header GitHub sends."""
    try:
        per_page = min(max(int(req.query.get("per_page", default)), 1), maximum)
        page = max(int(req.query.get("page", 1)), 1)
    except ValueError:
        raise ApiError(400, "page and per_page must be whole numbers") from None
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = list(items[(page - 1) * per_page: page * per_page])
    links = []

    def url(n: int) -> str:
        query = {**req.query, "per_page": str(per_page), "page": str(n)}
        return f"<{s.base_url}{req.raw_path}?{urlencode(query)}>"

    if page > 1:
        links.append(f'{url(page - 1)}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
        links.append(f'{url(last)}; rel="last"')
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def page_of(s: GitHubState, req: Request, items: Sequence[Any], render: Callable[[Any], Any],
            status: int = 200) -> Response:
    chunk, headers = paginate(s, req, items)
    return Response(status, [render(i) for i in chunk], headers)
