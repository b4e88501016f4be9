"""Shared fixtures: the bundled local servers (each defined in its own module beside this file)."""

from __future__ import annotations

import sys
from pathlib import Path

# Write bytecode even where PYTHONDONTWRITEBYTECODE is set (as in our CI image): the two workers and the
# dozens of `release-bot` processes the tests start would otherwise each compile bot/ from source again.
sys.dont_write_bytecode = False
sys.path.insert(0, str(Path(__file__).parent))

from github_fixtures import *  # noqa: F403, E402
from zenodo_fixtures import *  # noqa: F403, E402
