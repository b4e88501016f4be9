"""A fresh release world (local Zenodo + GitHub servers, real git) per test.

The sky map is turned off here: drawing it is most of a merge run's CPU in this small world, and the
pictures have their own worlds (test_pictures.py, test_without_plots.py) with it on.
"""

from __future__ import annotations

import pytest
from release_helpers import CURATOR, OUTSIDER, ZENODO_MODES

from bot.local.world import LocalWorld


@pytest.fixture(params=["zenodo.org"])
def world(request, tmp_path):
    with LocalWorld(tmp_path / "world", curators=(CURATOR,), writers=(CURATOR, OUTSIDER),
                    zenodo_options=ZENODO_MODES[request.param], sky_map=False) as w:
        yield w
