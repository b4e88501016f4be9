"""Shared fixtures: the bundled local servers (each defined in its own module beside this file)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from github_fixtures import *  # noqa: F403
from zenodo_fixtures import *  # noqa: F403
