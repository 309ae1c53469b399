"""Judging one instance: the student's result against the expected value, and the report of a failure.

`judge` is the one judge: the graded tests (through the grading session's `check`), the
handout's public tests and the handout build's self-check all call it. A failure is a
`FailureReport` (a typed record, built once), carried by the `Failure` exception that
Hypothesis shrinks; `feedback.explain` writes it for the student.
"""
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from . import protocol
from .compare import Mismatch, OneOf, Unreadable, compare, leaves, readback, stacked_close


@dataclass(frozen=True)
class JudgeOptions:
    """How one check judges an answer (the arguments of `check` beside the inputs and the reference).

    output: which of the reference's named outputs is judged (a name, or a tuple of names);
    None when the reference returns the judged value itself.
    requires: outputs the program computes first, named in the feedback when they are wrong too.
    accept: a hook (got, expected) -> got that reads an acceptable variant as the expected form.
    parts: names of the items of a returned tuple, as the contract calls them (("dWs", "dW0s")).
    """
    quantity: str
    rtol: float
    atol: float
    output: object = None
    requires: tuple = ()
    accept: Optional[Callable] = None
    parts: tuple = ()

    @classmethod
    def of(cls, quantity, rtol, atol, output=None, requires=(), accept=None, parts=()):
        """Options from check()'s keyword arguments, normalised (lists become tuples)."""
        return cls(quantity, float(rtol), float(atol),
                   tuple(output) if isinstance(output, (list, tuple)) else output,
                   tuple(requires), accept, tuple(parts))


@dataclass(frozen=True)
class FailureReport:
    """Everything feedback needs to explain one failed instance.

    kind: "error" (the code raised, or could not run), "unreadable" (its value is not
    numbers of the right form) or "mismatch" (a wrong value).
    """
    kind: str
    title: str                  # the regime, as a student reads it
    call: str                   # the call (or program) as a student reads it
    inputs: dict
    headline: str               # one line: what went wrong
    stdout: str = ""
    error: Optional[dict] = None        # kind "error": the worker's description
    output: Optional[str] = None        # kind "unreadable": which output
    expected: object = None             # kind "mismatch": the judged values
    got: object = None
    mismatch: Optional[Mismatch] = None
    quantity: str = ""
    instances: tuple = field(default=(), repr=False)  # [(inputs, expected, got)] of the whole regime
    rtol: Optional[float] = None        # kind "mismatch": the tolerance it was judged with
    atol: Optional[float] = None
    notes: tuple = ()           # steps of try blocks that raised and the program went on from

    def with_instances(self, instances):
        return replace(self, instances=tuple(instances))


class Failure(AssertionError):
    """A wrong, unreadable or crashing answer: the exception Hypothesis shrinks, with its report."""

    def __init__(self, report):
        super().__init__(report.headline or "wrong answer")
        self.report = report


@dataclass(frozen=True)
class Verdict:
    expected: object            # the judged expected value
    got: object                 # the student's value, read back
    failure: Optional[Failure]  # a wrong value, or None


def judge(title, plan, inputs, full, result, options):
    """One instance: the student's `result` of `plan` (a programs.Calls) against the expected `full`.

    Returns a Verdict; raises Failure at once when the code raised or returned something
    unreadable. full is the expected value, or the dict of named outputs from which
    `options.output` picks the judged one(s).
    """
    __tracebackhide__ = True
    error, notes = result.get("error"), carried_on(plan, result)
    raised = result.get("raised") or []
    step = (error or {}).get("step")
    if error and raised and step is not None and step < len(plan.steps) and "get" in plan.steps[step]:
        # reading what a call that raised should have set: that call's exception is the one to fix
        notes = carried_on(plan, {"raised": raised[:-1]}) + (
            f"`{plan.texts[step]}` could not be read after it: {error.get('type') or error.get('kind')}: "
            f"{str(error.get('message', ''))[:300]}.",)
        error = raised[-1]
    if error:
        raise Failure(FailureReport("error", title, failing_step(plan, error), inputs,
                                    error.get("message", ""), result.get("stdout", ""), error=error,
                                    notes=notes))
    output = options.output
    several = isinstance(output, tuple)
    want = picked(full, options)
    outs = dict(zip(plan.outputs, result["outputs"]))

    def read(name, like):
        try:
            return read_output(outs, name, like, options)
        except (Unreadable, KeyError) as exc:
            what = f"`{plan.labels[name]}`" if name in plan.labels else "the returned value"
            raise Failure(FailureReport("unreadable", title, plan.shown, inputs, f"cannot read {what}: {exc}",
                                        result.get("stdout", ""), output=name, notes=notes)) from None

    got = {k: read(k, want[k]) for k in output} if several else read(output or plan.outputs[0], want)
    with np.errstate(all="ignore"):
        judged = [(k, want[k], got[k]) for k in output] if several else [(output, want, got)]
        name, mismatch, shown_want, shown_got = next(
            ((k, m, w, g) for k, w, g in judged for m in [compare(w, g, options.rtol, options.atol)] if m),
            (None,) * 4)
    if not mismatch:
        return Verdict(want, got, None)
    if isinstance(shown_want, OneOf):  # shown against the acceptable value nearest the student's
        shown_want = mismatch.expected
    if plan.labels:
        mismatch = named(mismatch, plan, name or plan.outputs[0],
                         earlier_wrong(outs, full, options.requires, plan, options.rtol, options.atol))
    elif options.parts and mismatch.path.startswith("["):
        first, rest = mismatch.path[1:].split("]", 1)
        mismatch.path = f"{options.parts[int(first)]}{rest}"
    report = FailureReport("mismatch", title, plan.shown, inputs, mismatch.what, result.get("stdout", ""),
                           expected=shown_want, got=shown_got, mismatch=mismatch, quantity=options.quantity,
                           instances=((inputs, want, got),), rtol=options.rtol, atol=options.atol,
                           notes=notes)
    return Verdict(want, got, Failure(report))


def picked(full, options):
    """The expected values a check judges: `full` itself, or its named output(s)."""
    output = options.output
    if output is None:
        return full
    return {k: full[k] for k in output} if isinstance(output, tuple) else full[output]


def read_output(outs, name, like, options):
    """One output of the student's, read back like the expected value (and through the accept hook)."""
    got = readback(outs[name], like)
    return options.accept(got, like) if options.accept else got


def all_right(plan_outputs, expected, results, options):
    """Whether every instance of one check is right, judged together: True only where `judge` would pass
    each one; False where it might not (then judge each: it decides, and says why).

    The same arithmetic as `compare`, on the instances stacked (they share their regime's shapes):
    one pass over numpy per output instead of one per instance."""
    pairs = []
    for full, result in zip(expected, results):
        if result.get("error") or result.get("raised"):
            return False
        want, outs = picked(full, options), dict(zip(plan_outputs, result["outputs"]))
        names = options.output if isinstance(options.output, tuple) else [options.output or plan_outputs[0]]
        try:
            got = {k: read_output(outs, k, want[k], options) for k in names} if isinstance(options.output, tuple) \
                else read_output(outs, names[0], want, options)
        except (Unreadable, KeyError):
            return False
        found = []
        if not leaves(want, got, found):
            return False
        pairs.append(found)
    with np.errstate(all="ignore"):
        return all(stacked_close([p[j] for p in pairs], options.rtol, options.atol) for j in range(len(pairs[0])))


def find_failure(exc, depth=0):
    """Our Failure inside whatever Hypothesis raised (itself, a cause, or a flaky group)."""
    if exc is None or depth > 6:
        return None
    if isinstance(exc, Failure):
        return exc
    for inner in list(getattr(exc, "exceptions", ())) + [exc.__cause__, exc.__context__]:
        found = find_failure(inner, depth + 1)
        if found:
            return found
    return None


def named(mismatch, plan, name, note):
    """A program's mismatch, as the student reads it: which output (`lin.dLdW`), and what it depends on."""
    label = plan.labels.get(name, name)
    what = f"`{label}{mismatch.path}`"
    if list(plan.labels.values()).count(label) > 1:  # read more than once (lin.W after each of several calls)
        what += f" (read as `{name}`)"
    what += f": {mismatch.what}"
    if note:
        label, earlier = note
        what += (f". Note: `{label}`, which this test runs first on the same inputs, is wrong too "
                 f"({earlier}); this result may be wrong only because of it, so fix that step first")
    return Mismatch("", what, mismatch.expected, mismatch.got)


def earlier_wrong(outs, expected, requires, plan, rtol, atol):
    """(label, what is wrong) for the first required output that is wrong, else None (one that raised
    in a try block is not: the note on what raised says it)."""
    for name in requires:
        if protocol.is_not_computed(outs.get(name)):
            continue
        try:
            got = readback(outs[name], expected[name])
        except (Unreadable, KeyError) as exc:
            return plan.labels.get(name, name), f"it cannot be read: {exc}"
        with np.errstate(all="ignore"):
            m = compare(expected[name], got, rtol, atol)
        if m:
            return plan.labels.get(name, name), m.what
    return None


def carried_on(plan, result):
    """What the student reads about each step of a try block that raised, the program going on after it."""
    notes = []
    for r in result.get("raised", ()):
        step = r.get("step")
        if not plan.texts or step is None or step >= len(plan.steps):
            continue
        message = str(r.get("message", ""))[:300]
        what = f"`{plan.texts[step]}` raised {r.get('type') or r.get('kind')}: {message}".rstrip(": ")
        group = plan.steps[step].get("try")
        recovery = [plan.texts[j] for j, st in enumerate(plan.steps) if "except" in st and st["except"] == group]
        if recovery:
            notes.append(f"{what}. The grader then set what the contract says `{plan.texts[step].split('(')[0]}` "
                         f"keeps (`{'; '.join(recovery)}`) and went on: what follows was checked on that "
                         f"stored state.")
        else:
            notes.append(f"{what}. The grader went on, so what it had set before it raised was still checked.")
    return tuple(notes)


def one_line(shown):
    """A program on one line, `; `-separated (a try block as `try: ...; except Exception: ...`)."""
    return re.sub(r":\n\s+", ": ", shown).replace("\n", "; ")


def failing_step(plan, error):
    """How to show a program that raised: `the step (step k of: the program)`, on one line."""
    whole = one_line(plan.shown)  # error messages show it inline: one line
    step = error.get("step")
    if not plan.texts or step is None or len(plan.steps) < 2:
        return whole if plan.texts else plan.shown
    return f"{plan.texts[step]} (step {step + 1} of: {whole})"


def squeezed(got, expected):
    """An `accept` hook (JudgeOptions.accept): an array whose shape differs from the expected one only by
    axes of length 1 (a (1, b) row where a flat (b,) array is expected) is read as the expected shape."""
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape != expected.shape \
            and got.size == expected.size \
            and [d for d in got.shape if d != 1] == [d for d in expected.shape if d != 1]:
        return got.reshape(expected.shape)
    return got




ACCEPT_HOOKS = {"squeezed": squeezed}  # accept hooks by name: what a stored case (cases.json, the record) names
