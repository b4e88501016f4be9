"""A coarse sky histogram of a field's light curves, gathered while the validation pass streams the rows.

The sky is cut into 1° x 1° cells of RA and Dec; each cell counts the rows whose position falls in it.
A ZTF field (about 7° x 7°) fills some 50-80 cells, so the non-empty cells are kept as a short text,
``"ra,dec,n;ra,dec,n;..."`` (each cell named by its lower-left corner in whole degrees), that the
manifest carries as the field's footprint: the sky map of a later release draws the field from it
without reading the field again. numpy only: no plotting library is needed to gather it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

CELL_DEG = 1
_RA_CELLS, _DEC_CELLS = 360 // CELL_DEG, 180 // CELL_DEG
_CELL = re.compile(r"^(\d{1,3}),(-?\d{1,2}),([1-9]\d*)$")

Cells = dict[tuple[int, int], int]  # (ra, dec) of a cell's lower-left corner in degrees -> rows in it


class SkyCounter:
    """Rows per sky cell, added a batch of positions at a time (non-finite positions are left out)."""

    def __init__(self) -> None:
        self.counts = np.zeros(_RA_CELLS * _DEC_CELLS, dtype=np.int64)
        self._pending: dict[str, np.ndarray] = {}

    def add(self, ra: np.ndarray, dec: np.ndarray) -> None:
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        finite = np.isfinite(ra) & np.isfinite(dec)
        if not finite.all():
            ra, dec = ra[finite], dec[finite]
        i = np.floor(ra / CELL_DEG).astype(np.int64) % _RA_CELLS
        j = np.clip(np.floor(dec / CELL_DEG).astype(np.int64) + _DEC_CELLS // 2, 0, _DEC_CELLS - 1)
        self.counts += np.bincount(i * _DEC_CELLS + j, minlength=self.counts.size)

    def add_column(self, name: str, values: np.ndarray) -> None:
        """Take one batch's ``ra`` or ``dec`` column; once both of the batch have come, count them."""
        self._pending[name] = values
        if "ra" in self._pending and "dec" in self._pending:
            self.add(self._pending.pop("ra"), self._pending.pop("dec"))

    def cells(self) -> Cells:
        nonzero = np.flatnonzero(self.counts)
        return {
            (int(k // _DEC_CELLS) * CELL_DEG, int(k % _DEC_CELLS) * CELL_DEG - 90): int(self.counts[k])
            for k in nonzero
        }

    def encode(self) -> str:
        return encode_cells(self.cells())


def encode_cells(cells: Mapping[tuple[int, int], int]) -> str:
    return ";".join(f"{ra},{dec},{n}" for (ra, dec), n in sorted(cells.items()) if n > 0)


def decode_cells(text: str) -> Cells:
    """The cells of an encoded footprint; raises ValueError naming the first part that is not a cell."""
    out: Cells = {}
    for part in filter(None, text.split(";")):
        m = _CELL.match(part)
        if m is None:
            raise ValueError(f"{part!r} is not a sky cell (expected ra,dec,count)")
        ra, dec, n = (int(g) for g in m.groups())
        if not (0 <= ra < 360 and -90 <= dec < 90) or ra % CELL_DEG or dec % CELL_DEG:
            raise ValueError(f"{part!r} names no {CELL_DEG}° cell of the sky")
        out[(ra, dec)] = out.get((ra, dec), 0) + n
    return out
