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
class OneOf:
    """An expected value that is any one of several (one sgd iteration: a step on some column, whichever
    a correct sampler drew); `labels` say which each is, as the student reads it ("one step on column 2")."""
    options: list
    labels: list

    def tagged(self, tag):
        return {"one_of": {"options": [tag(o) for o in self.options], "labels": list(self.labels)}}


@dataclass
class Moved:
    """An expected array whose row i differs from `before` where rows[i] is 1 and equals it where rows[i]
    is 0 (sgd on one-hot columns: the rows of the first W that the columns it drew reach)."""
    before: np.ndarray
    rows: np.ndarray

    def tagged(self, tag):
        return {"moved": {"before": tag(np.asarray(self.before, dtype=np.float64)),
                          "rows": tag(np.asarray(self.rows, dtype=np.float64))}}

    def describe(self):
        rows = np.asarray(self.rows).astype(bool)
        if rows.all():
            return "every row different from `before`"
        changed = ", ".join(str(i) for i in np.flatnonzero(rows)) or "none"
        same = ", ".join(str(i) for i in np.flatnonzero(~rows))
        return f"rows {changed} different from `before`, rows {same} equal to it"


KINDS = {"one_of": lambda d, untag: OneOf([untag(o) for o in d["options"]], list(d["labels"])),
         "moved": lambda d, untag: Moved(untag(d["before"]), untag(d["rows"]))}  # for protocol.untag


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
    if protocol.is_not_computed(tree):
        raise Unreadable("it was not computed: a call before it raised")
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
    """None when `got` is `expected` within tolerance; else the first Mismatch.

    `expected` may be a OneOf (got must be one of its options) or a Moved (got's rows must
    differ from, or equal, `before` as its `rows` say). Two of these are compared by what they accept.
    """
    if isinstance(got, Missing):
        return Mismatch(path, f"the key {got.key!r} is missing")
    if isinstance(expected, (OneOf, Moved)) or isinstance(got, (OneOf, Moved)):
        return _compare_kind(expected, got, rtol, atol, path)
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
    close = _close(e, g, rtol, atol)
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        at = f"at {index_text(where)} " if where else ""
        return Mismatch(path, f"{at}it is {number(g[where])}, but it should be {number(e[where])}",
                        expected, got)
    return None


def leaves(expected, got, found):
    """Appends to `found` the (expected, got) arrays of two like structures; False where they are not
    plain numbers alike (a missing key, a set of acceptable values, lists of other lengths)."""
    if isinstance(got, (Missing, OneOf, Moved)) or isinstance(expected, (OneOf, Moved)):
        return False
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(leaves(expected[k], got.get(k, Missing(k)), found) for k in expected)
    if isinstance(expected, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(expected) and \
            all(leaves(e, g, found) for e, g in zip(expected, got))
    found.append((np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)))
    return True


def stacked_close(pairs, rtol, atol):
    """compare's verdict on several (expected, got) arrays of one shape at once: True when none mismatches."""
    shape = pairs[0][0].shape
    if any(e.shape != shape or g.shape != shape for e, g in pairs):
        return False
    e, g = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    if (~np.isfinite(g) & np.isfinite(e)).any():
        return False
    top = np.abs(e).reshape(len(pairs), -1).max(axis=1, initial=0.0).reshape((len(pairs),) + (1,) * len(shape))
    scale = np.maximum(np.abs(e), 0.1 * top)  # per instance, as _close scales each array on its own
    return bool(((np.abs(g - e) <= atol + rtol * scale) | (g == e)).all())


def _close(expected, got, rtol, atol):
    """Entry by entry, whether got is expected within tolerance (as `compare` judges arrays)."""
    scale = np.maximum(np.abs(expected), 0.1 * np.abs(expected).max(initial=0.0))
    return (np.abs(got - expected) <= atol + rtol * scale) | (got == expected)


def _compare_kind(expected, got, rtol, atol, path):
    if type(expected) is type(got):  # two sets of acceptable values: the same sets?
        fields = [(expected.options, got.options)] if isinstance(expected, OneOf) else \
            [(expected.before, got.before), (expected.rows, got.rows)]
        differ = any(len(e) != len(g) or compare(list(e), list(g), rtol, atol) for e, g in fields)
        return Mismatch(path, "they accept different values", expected, got) if differ else None
    if isinstance(got, (OneOf, Moved)):
        return Mismatch(path, "one is a set of acceptable values, the other a value", expected, got)
    if isinstance(expected, OneOf):
        found = [(compare(o, got, rtol, atol, path), o, label) for o, label in zip(expected.options, expected.labels)]
        if any(m is None for m, _, _ in found):
            return None
        m, nearest, label = min(found, key=lambda f: _distance(f[1], got))
        return Mismatch(path, f"it is none of the {len(found)} acceptable values; against the nearest, "
                              f"{label}: {m.what}", nearest, got)
    before = np.asarray(expected.before, dtype=np.float64)
    g = np.asarray(got, dtype=np.float64)
    if before.shape != g.shape:
        return Mismatch(path, f"the shape is {shape_text(g.shape)}, but it should be {shape_text(before.shape)}",
                        expected, got)
    if not np.isfinite(g).all():
        return Mismatch(path, f"it contains {g[~np.isfinite(g)][0]}", expected, got)
    for i, (row, moves) in enumerate(zip(g, np.asarray(expected.rows).astype(bool))):
        same = _close(before[i], row, rtol, atol).all()
        if moves and same:
            return Mismatch(path, f"row {i} is what it was before, but it should have changed", expected, got)
        if not moves and not same:
            return Mismatch(path, f"row {i} changed, but it should be what it was before", expected, got)
    return None


def _distance(option, got):
    try:
        return float(np.max(np.abs(np.asarray(option, dtype=np.float64) - np.asarray(got, dtype=np.float64)),
                            initial=0.0))
    except (ValueError, TypeError):  # shapes that do not broadcast: farthest
        return float("inf")


# ---- numbers and shapes as a student reads them -------------------------------------

def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def number(x):
    return np.format_float_positional(float(x), precision=6, trim="-") if np.isfinite(x) else str(x)
