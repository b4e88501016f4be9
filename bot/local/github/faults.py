"""Injected failures: the bundled GitHub server misbehaves on purpose so tests can see the bot cope."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

# kind -> what the client sees
KINDS = {
    "500": "500 with a JSON error body",
    "502": "502 with an HTML body, like GitHub's load balancer",
    "drop": "the connection closes without an answer",
    "secondary-rate-limit": "403 'You have exceeded a secondary rate limit' with Retry-After",
    "429": "429 'API rate limit exceeded' with Retry-After",
    "delay": "wait opts['seconds'] (default 0.2) and then answer normally",
    "after": "do the request, then answer opts['status'] (default 502, HTML) instead",
}


@dataclass
class Fault:
    method: str  # "GET", "POST", ... or "*"
    path: re.Pattern[str]  # searched in the path without the query
    kind: str
    times: int
    opts: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.search(path) is not None


class Faults:
    """Faults match in the order added; each is used up after ``times`` hits (``times=0``: forever)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, method: str, path_regex: str, kind: str, times: int = 1, **opts: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of: {', '.join(KINDS)}")
        fault = Fault(method.upper(), re.compile(path_regex), kind, times, opts)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, counting the hit."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def __len__(self) -> int:
        return len(self._faults)
