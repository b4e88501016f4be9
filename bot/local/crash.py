"""Rehearse a dying run: stop right after a named step (the test harness's side of ``bot.steps``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from bot import steps


class SimulatedCrash(RuntimeError):
    """Raised right after the step a test named, as if the runner had died there."""


@contextmanager
def crash_after(step: str | None) -> Iterator[None]:
    """Within the block, raise SimulatedCrash as soon as ``step`` finishes (no-op when ``step`` is None)."""
    if step is None:
        with nullcontext():
            yield
        return

    def crash(finished: str) -> None:
        if finished == step:
            raise SimulatedCrash(f"simulated crash after step {step}")

    with steps.watching(crash):
        yield
