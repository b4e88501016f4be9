"""Arrow constants for the compute calls, built from raw buffers rather than converted from Python objects.

pyarrow converts a Python value (``pa.scalar``, ``pa.array``, a bare number given to a compute function) only
after asking whether it is a pandas object, and that question imports pandas when it is installed: most of a
second of start-up that validation never uses. So the checks take their constants from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pyarrow as pa

_NUMPY = {pa.int32(): np.int32, pa.int64(): np.int64, pa.float64(): np.float64}


@cache
def scalar(value: bool | int | float | str | None, kind: pa.DataType) -> pa.Scalar:
    """One value of Arrow type ``kind`` (bool, int32, int64, float64 or string); None for a typed null."""
    if value is None:
        return pa.nulls(1, kind)[0]
    if kind == pa.string():
        return strings((str(value),))[0]
    if kind == pa.bool_():
        return pa.Array.from_buffers(kind, 1, [None, pa.py_buffer(bytes([int(bool(value))]))])[0]
    return numbers(np.array([value], dtype=_NUMPY[kind]))[0]


@cache
def strings(values: Sequence[str]) -> pa.Array:
    """A string array of ``values`` (a tuple, so it can be cached)."""
    data = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def numbers(values: np.ndarray) -> pa.Array:
    """An int32, int64 or float64 array sharing ``values``' memory."""
    kind = {np.dtype(np.int32): pa.int32(), np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(kind[values.dtype], len(values), [None, pa.py_buffer(values)])


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A bool, int32, int64 or float64 array as numpy, read from its buffers (``to_numpy`` imports pandas too).

    Nulls must be filled first, except in float64 arrays, where they read as NaN.
    """
    if isinstance(values, pa.ChunkedArray):
        parts = [to_numpy(c) for c in values.chunks]
        return np.concatenate(parts) if len(parts) != 1 else parts[0]
    n, offset = len(values), values.offset
    data = values.buffers()[1]
    if values.type == pa.bool_():
        bits = np.frombuffer(data, dtype=np.uint8, count=(offset + n + 7) // 8) if n else np.zeros(0, np.uint8)
        out: np.ndarray = np.unpackbits(bits, bitorder="little")[offset:offset + n].astype(bool)
    else:
        dtype = np.dtype(_NUMPY[values.type])
        out = np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize) if n else np.zeros(0, dtype)
    if values.null_count:
        if values.type != pa.float64():
            raise ValueError(f"fill the nulls of this {values.type} array first")
        valid = values.buffers()[0]
        bits = np.frombuffer(valid, dtype=np.uint8, count=(offset + n + 7) // 8)
        out = np.where(np.unpackbits(bits, bitorder="little")[offset:offset + n].astype(bool), out, np.nan)
    return out
