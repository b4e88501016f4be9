"""The faults the GitHub-compatible server can inject, and the options each takes.

``"500"`` (JSON), ``"502"`` (HTML, like GitHub's load balancer), ``"drop"`` (no answer),
``"secondary-rate-limit"`` (403 with Retry-After), ``"429"`` (with Retry-After), ``"delay"`` (``seconds``,
default 0.2, then the normal answer) and ``"after"`` (do the request, then answer ``status``, default 502).
"""

from __future__ import annotations

from bot.local.faults import Fault
from bot.local.faults import Faults as _Faults

_RETRY = frozenset({"retry_after"})
KINDS: dict[str, frozenset[str]] = {
    "500": frozenset(), "502": frozenset(), "drop": frozenset(), "secondary-rate-limit": _RETRY,
    "429": _RETRY, "delay": frozenset({"seconds"}), "after": frozenset({"status"}),
}

__all__ = ["KINDS", "Fault", "Faults"]


class Faults(_Faults):
    def __init__(self) -> None:
        super().__init__(KINDS)
