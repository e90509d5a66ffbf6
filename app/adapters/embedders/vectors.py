"""Rows of numbers made unit vectors, and a vector someone else made checked before it is one."""

from __future__ import annotations

import math

import numpy as np

from app.adapters.embedders import Vectors

FLOAT32_MAX = float(np.finfo(np.float32).max)


def unit_rows(rows: Vectors) -> Vectors:
    """`rows` as float32, each of length 1, in place where it can be; a row of zeros (a text
    with nothing to embed) stays zeros rather than becoming NaN."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.divide(rows, norms, out=rows, where=norms > 0)
    return rows


def checked(value: object, dimensions: int) -> Vectors:
    """A list of `dimensions` finite numbers as a unit float32 vector; ValueError saying what
    is wrong otherwise."""
    expected = f"a list of {dimensions} numbers"
    if not isinstance(value, list | tuple):
        raise ValueError(f"{expected}, not {type(value).__name__}")
    if len(value) != dimensions:
        raise ValueError(f"{expected}, not {len(value)}")
    if not all(type(number) in (int, float) for number in value):  # bool is no number here
        raise ValueError(f"{expected}: every item a number")
    if not all(math.isfinite(number) for number in value):
        raise ValueError(f"{expected}: finite ones (no NaN or infinity)")
    if any(abs(number) > FLOAT32_MAX for number in value):
        raise ValueError(f"{expected}: within float32's range")
    vector = np.array(value, dtype=np.float32)
    if not vector.any():
        raise ValueError(f"{expected}: not all zeros")
    unit: Vectors = unit_rows(vector.reshape(1, -1))[0]
    return unit
