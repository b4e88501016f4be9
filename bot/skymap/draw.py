"""The sky map as a PNG: a Mollweide all-sky plot in equatorial coordinates (matplotlib, extra ``plots``).

Every catalog field is one patch in one colour; the fields the release added or replaced are highlighted
and labelled, with the light-curve density of their files shaded cell by cell. matplotlib is optional
(``pip install 'release-bot[plots]'``): ``plots_available`` tells whether it can be imported, and callers
skip the picture, saying so once, when it cannot. The figure is drawn with the Agg canvas directly (no
pyplot, no GUI backend, no global state), and saved without the software tag so the same catalog gives
the same bytes (a rerun finds the file it uploaded before).
"""

from __future__ import annotations

import functools
import importlib
import math
from pathlib import Path
from typing import TYPE_CHECKING

from bot.skymap.footprints import CatalogSky, Footprint, cell_area_deg2, cell_corners

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch

CATALOG_COLOUR = "#4c78a8"
NEW_COLOUR = "#e45756"
FIGSIZE = (9.0, 5.2)  # inches
DPI = 100
SKIP_NOTICE = "sky map skipped: matplotlib is not installed (pip install 'release-bot[plots]')"


@functools.cache
def plots_available() -> bool:
    """Can matplotlib be imported here? (Imported once to know: a broken install counts as missing.)"""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def _ra_label(x_deg: float) -> str:
    return f"{round(((-x_deg) % 360) / 15) % 24}h"


def _field_patch(fp: Footprint, new: bool) -> PathPatch:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    polygons = [[(math.radians(x), math.radians(y)) for x, y in outline] for outline in fp.outlines()]
    path = MplPath.make_compound_path(*(MplPath(p + p[:1], closed=True) for p in polygons))
    patch = PathPatch(
        path, facecolor=NEW_COLOUR if new else CATALOG_COLOUR, alpha=0.35 if new else 0.55,
        edgecolor=NEW_COLOUR if new else CATALOG_COLOUR, linewidth=1.6 if new else 0.6, zorder=3 if new else 2,
    )
    patch.set_gid(f"{'new-' if new else ''}field-{fp.field}")
    return patch


def _density(ax: Axes, sky: CatalogSky) -> None:
    """Light curves per square degree in each 1° cell of the new fields' files."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    cells = [(cell, n) for f in sorted(sky.new) if f in sky.footprints for cell, n in sky.footprints[f].cells.items()]
    if not cells:
        return
    polys = [[(math.radians(x), math.radians(y)) for x, y in cell_corners(cell)] for cell, _ in cells]
    values = [n / cell_area_deg2(cell) for cell, n in cells]
    shading = PolyCollection(polys, cmap="inferno_r", norm=Normalize(0.0, max(values)), linewidths=0, zorder=4)
    shading.set_array(values)
    shading.set_gid("density")
    ax.add_collection(shading, autolim=False)  # the map's limits are the whole sky: skip a costly pass
    bar = ax.figure.colorbar(shading, ax=ax, orientation="horizontal", fraction=0.04, pad=0.1, aspect=30,
                             shrink=0.45, anchor=(0.9, 1.0))
    bar.set_label("light curves per deg² in the new files")


def sky_map_figure(sky: CatalogSky, title: str) -> Figure:
    """The map as a matplotlib Figure (for tests to inspect); ``write_sky_map`` saves it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="mollweide")
    ax.grid(True, color="#999999", linewidth=0.4, alpha=0.6)
    ticks = list(range(-150, 151, 30))
    ax.set_xticks([math.radians(t) for t in ticks], [_ra_label(t) for t in ticks], fontsize=8, color="#444444")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("right ascension (J2000), increasing to the left")
    ax.set_ylabel("declination")
    for field in sorted(sky.footprints):
        ax.add_patch(_field_patch(sky.footprints[field], field in sky.new))
    _density(ax, sky)
    for field in sorted(sky.new & sky.footprints.keys()):
        x, y = sky.footprints[field].center()
        ax.annotate(str(field), (math.radians(x), math.radians(y)), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize=8, fontweight="bold", color="#222222", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    n_new = len(sky.new & sky.footprints.keys())
    handles = [Patch(facecolor=CATALOG_COLOUR, alpha=0.55, label=f"catalog fields ({len(sky.footprints) - n_new})")]
    if n_new:
        handles.append(Patch(facecolor=NEW_COLOUR, alpha=0.5, edgecolor=NEW_COLOUR, label=f"new or replaced ({n_new})"))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.04), fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11, pad=14)
    if sky.missing:
        shown = ", ".join(map(str, sky.missing[:8])) + (" ..." if len(sky.missing) > 8 else "")
        fig.text(0.01, 0.01, f"{len(sky.missing)} field(s) without a recorded footprint are not drawn: {shown}",
                 fontsize=7, color="#666666")
    return fig


def write_sky_map(sky: CatalogSky, title: str, out: Path) -> Path:
    """Draw the map and save it as a PNG at ``out`` (folders made as needed); returns ``out``."""
    fig = sky_map_figure(sky, title)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out
