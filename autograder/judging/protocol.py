"""The wire format: the one place that says how values cross the process boundary and cases.json.

Only plain JSON crosses. An array is `{"array": [shape, flat]}` (float64, flat in C order);
everything else is a number, a string, a list or a dict of these.

- Requests (grader -> worker): `encode` on the grader's side, `decode` on the worker's;
  `{"ref": name}` there names an object an earlier step bound.
- Answers (worker -> grader): `plain` on the worker's side, read back against the expected
  value by `judging.compare.readback`. A list or tuple that numpy can stack is sent as one
  array; otherwise `{"list": [...]}`, `{"dict": {...}}`, or `{"unreadable": why}`; an output
  a try block did not compute (its step, or one before it in the block, raised) is
  `{"not_computed": step}`. A program's result is `{"outputs": [...], "stdout": text}`, or
  `{"outputs": [], "error": {...}, "stdout": text}` when a step raised outside a try block,
  either with `"raised": [{"step": index, "kind", "type", "message", ...}]` for the steps
  of try blocks that raised and were carried on from.
- Fixed cases (cases.json in the handout): `tag` and `untag`, which keep tuples apart from
  lists and dicts apart from requests, so a stored value comes back as it went in (and an
  expected set of values, `{"one_of": ...}` or `{"moved": ...}`, as judging.compare's kind).

Messages travel in length-prefixed JSON frames (autograder/sandbox/frames.py).

It imports numpy alone: the worker and the handout run it without the grader.
"""
import numpy as np

MAX_ELEMENTS = 1_000_000  # per returned value; far beyond any correct answer here


def pack(array):
    """An array on the wire: {"array": [shape, flat]}."""
    a = np.asarray(array, dtype=np.float64)
    return {"array": [list(a.shape), a.ravel().tolist()]}


def unpack(tree):
    """The array of a {"array": [shape, flat]} tree."""
    shape, flat = tree["array"]
    return np.array(flat, dtype=np.float64).reshape(shape)


def is_array(tree):
    return isinstance(tree, dict) and "array" in tree


# ---- requests: the grader's inputs for the worker --------------------------------------

def encode(value):
    """Inputs as plain JSON for the worker: arrays by shape and numbers, nothing callable."""
    if isinstance(value, np.ndarray):
        return pack(value)
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def decode(x, objects):
    """A request's value on the worker's side: arrays, {"ref": name}, lists, dicts, numbers, strings."""
    if isinstance(x, dict):
        if "array" in x:
            return unpack(x)
        if "ref" in x:
            return objects[x["ref"]]
        return {k: decode(v, objects) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v, objects) for v in x]
    return x


# ---- answers: a student's value as plain numbers ----------------------------------------

def plain(x, depth=0):
    """A student's return value as a tree of arrays, lists and dicts of plain numbers."""
    if depth > 4:
        raise TypeError("the value is nested too deeply")
    if isinstance(x, dict):
        return {"dict": {str(k): plain(v, depth + 1) for k, v in x.items()}}
    if isinstance(x, (list, tuple)):
        try:
            return plain_array(x)
        except (TypeError, ValueError):
            return {"list": [plain(v, depth + 1) for v in x]}
    return plain_array(x)


def plain_array(x):
    if x is None:
        raise TypeError("the value is None (did the function forget to `return`?)")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"the value is a {type(x).__name__}, not a number or an array")
    raw = np.asarray(x)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"the value is a {type(x).__name__} of {raw.dtype}, not an array of real numbers")
    if raw.size > MAX_ELEMENTS:
        raise TypeError(f"the value has {raw.size} elements, far more than expected")
    return pack(raw)


def unreadable(why):
    return {"unreadable": str(why)}


def not_computed(step):
    """The answer of an output that a try block skipped or whose call raised at `step`."""
    return {"not_computed": step}


def is_not_computed(tree):
    return isinstance(tree, dict) and "not_computed" in tree


# ---- fixed cases: values stored as they are ---------------------------------------------

def tag(value):
    """A value as JSON that keeps its kind: arrays by shape, tuples apart from lists, numbers exact."""
    if isinstance(value, np.ndarray):
        return pack(value)
    if isinstance(value, tuple):
        return {"tuple": [tag(v) for v in value]}
    if isinstance(value, list):
        return {"list": [tag(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): tag(v) for k, v in value.items()}}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tagged"):  # a set of acceptable values (judging.compare's OneOf, Moved)
        return value.tagged(tag)
    raise TypeError(f"cannot store a {type(value).__name__} in a fixed case")


def untag(value):
    """`tag`'s values back as arrays, tuples, lists, dicts and numbers."""
    if isinstance(value, dict):
        if "array" in value:
            return unpack(value)
        if "tuple" in value:
            return tuple(untag(v) for v in value["tuple"])
        if "list" in value:
            return [untag(v) for v in value["list"]]
        if "dict" in value:
            return {k: untag(v) for k, v in value["dict"].items()}
        from .compare import KINDS  # sets of acceptable values; compare imports this module
        for kind, read in KINDS.items():
            if kind in value:
                return read(value[kind], untag)
    return value

