"""The sky map: one patch per catalog field, the new ones highlighted and labelled, on a Mollweide frame."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.local.sample import field_csv_bytes
from bot.local.world import seed_manifest
from bot.skymap.density import SkyCounter, decode_cells, encode_cells
from bot.skymap.footprints import Footprint, catalog_sky, fields_of_version, map_x

pytest.importorskip("matplotlib")

from bot.skymap.draw import sky_map_figure, write_sky_map

FIELDS = (296, 297, 423, 487)


@pytest.fixture(scope="module")
def records():
    """A bot-made manifest of four fields, then 487 re-released as v1.1.0; field 999 has no footprint."""
    manifest = json.loads(seed_manifest({f: field_csv_bytes(f, 300, seed=2) for f in FIELDS}))
    out = manifest["fields"]
    for r in out:
        if r["field"] == 487:
            r["source"]["version"] = "v1.1.0"
    return [*out, {"field": 999, "file": "field_999.csv", "rows": None, "source": None}]


def test_every_field_is_one_patch_and_the_new_ones_are_highlighted_and_labelled(records):
    sky = catalog_sky(records, fields_of_version(records, "v1.1.0"))
    assert sky.new == {487} and sky.missing == (999,)
    fig = sky_map_figure(sky, "SCoPe catalog v1.1.0")
    (ax, *_colorbar) = fig.axes
    assert ax.name == "mollweide"
    gids = sorted(p.get_gid() for p in ax.patches)
    assert gids == ["field-296", "field-297", "field-423", "new-field-487"]
    new = next(p for p in ax.patches if p.get_gid() == "new-field-487")
    old = next(p for p in ax.patches if p.get_gid() == "field-296")
    assert new.get_facecolor()[:3] != old.get_facecolor()[:3] and new.get_linewidth() > old.get_linewidth()
    assert [t.get_text() for t in ax.texts] == ["487"]
    assert "right ascension" in ax.get_xlabel() and "declination" in ax.get_ylabel()
    assert {t.get_text() for t in ax.get_xticklabels()} >= {"0h", "6h", "18h"}
    (shading,) = [c for c in ax.collections if c.get_gid() == "density"]
    cells = sky.footprints[487].cells
    assert len(shading.get_paths()) == len(cells)
    assert any("without a recorded footprint" in t.get_text() and "999" in t.get_text() for t in fig.texts)


def test_the_png_is_written_and_the_same_catalog_gives_the_same_bytes(records, tmp_path):
    sky = catalog_sky(records, {487})
    a = write_sky_map(sky, "t", tmp_path / "a.png").read_bytes()
    b = write_sky_map(sky, "t", tmp_path / "sub" / "b.png").read_bytes()
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b


def test_a_field_across_ra_180_is_one_patch_of_two_outlines():
    fp = Footprint(5, {(179, 10): 3, (180, 10): 4, (179, 11): 1})
    outlines = fp.outlines()
    assert len(outlines) == 2
    assert {max(abs(x) for x, _ in o) for o in outlines} == {180.0}
    fig = sky_map_figure(catalog_sky([{"field": 5, "footprint": {"cells": encode_cells(fp.cells)}}]), "t")
    (patch,) = fig.axes[0].patches
    xs = patch.get_path().vertices[:, 0]
    assert xs.min() == pytest.approx(-math.pi) and xs.max() == pytest.approx(math.pi)


def test_a_field_across_ra_0_is_one_outline_in_the_middle():
    (outline,) = Footprint(6, {(359, 0): 1, (0, 0): 1}).outlines()
    assert sorted({x for x, _ in outline}) == [-1.0, 1.0]
    assert map_x(90.0) == -90.0  # RA grows to the left


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 359.999), st.floats(-90, 90)), min_size=1, max_size=200))
def test_the_counter_keeps_every_row_in_its_cell(points):
    counter = SkyCounter()
    ra = np.array([p[0] for p in points])
    dec = np.array([p[1] for p in points])
    counter.add_column("ra", ra)
    counter.add_column("dec", dec)
    cells = decode_cells(counter.encode())
    assert sum(cells.values()) == len(points)
    for r, d in points:
        assert (math.floor(r), min(math.floor(d), 89)) in cells


def test_a_damaged_footprint_is_reported_missing_not_drawn():
    sky = catalog_sky([{"field": 7, "footprint": {"cells": "12,5,x"}}, {"field": 8, "footprint": "junk"}])
    assert sky.footprints == {} and sky.missing == (7, 8)
    with pytest.raises(ValueError, match="not a sky cell"):
        decode_cells("1,2")


def test_the_readme_shows_the_demos_map():
    from pathlib import Path

    root = Path(__file__).parents[2]
    assert "](docs/sky-map-demo.png)" in (root / "README.md").read_text()
    assert (root / "docs" / "sky-map-demo.png").read_bytes().startswith(b"\x89PNG")
