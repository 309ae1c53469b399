"""Naming the misconception: the assignment's catalogue (misconceptions.yaml), tried on a failed example.

Grader side only (it runs the reference, and staff-written expressions): the handout
never names a mistake.
"""
import os
from dataclasses import dataclass

import numpy as np

from .compare import Moved, OneOf, compare


@dataclass
class Misconception:
    id: str
    quantities: list
    wrong: str       # a Python expression over the inputs, `expected`, `np`, `ref`, `with_factors`,
                     # and judging.compare's `OneOf` and `Moved` (a set of values that the answer is in)
    says: str        # one or two sentences, in the notes' notation
    file: str = ""   # where it is written, for messages
    line: int = 0


ENTRY_KEYS = ("id", "in", "wrong", "says")


def load_catalogue(path):
    """The assignment's misconceptions.yaml: a list of {id, in, wrong, says}, every entry checked.

    A mistake in it is the course's: a ConfigError that names the file, the entry and its line.
    """
    if not path or not os.path.exists(path):
        return []
    from .. import yamlfile
    from ..config import ConfigError, where_of
    doc = yamlfile.read(path, where_of(path))
    entries = doc.data or []
    if not isinstance(entries, list):
        raise ConfigError(f"{doc.where}: expected a list of entries (- id: ..., in: [...], wrong: ..., says: ...)")
    out = []
    for i, e in enumerate(entries):
        def fail(key, what):
            name = f" ({e.get('id')!r})" if isinstance(e, dict) and isinstance(e.get("id"), str) else ""
            raise ConfigError(f"{doc.at(i, key) if key else doc.at(i)}: entry {i + 1}{name}"
                              + (f", key `{key}`" if key else "") + f": {what}")
        if not isinstance(e, dict):
            fail(None, f"expected a mapping with keys {', '.join(ENTRY_KEYS)}, got {e!r}")
        for key in e:
            if key not in ENTRY_KEYS:
                fail(key, f"unknown key (the keys are {', '.join(ENTRY_KEYS)})")
        for key in ENTRY_KEYS:
            if e.get(key) in (None, "", []):
                fail(key, "is required" + (": what the student reads, in the notes' notation" if key == "says" else ""))
        if not isinstance(e["id"], str):
            fail("id", f"expected a name such as `transposed`, got {e['id']!r}")
        quantities = e["in"] if isinstance(e["in"], list) else [e["in"]]
        if not all(isinstance(q, str) for q in quantities):
            fail("in", f"expected a list of graded quantities (`function`, `Class.method`, "
                       f"`Class.method:quantity`), got {e['in']!r}")
        try:
            compile(str(e["wrong"]), "<misconception>", "eval")
        except SyntaxError:
            try:
                compile(str(e["wrong"]), "<misconception>", "exec")
            except SyntaxError as exc:
                fail("wrong", f"not Python: {exc.msg}")
            if "wrong" not in str(e["wrong"]):
                fail("wrong", "statements must set `wrong` (or write one expression)")
        out.append(Misconception(e["id"], list(quantities), str(e["wrong"]), " ".join(str(e["says"]).split()),
                                 doc.where, doc.line(i) or 0))
    return out


def check_names(catalogue, quantities):
    """Every entry's `in:` names a quantity the graded tests really grade, else a ConfigError naming it."""
    import difflib

    from ..config import ConfigError
    for e in catalogue:
        for q in e.quantities:
            if q not in quantities:
                close = difflib.get_close_matches(q, sorted(quantities), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ConfigError(f"{e.file}, line {e.line}: entry {e.id!r}, key `in`: {q} is not a quantity any "
                                  f"graded test grades{hint}; graded() names them `function`, `Class.method` or "
                                  f"`Class.method:quantity`")


def with_factors(fn, **replacements):
    """fn from the reference, run with some of its module's factor functions replaced.

    The catalogue uses it to compute what a student who got one factor wrong returns:
    `with_factors(ref.backprop, dL_dz=lambda dL_da, da_dz: dL_da)(x, y, Ws, W0s, activations, loss)`.
    """
    module = fn.__globals__

    def run(*args, **kwargs):
        saved = {k: module[k] for k in replacements}
        module.update(replacements)
        try:
            return fn(*args, **kwargs)
        finally:
            module.update(saved)
    return run


def names_for(inputs, expected, reference):
    """What a catalogue's `wrong` can use: the test's inputs by name, `expected` (the judged value), and
    EXTRA_NAMES."""
    return {**inputs, "expected": expected, "np": np, "ref": reference, "with_factors": with_factors,
            "OneOf": OneOf, "Moved": Moved}


EXTRA_NAMES = ("expected", "np", "ref", "with_factors", "OneOf", "Moved")


def evaluate(text, names):
    """A catalogue's `wrong`: an expression, or statements that set `wrong` (staff-written, trusted)."""
    try:
        return eval(compile(text, "<misconception>", "eval"), names)
    except SyntaxError:
        exec(compile(text, "<misconception>", "exec"), names)
        return names["wrong"]


def diagnose(catalogue, quantity, instances, reference, rtol, atol):
    """The misconception that explains every instance and changes at least one answer, if only one does.

    instances: [(inputs, expected, got)]. An entry whose wrong answer equals the right one
    on every instance (a symmetric W makes Wᵀ = W) proves nothing and is not reported; nor is
    anything when two misconceptions explain the example equally well (with b = 2, averaging
    over the batch and dropping the square loss's 2 give the same numbers): another regime
    of the same function tells them apart.
    """
    found = [entry for entry in catalogue if explains(entry, quantity, instances, reference, rtol, atol)]
    return found[0] if len({entry.id for entry in found}) == 1 else None


def explains(entry, quantity, instances, reference, rtol, atol):
    if quantity not in entry.quantities:
        return False
    telling = False
    for inputs, expected, got in instances:
        try:
            wrong = evaluate(entry.wrong, names_for(inputs, expected, reference))
            with np.errstate(all="ignore"):
                if compare(wrong, got, rtol, atol) is not None:
                    return False
                telling = telling or compare(expected, wrong, rtol, atol) is not None
        except Exception:
            return False
    return telling
