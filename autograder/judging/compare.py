"""Whether a student's value is right: read it back from the wire, compare it within tolerance.

This is the only place that decides whether a value is right. `readback` turns the
worker's plain tree into a structure shaped like the expected value (or says why it
cannot); `compare` finds the first entry that differs and says how, in one sentence
for the student.
"""
from dataclasses import dataclass

import numpy as np

from . import protocol


class Unreadable(Exception):
    """The student's value is not numbers in a form that can stand for the expected one."""


@dataclass
class Missing:
    """A key the expected dict has and the student's does not."""
    key: str


@dataclass
class Mismatch:
    path: str        # where in the answer: "", "[1]", "['dL_da1']"
    what: str        # one sentence for the student
    expected: object = None
    got: object = None


# ---- reading a student's value back --------------------------------------------

def readback(tree, like):
    """The worker's plain tree as a structure shaped like `like` (float, ndarray, list, tuple, dict)."""
    if "unreadable" in tree:
        raise Unreadable(tree["unreadable"])
    if isinstance(like, dict):
        if "dict" not in tree:
            raise Unreadable("it is not a dict")
        got = tree["dict"]
        return {k: readback(got[k], v) if k in got else Missing(k) for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        if "list" in tree:
            items = tree["list"]
        elif protocol.is_array(tree) and tree["array"][0] and tree["array"][0][0] == len(like):
            whole = protocol.unpack(tree)
            items = [protocol.pack(part) for part in whole]
        else:
            raise Unreadable(f"it is not a list of {len(like)} items")
        if len(items) != len(like):
            raise Unreadable(f"it has {len(items)} items where {len(like)} were expected")
        return type(like)(readback(t, l) for t, l in zip(items, like))
    if "list" in tree:  # a list of equal-shaped arrays stands for an array
        try:
            return np.stack([readback(t, np.zeros(0)) for t in tree["list"]])
        except (ValueError, Unreadable):
            raise Unreadable("it is a list of arrays of different shapes, not one array") from None
    if not protocol.is_array(tree):
        raise Unreadable("it is not an array of numbers")
    arr = protocol.unpack(tree)
    if isinstance(like, float):
        if arr.size != 1:
            raise Unreadable(f"it has shape {shape_text(arr.shape)} where a single number was expected")
        return float(arr.reshape(()))
    return arr


# ---- comparing -------------------------------------------------------------------

def compare(expected, got, rtol, atol, path=""):
    """None when `got` is `expected` within tolerance; else the first Mismatch."""
    if isinstance(got, Missing):
        return Mismatch(path, f"the key {got.key!r} is missing")
    if isinstance(expected, dict):
        for k in expected:
            m = compare(expected[k], got[k], rtol, atol, f"{path}[{k!r}]")
            if m:
                return m
        return None
    if isinstance(expected, (list, tuple)):
        for i, (e, g) in enumerate(zip(expected, got)):
            m = compare(e, g, rtol, atol, f"{path}[{i}]")
            if m:
                return m
        return None
    e, g = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if e.shape != g.shape:
        return Mismatch(path, f"the shape is {shape_text(g.shape)}, but it should be {shape_text(e.shape)}",
                        expected, got)
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f" at {index_text(where)}" if where else ""
        return Mismatch(path, f"it contains {g[where]}{at}", expected, got)
    # Relative to each entry, but never tighter than to a tenth of the largest: float32
    # arithmetic errs relative to the magnitudes it sums, not to a small result.
    scale = np.maximum(np.abs(e), 0.1 * np.abs(e).max(initial=0.0))
    close = (np.abs(g - e) <= atol + rtol * scale) | (g == e)
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        at = f"at {index_text(where)} " if where else ""
        return Mismatch(path, f"{at}it is {number(g[where])}, but it should be {number(e[where])}",
                        expected, got)
    return None


# ---- numbers and shapes as a student reads them -------------------------------------

def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def number(x):
    return np.format_float_positional(float(x), precision=6, trim="-") if np.isfinite(x) else str(x)
