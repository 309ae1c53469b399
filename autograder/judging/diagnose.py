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


def load_catalogue(path):
    """The assignment's misconceptions.yaml: a list of {id, in, wrong, says}."""
    if not path or not os.path.exists(path):
        return []
    from ..config import read_yaml

    with open(path, encoding="utf-8") as f:
        entries = read_yaml(f) or []
    return [Misconception(e["id"], list(e["in"]), str(e["wrong"]), " ".join(str(e["says"]).split()))
            for e in entries]


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
        names = {**inputs, "expected": expected, "np": np, "ref": reference, "with_factors": with_factors,
                 "OneOf": OneOf, "Moved": Moved}
        try:
            wrong = evaluate(entry.wrong, names)
            with np.errstate(all="ignore"):
                if compare(wrong, got, rtol, atol) is not None:
                    return False
                telling = telling or compare(expected, wrong, rtol, atol) is not None
        except Exception:
            return False
    return telling
