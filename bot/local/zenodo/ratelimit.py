"""Per-client request budgets, per minute and per hour, announced in ``X-RateLimit-*`` headers as Zenodo does.

Zenodo's limits (flask-limiter via invenio-app): about 100 requests a minute and 5,000 an hour; a client
over the hourly limit is told to come back when the hour's window ends, up to an hour later.
"""

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


class _Window:
    """A fixed window of ``seconds`` allowing ``limit`` requests per client."""

    def __init__(self, limit: int, seconds: int) -> None:
        self.limit = limit
        self.seconds = seconds
        self.counts: dict[str, tuple[float, int]] = {}  # client -> (window start, requests in it)

    def hit(self, client: str, now: float) -> Budget:
        start, count = self.counts.get(client, (now, 0))
        if now - start >= self.seconds:
            start, count = now, 0
        count += 1
        self.counts[client] = (start, count)
        reset = start + self.seconds
        return Budget(count <= self.limit, self.limit, max(0, self.limit - count), math.ceil(reset),
                      max(1, math.ceil(reset - now)))


class RateLimiter:
    """Fixed windows per client: one minute, and optionally one hour (the tighter one speaks)."""

    def __init__(self, per_minute: int, per_hour: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._windows = [_Window(per_minute, 60)] + ([_Window(per_hour, 3600)] if per_hour else [])

    def hit(self, client: str) -> Budget:
        now = self.clock()
        with self._lock:
            budgets = [w.hit(client, now) for w in self._windows]
        refused = [b for b in budgets if not b.allowed]
        if refused:
            return max(refused, key=lambda b: b.retry_after)
        return min(budgets, key=lambda b: b.remaining)

    def reset(self) -> None:
        with self._lock:
            for window in self._windows:
                window.counts.clear()
