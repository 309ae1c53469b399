"""Every misconception, tried on the graded tests' real instances before any student meets it.

    problems(a, tests, catalogue)   [(where, what)]: an entry whose `wrong` raises on every instance of
                                    a quantity it names, or that equals the right answer on all of them
                                    (then it could never be named: diagnose needs a changed answer)

The instances are those grading draws (the recorded regimes, every instance), the expected
values the reference's, and `wrong` is evaluated exactly as diagnose evaluates it: with the
test's inputs by name, `expected` (the judged value), `np`, `ref`, `with_factors`, `OneOf` and `Moved`
(diagnose.names_for).
"""
import numpy as np

from ..judging.compare import compare
from ..judging.diagnose import EXTRA_NAMES, evaluate, names_for
from ..record import recorded_examples


def judged(full, output):
    """The expected value the judge compares (and `wrong` sees as `expected`)."""
    if output is None:
        return full
    if isinstance(output, (list, tuple)):
        return {k: full[k] for k in output}
    return full[output]


def instances(a, tests, wanted):
    """{quantity: [(inputs, expected, (rtol, atol))]} over the graded tests' recorded regimes."""
    found = {}
    with a.importable():
        for t in tests:
            for example in recorded_examples(t.test, a.examples, a.seed):
                for c in example:
                    quantity = c.options.get("quantity") or t.quantity
                    if quantity not in wanted:
                        continue
                    tolerance = t.tolerance(a, c.options)
                    for inputs in c.case.instances(c.build, a.instances):
                        found.setdefault(quantity, []).append(
                            (inputs, judged(c.expected(**inputs), c.options.get("output")), tolerance))
    return found


def problems(a, tests, catalogue):
    if not catalogue:
        return []
    reference = a.load_reference()
    seen = instances(a, tests, {q for e in catalogue for q in e.quantities})
    out = []
    for e in catalogue:
        for q in e.quantities:
            ran, changed, first_error = 0, 0, None
            for inputs, expected, (rtol, atol) in seen.get(q, []):
                try:
                    wrong = evaluate(e.wrong, names_for(inputs, expected, reference))
                    with np.errstate(all="ignore"):
                        differs = compare(expected, wrong, rtol, atol) is not None
                except Exception as exc:
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                    continue
                ran += 1
                changed += differs
            where = f"{e.file}, line {e.line}"
            if not ran:
                names = ", ".join(list(seen[q][0][0]) + list(EXTRA_NAMES)) if seen.get(q) else ""
                out.append((where, f"entry {e.id!r} ({q}): `wrong` fails on every instance of {q}'s tests: "
                                   f"{first_error}" + (f"; the names it can use there: {names}" if names else "")))
            elif not changed:
                out.append((where, f"entry {e.id!r} ({q}): `wrong` equals the right answer on every one of "
                                   f"{ran} instances of {q}'s tests, so it can never be named: a misconception is "
                                   f"named only when it changes the answer"))
    return out
