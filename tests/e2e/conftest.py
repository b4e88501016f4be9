"""A fresh release world (local Zenodo + GitHub servers, real git) per test."""

from __future__ import annotations

import pytest
from release_helpers import CURATOR, OUTSIDER

from bot.local.world import LocalWorld


@pytest.fixture
def world(tmp_path):
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER)) as w:
        yield w
