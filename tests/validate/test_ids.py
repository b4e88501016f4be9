"""The bounded-memory _id uniqueness check agrees with a plain Python set, in memory or spilled."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.validate.ids import NO_ID, IdRegistry


def _brute(ids: list[int]) -> list[tuple[int, int, int]]:
    first: dict[int, int] = {}
    out = []
    for row, value in enumerate(ids):
        if value == NO_ID:
            continue
        if value in first:
            out.append((row, value, first[value]))
        else:
            first[value] = row
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.integers(-3, 40), st.just(2**63 - 1), st.just(int(NO_ID))), max_size=30),
             max_size=6),
    st.integers(1, 60),
    st.integers(1, 10),
)
def test_repeats_match_a_set(batches: list[list[int]], memory_rows: int, limit: int) -> None:
    registry = IdRegistry(memory_rows=memory_rows, partitions=5)
    for batch in batches:
        registry.add(np.array(batch, dtype=np.int64))
    found, count = registry.duplicates(limit)
    want = _brute([v for b in batches for v in b])
    assert count == len(want)
    assert found == want[:limit]
