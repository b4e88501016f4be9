"""Deterministic synthetic SCoPe prediction files, for the demo, the tests and the benchmarks.

The rows look like the real catalog (pandas ``to_csv(index=False)`` text, ids built the way ZTF builds
them, scores rounded to two decimals) and the same arguments always give the same bytes.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.scope import CLASS_COLUMNS, METADATA_COLUMNS

_TAIL_POOL = 509  # distinct score rows per file; rows pick one, which keeps generation fast


def _score(x: float, y: float) -> str:
    """A score from two uniform draws: mostly low, a few confident positives, as in the real catalog."""
    value = y * 0.3 if x < 0.85 else (0.7 + y * 0.3 if x < 0.95 else y)
    return repr(round(value, 2))


def field_rows(
    field: int,
    rows: int,
    seed: int = 0,
    class_order: Sequence[str] | None = None,
) -> Iterator[str]:
    """Yield the CSV lines (with LF) of a synthetic ``field_<field>.csv``, header first."""
    columns = list(class_order) if class_order is not None else list(CLASS_COLUMNS)
    yield ",".join((*METADATA_COLUMNS, *columns)) + "\n"
    rng = random.Random(f"{field}:{seed}")
    # The pool's draws come first (two per score), but only the tails a row picks are ever written out:
    # formatting all of them made small files cost as much as 509-row ones.
    width = 2 * len(columns)
    draws = [rng.random() for _ in range(_TAIL_POOL * width)]
    tails: dict[int, str] = {}

    def tail(i: int) -> str:
        if i not in tails:
            at = i * width
            tails[i] = ",".join(_score(draws[k], draws[k + 1]) for k in range(at, at + width, 2))
        return tails[i]

    ra0 = rng.uniform(0, 350)
    dec0 = rng.uniform(-25, 80)
    for seq in range(rows):
        ccd = 1 + (seq * 7) % 16
        quad = 1 + (seq // 3) % 4
        flt = 1 + seq % 3
        rcid = 4 * (ccd - 1) + (quad - 1)
        # 1 + 4-digit field + 2-digit rcid + filter digit + 6-digit sequence (more digits past a million)
        light_curve_id = f"1{field:04d}{rcid:02d}{flt}{seq:06d}"
        gaia = rng.randrange(10**18, 7 * 10**18) if rng.random() < 0.8 else 0
        wise = rng.randrange(10**17, 9 * 10**17) if rng.random() < 0.5 else 0
        ps1 = rng.randrange(10**17, 2 * 10**17) if rng.random() < 0.9 else 0
        ra = round((ra0 + rng.random() * 7.0) % 360.0, 7)
        dec = round(min(90.0, dec0 + rng.random() * 7.0), 7)
        period = round(0.05 + rng.random() * 300.0, 6)
        meta = f"{light_curve_id},{gaia},{wise},{ps1},{ra!r},{dec!r},{period!r},{field},{ccd},{quad},{flt}"
        yield f"{meta},{tail(rng.randrange(_TAIL_POOL))}\n"


def write_field_csv(
    path: str | Path,
    field: int,
    rows: int,
    seed: int = 0,
    class_order: Sequence[str] | None = None,
) -> Path:
    """Write a synthetic field file; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        batch: list[str] = []
        for line in field_rows(field, rows, seed, class_order):
            batch.append(line)
            if len(batch) >= 4096:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path


def field_csv_bytes(field: int, rows: int, seed: int = 0, class_order: Sequence[str] | None = None) -> bytes:
    return _field_csv_bytes(field, rows, seed, tuple(class_order) if class_order is not None else None)


@functools.lru_cache(maxsize=512)
def _field_csv_bytes(field: int, rows: int, seed: int, class_order: tuple[str, ...] | None) -> bytes:
    """Cached: the tests and the demo build the same small fields again and again (bytes are immutable)."""
    return "".join(field_rows(field, rows, seed, class_order)).encode()
