"""The faults the Zenodo-compatible server can inject, and the options each takes.

``"429"`` (``retry_after`` seconds, default 1), ``"500"`` (JSON), ``"502"``/``"504"`` (HTML from the proxy),
``"drop"`` (close the connection, nothing done), ``"delay"`` (``seconds``, then answer normally),
``"after"`` (do the work, then answer ``status``, default 504, instead) and ``"cut"`` (do the work and
answer, but close the connection half-way through the answer's body).
"""

from __future__ import annotations

from bot.local.faults import Fault
from bot.local.faults import Faults as _Faults

KINDS: dict[str, frozenset[str]] = {
    "429": frozenset({"retry_after"}), "500": frozenset(), "502": frozenset(), "504": frozenset(),
    "drop": frozenset(), "delay": frozenset({"seconds"}), "after": frozenset({"status"}),
    "cut": frozenset(),
}

__all__ = ["KINDS", "Fault", "Faults"]


class Faults(_Faults):
    def __init__(self) -> None:
        super().__init__(KINDS)
