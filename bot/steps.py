"""The named steps of the runs that change the world, and one hook to watch them.

The draft and publish stages call ``finished(step)`` after each step. Nothing listens in a real run; a test
harness subscribes with ``watching`` (for instance to rehearse a run that dies right after a step, then
check that a rerun converges). A leaf module: it imports nothing of the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Observer = Callable[[str], None]

_observers: list[Observer] = []


def finished(step: str) -> None:
    """Tell whoever watches that ``step`` is done (a no-op unless a harness subscribed)."""
    for observer in tuple(_observers):
        observer(step)


@contextmanager
def watching(observer: Observer) -> Iterator[None]:
    """Call ``observer(step)`` after every step finished inside the block."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)
