"""Injected faults: make chosen requests fail the way Zenodo and its proxy fail.

Kinds: ``"429"`` (opts ``retry_after`` seconds, default 1), ``"500"`` (JSON), ``"502"``/``"504"``
(HTML from the proxy), ``"drop"`` (close the connection, nothing done), ``"delay"`` (opts ``seconds``,
then answer normally: no other fault applies to that request) and ``"after"`` (do the work, then
answer opts ``status``, default 504, instead).
Faults match in the order they were added; each is used up after ``times`` hits.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("429", "500", "502", "504", "drop", "delay", "after")
_OPTS = {"429": {"retry_after"}, "delay": {"seconds"}, "after": {"status"}}


@dataclass
class Fault:
    method: str  # upper case, or "*" for any
    path: str  # a regex searched in the request path (no query); anchor it with ^ and $ to be exact
    kind: str
    times: int = 1
    opts: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and re.search(self.path, path) is not None

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "kind": self.kind, "times": self.times,
                "hits": self.hits, **self.opts}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, method: str, path: str, kind: str | int, times: int = 1, **opts: Any) -> Fault:
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        unknown = set(opts) - _OPTS.get(kind, set())
        if unknown:
            raise ValueError(f"fault kind {kind!r} takes no option {', '.join(sorted(unknown))}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        re.compile(path)  # fail here, not on the next request
        fault = Fault(method.upper(), path, kind, times, dict(opts))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counted as used once."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
