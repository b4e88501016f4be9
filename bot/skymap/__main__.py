"""``python -m bot.skymap OUT.png``: draw one sky map (the child process of ``bot.skymap.job``).

Imports the drawing code first, then reads one line from stdin: the path of a JSON request (records,
version, highlight_version). An empty stdin means the run stopped before it had a map to draw.
"""

from __future__ import annotations

import os

# Low priority before anything is imported: the map only uses a core the merge run leaves idle.
if hasattr(os, "nice"):
    os.nice(10)

import json
import sys
from pathlib import Path

from rich.console import Console

from bot.skymap.job import EXIT_NO_MATPLOTLIB
from bot.skymap.release import draw_catalog_map


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bot.skymap OUT.png  (the request's path on stdin)", file=sys.stderr)
        return 2
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return EXIT_NO_MATPLOTLIB
    line = sys.stdin.readline().strip()
    if not line:
        return 0
    request = json.loads(Path(line).read_text())
    drawn = draw_catalog_map(request["records"], request["version"], Path(argv[0]), Console(stderr=True),
                             highlight_version=request["highlight_version"])
    return 0 if drawn is not None else EXIT_NO_MATPLOTLIB

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
