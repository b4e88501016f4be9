"""The merge run's sky map, drawn in a child process while the run validates, builds and uploads.

Drawing costs about half a second, most of it importing matplotlib, which a merge run would otherwise add
to its wall time. So the run starts the child first thing: it imports the drawing code while the run
validates, then waits for the new manifest's records (known once the build is planned), draws while the
run streams the catalog to Zenodo, and the run collects the PNG at the end. The child gets no secrets,
and a child that fails costs the run a warning, never the draft.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.skymap.release import tell_skipped

EXIT_NO_MATPLOTLIB = 3  # the child's exit code when matplotlib cannot be imported
_SECRET_MARKERS = ("TOKEN", "SECRET", "PASSWORD", "KEY")


def _child_env() -> dict[str, str]:
    """The run's environment without anything that looks like a credential (the child draws, nothing else)."""
    return {k: v for k, v in os.environ.items() if not any(m in k.upper() for m in _SECRET_MARKERS)}


def _matplotlib_installed() -> bool:
    """Is there a matplotlib to import? (Found, not imported: importing it is the cost to hide.)"""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


class SkyMapJob:
    """A child process that draws one map: ``start`` it early, ``draw`` hands it the records, ``wait``
    collects the PNG (or None: turned off, no matplotlib, or it failed). ``cancel`` ends it without a map."""

    def __init__(self, out: Path, process: subprocess.Popen[bytes] | None) -> None:
        self.out = out
        self._process = process  # None: matplotlib is not installed, nothing was started
        self._requested = False

    @classmethod
    def start(cls, out: Path) -> SkyMapJob:
        """Start the child now (it imports matplotlib while the run goes on); it draws to ``out`` later."""
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)  # a PNG left by an earlier run must not pass for this one's
        if not _matplotlib_installed():
            return cls(out, None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.skymap", str(out)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_child_env(),
        )
        return cls(out, process)

    def draw(
        self, records: Iterable[Mapping[str, Any]], version: str | None, *, highlight_version: bool = True
    ) -> None:
        """Hand the child the catalog's manifest records (see ``draw_catalog_map``); it draws at once."""
        if self._process is None or self._requested:
            return
        request = self.out.with_name(self.out.name + ".request.json")
        request.write_text(json.dumps({"records": list(records), "version": version,
                                       "highlight_version": highlight_version}))
        self._requested = True
        self._send(f"{request}\n".encode())

    def cancel(self) -> None:
        """End the child without a map (the run stopped before it had records to draw)."""
        if self._process is not None and self._process.returncode is None:
            self._send(b"")
            self._finish()

    def wait(self, console: Console) -> Path | None:
        """The drawn map (waiting for the child), or None: skipped (said once) or failed (a warning)."""
        if self._process is None:
            tell_skipped(console)
            return None
        if not self._requested:
            self.cancel()
            return None
        if self._process.returncode is None:
            err = self._finish()
            code = self._process.returncode
            if code == EXIT_NO_MATPLOTLIB:
                tell_skipped(console)
            elif code != 0:
                last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {code}"]
                console.print(f"warning: the sky map was not drawn: {last[0]}", markup=False, soft_wrap=True)
        return self.out if self._process.returncode == 0 and self.out.is_file() else None

    def _finish(self) -> bytes:
        """The child's stderr, once it has exited (its stdin is closed already)."""
        assert self._process is not None and self._process.stderr is not None
        err = self._process.stderr.read()
        self._process.stderr.close()
        self._process.wait()
        return err

    def _send(self, line: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(line)
            self._process.stdin.close()
        except BrokenPipeError:  # the child is gone already: ``wait`` reports how it ended
            pass
