"""A fresh release world (local Zenodo + GitHub servers, real git) per test."""

from __future__ import annotations

import pytest
from release_helpers import CURATOR, OUTSIDER, ZENODO_MODES

from bot.local.world import LocalWorld


@pytest.fixture(params=["zenodo.org"])
def world(request, tmp_path):
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER),
                    zenodo_options=ZENODO_MODES[request.param]) as w:
        yield w
