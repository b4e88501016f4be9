"""The one retry policy of the Zenodo client: what to retry, how long to wait, and the rate budget.

- 429: wait what the server says (``Retry-After``, else ``X-RateLimit-Reset``), in full, then try again;
  unless the run's waits would pass ``rate_wait_budget``: then stop and say when to rerun. Zenodo keys its
  limits on the client (user agent and address) and an hourly limit may ask for up to an hour: waiting
  that long in a CI job, or retrying before the reset, helps nobody.
- 500/502/503/504 and dropped connections: back off exponentially with full jitter, a bounded number
  of times.
- Any other 4xx: never retried, the request itself is wrong.
- Rate budget: when ``X-RateLimit-Remaining`` is about to run out, sleep until ``X-RateLimit-Reset``
  instead of spending a request on a 429 (within the same waiting budget).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
# Reset values above this are epoch seconds (flask-limiter's form); below, seconds from now.
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass
class RetryPolicy:
    max_attempts: int = 5  # per call, for 5xx and dropped connections
    max_rate_waits: int = 6  # 429 answers tolerated per call
    base_delay: float = 0.5
    max_delay: float = 30.0
    rate_wait_budget: float = 600.0  # seconds a whole run may spend waiting for rate limits
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1-based): full jitter over an exponential ceiling."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def rate_wait(self, headers: Mapping[str, str], now: float) -> float:
        """Seconds a 429 asks us to wait; 1 s when the server does not say."""
        wait = _seconds(headers.get("Retry-After"), now)
        if wait is None:
            wait = _seconds(headers.get("X-RateLimit-Reset"), now)
        return max(0.0, wait if wait is not None else 1.0)


def _seconds(value: str | None, now: float) -> float | None:
    """Seconds from ``now`` that a header gives as a delta, epoch seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None  # unreadable: the caller falls back on its default
        if when.tzinfo is None:  # an HTTP date is always GMT
            when = when.replace(tzinfo=dt.UTC)
        return when.timestamp() - now
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number - now if number > _EPOCH_THRESHOLD else number


@dataclass
class RateBudget:
    """Tracks the server's rate headers and says how long to pause before the next request."""

    reserve: int = 2  # keep this many requests in hand for retries
    now: Callable[[], float] = time.time
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds

    def observe(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("X-RateLimit-Remaining")
        reset = _seconds(headers.get("X-RateLimit-Reset"), self.now())
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            self.remaining = int(remaining)
            self.reset_at = self.now() + reset if reset is not None else None

    def pause(self) -> float:
        """Seconds to sleep before the next request (0 when there is budget left)."""
        if self.remaining is None or self.remaining > self.reserve or self.reset_at is None:
            return 0.0
        wait = self.reset_at - self.now()
        self.remaining = None  # after the reset the next answer tells us afresh
        return max(0.0, wait)
