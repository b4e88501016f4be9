"""Byte progress bars on stderr (rich), or nothing when progress is off (tests, libraries, CI logs).

The one progress helper of the bot: building the catalog, validating a file and uploading to Zenodo
all show their transfers through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Advance = Callable[[int], None]


class TransferProgress:
    """Bars for one or more transfers; with no live display every task is a no-op."""

    def __init__(self, bar: Progress | None) -> None:
        self._bar = bar

    def task(self, description: str, total: int | None, *, absolute: bool = False) -> Advance | None:
        """A callback moving a new bar on by ``n`` bytes (or to ``n`` when ``absolute``); None when off."""
        bar = self._bar
        if bar is None:
            return None
        task = bar.add_task(description, total=total)
        if absolute:
            return lambda n: bar.update(task, completed=n)
        return lambda n: bar.advance(task, n)


@contextmanager
def transfer_progress(enabled: bool, *, transient: bool = False) -> Iterator[TransferProgress]:
    if not enabled:
        yield TransferProgress(None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=transient) as bar:
        yield TransferProgress(bar)


@contextmanager
def byte_progress(description: str, total: int | None, enabled: bool) -> Iterator[Advance]:
    """One bar; the callback advances it by ``n`` bytes (a no-op when progress is off)."""
    with transfer_progress(enabled) as bars:
        yield bars.task(description, total) or (lambda _n: None)
