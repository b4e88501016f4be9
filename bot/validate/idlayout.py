"""The ``_id`` layout check: a warning, never an error.

SCoPe's light-curve ids (seen on fields 296 and 487) are ``1`` + 4-digit field + 2-digit rcid
(``4*(ccd-1)+(quad-1)``) + filter digit + sequence, the sequence written with 6 digits (more past 999,999,
as ``f"{seq:06d}"`` does). So the first 8 digits of an id of 14 or more digits are fixed by the file's field
and the row's ccd, quad and filter. Where they differ the id may still be right (the layout is seen, not
documented), so the engine reports a warning, and the file stays valid.

Integer arithmetic over the whole batch: no strings, no Python loop.
"""

from __future__ import annotations

import numpy as np

CODE = "id-layout"
PREFIX_DIGITS = 8  # 1 + field (4) + rcid (2) + filter (1)
MIN_DIGITS = PREFIX_DIGITS + 6  # the sequence has at least 6 digits
_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)  # 10**0 .. 10**18 (int64 holds 19 digits)


def rcid(ccd: int, quad: int) -> int:
    """ZTF readout channel id of a CCD quadrant: 0..63."""
    return 4 * (ccd - 1) + (quad - 1)


def expected_prefix(field: int, ccd: np.ndarray, quad: np.ndarray, flt: np.ndarray) -> np.ndarray:
    """The first 8 digits an id must have, as int64: ``1`` FFFF RR f."""
    ccd, quad, flt = (np.asarray(a, dtype=np.int64) for a in (ccd, quad, flt))
    return 10**7 + field * 1000 + (4 * (ccd - 1) + (quad - 1)) * 10 + flt


def layout_ok(ids: np.ndarray, field: int, ccd: np.ndarray, quad: np.ndarray, flt: np.ndarray) -> np.ndarray:
    """Per row: does the (positive int64) id follow the layout for this field, ccd, quad and filter?"""
    ids = np.asarray(ids, dtype=np.int64)
    digits = np.searchsorted(_POW10, ids, side="right")  # decimal digits of ids >= 1
    head = ids // _POW10[np.maximum(digits - PREFIX_DIGITS, 0)]
    matches: np.ndarray = (digits >= MIN_DIGITS) & (head == expected_prefix(field, ccd, quad, flt))
    return matches


def explain(light_curve_id: int, field: int, ccd: int, quad: int, flt: int) -> str:
    """The warning's message: the layout, what this row expects, what differs, and that it is a warning."""
    text = str(light_curve_id)
    rc = rcid(ccd, quad)
    want = f"1{field:04d}{rc:02d}{flt}"
    if len(text) < MIN_DIGITS:
        differs = [f"it has {len(text)} digits, not {MIN_DIGITS} or more"]
    else:
        differs = []
        if text[0] != "1":
            differs.append(f"it starts with {text[0]}, not 1")
        if text[1:5] != want[1:5]:
            differs.append(f"field digits {text[1:5]}, not {want[1:5]}")
        if text[5:7] != want[5:7]:
            differs.append(f"rcid digits {text[5:7]}, not {want[5:7]}")
        if text[7] != want[7]:
            differs.append(f"filter digit {text[7]}, not {want[7]}")
    return (
        f"{text} does not follow the ZTF _id layout 1 + 4-digit field + 2-digit rcid (4*(ccd-1)+(quad-1)) + "
        f"filter digit + 6-digit sequence: for field {field}, ccd {ccd}, quad {quad}, filter {flt} it would start "
        f"{want} ({'; '.join(differs)}). Only a warning, not an error: the file stays valid; check the id"
    )
