"""Fields on the sky, read from a catalog manifest: each field's outline and cells in map coordinates.

Map coordinates are the Mollweide axes' longitude and latitude in degrees, with RA increasing to the left
as on the sky seen from inside: ``x = -RA`` wrapped into [-180, 180], ``y = Dec``. A field's outline is
the convex hull of its cells; a field across RA 180° (the map's left/right edge) gets one outline per
side. Plain Python: the drawing lives in ``bot.skymap.draw``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.skymap.density import CELL_DEG, Cells, decode_cells

Point = tuple[float, float]


@dataclass(frozen=True)
class Footprint:
    field: int
    cells: Cells  # (ra, dec) of each cell's lower-left corner, in degrees -> light curves in it

    @property
    def rows(self) -> int:
        return sum(self.cells.values())

    def outlines(self) -> list[list[Point]]:
        """The field's outline(s) in map coordinates (one per side of the RA 180° seam)."""
        east = {c: n for c, n in self.cells.items() if c[0] < 180}
        west = {c: n for c, n in self.cells.items() if c[0] >= 180}
        if east and west and _across_ra_zero(self.cells):
            return [_hull([corner for cell in self.cells for corner in _corners(cell)])]
        return [_hull([corner for cell in side for corner in _corners(cell)]) for side in (east, west) if side]

    def center(self) -> Point:
        """Where the field's label goes: the middle of its (first) outline, in map coordinates."""
        ref = self.outlines()[0]
        cx = sum(p[0] for p in ref) / len(ref)
        cy = sum(p[1] for p in ref) / len(ref)
        return cx, cy


def map_x(ra: float) -> float:
    """Map longitude (degrees) of a right ascension: RA 0 in the middle, increasing to the left."""
    lon = ((ra + 180.0) % 360.0) - 180.0
    return -lon


def cell_corners(cell: tuple[int, int]) -> list[Point]:
    return _corners(cell)


def _corners(cell: tuple[int, int]) -> list[Point]:
    ra, dec = cell
    x0 = map_x(ra)  # RA 180 maps to +180: the cell just past the seam starts at the map's right edge
    x1 = x0 - CELL_DEG
    return [(x0, dec), (x1, dec), (x1, dec + CELL_DEG), (x0, dec + CELL_DEG)]


def _across_ra_zero(cells: Cells) -> bool:
    """Does a field with cells on both sides of RA 180° lie across RA 0° (the map's middle), not the edge?"""
    ras = {ra for ra, _ in cells}
    return any(ra < 90 for ra in ras) and any(ra >= 270 for ra in ras)


def _hull(points: list[Point]) -> list[Point]:
    """Convex hull, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    upper: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def cell_area_deg2(cell: tuple[int, int]) -> float:
    """Solid angle of a cell in square degrees (narrower towards the poles)."""
    _, dec = cell
    lo, hi = math.radians(dec), math.radians(dec + CELL_DEG)
    return math.degrees(1.0) * CELL_DEG * (math.sin(hi) - math.sin(lo))


@dataclass(frozen=True)
class CatalogSky:
    """What the map shows: every field with a footprint, which are new, which lack one."""

    footprints: dict[int, Footprint]
    new: frozenset[int]
    missing: tuple[int, ...]  # fields of the catalog whose manifest record has no usable footprint


def catalog_sky(records: Iterable[Mapping[str, Any]], new: Iterable[int] = ()) -> CatalogSky:
    footprints: dict[int, Footprint] = {}
    missing: list[int] = []
    for record in records:
        field = record.get("field")
        if not isinstance(field, int):
            continue
        fp = record.get("footprint")
        try:
            cells = decode_cells(fp["cells"]) if isinstance(fp, Mapping) and isinstance(fp.get("cells"), str) else {}
        except ValueError:
            cells = {}
        if cells:
            footprints[field] = Footprint(field, cells)
        else:
            missing.append(field)
    return CatalogSky(footprints, frozenset(new), tuple(sorted(missing)))


def fields_of_version(records: Iterable[Mapping[str, Any]], version: str) -> set[int]:
    """The fields a version added or replaced: their manifest source names that version."""
    return {
        r["field"] for r in records
        if isinstance(r.get("field"), int) and (r.get("source") or {}).get("version") == version
    }
