"""Per-client request budget per minute, announced in ``X-RateLimit-*`` headers as Zenodo does."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window restarts
    retry_after: int  # seconds to wait when not allowed

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    """A fixed one-minute window per client (token, or address when there is none)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # client -> (window start, requests in it)

    def hit(self, client: str) -> Budget:
        now = self.clock()
        with self._lock:
            start, count = self._windows.get(client, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            count += 1
            self._windows[client] = (start, count)
        reset = start + 60
        allowed = count <= self.per_minute
        return Budget(allowed, self.per_minute, max(0, self.per_minute - count), math.ceil(reset),
                      max(1, math.ceil(reset - now)))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
