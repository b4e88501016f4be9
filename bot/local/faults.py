"""Injected faults shared by the bundled servers: chosen requests fail the way real services fail.

Each server names the kinds it knows and the options each kind takes. Faults match in the order they
were added (method, or "*", and a regex searched in the path without the query); each is used up after
``times`` hits, ``times=0`` meaning for ever.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    method: str  # upper case, or "*" for any
    path: str  # a regex searched in the request path; anchor it with ^ and $ to be exact
    kind: str
    times: int = 1  # 0: never used up
    opts: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and re.search(self.path, path) is not None

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "kind": self.kind, "times": self.times,
                "hits": self.hits, **self.opts}


class Faults:
    """The faults waiting for requests; ``kinds`` maps each known kind to the options it accepts."""

    def __init__(self, kinds: Mapping[str, frozenset[str]]) -> None:
        self.kinds = dict(kinds)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, method: str, path: str, kind: str | int, times: int = 1, **opts: Any) -> Fault:
        kind = str(kind)
        if kind not in self.kinds:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(self.kinds)}")
        unknown = set(opts) - self.kinds[kind]
        if unknown:
            raise ValueError(f"fault kind {kind!r} takes no option {', '.join(sorted(unknown))}")
        if times < 0:
            raise ValueError(f"times must be 0 (for ever) or more, got {times}")
        re.compile(path)  # fail here, not on the next request
        fault = Fault(method.upper(), path, kind, times, dict(opts))
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
                    fault.hits += 1
                    if fault.times and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        return len(self._faults)
