"""What graded tests import: `graded` to label a test, `check` to run one regime through the student's code.

A graded test is a Hypothesis property over regimes (see `strategies`). For each regime,
`check` hands the session that runs the test a `Check`: the regime, how to build k
instances, the student's calls, the reference and how to judge. The grading session
(`session.GradingSession`) runs it in the worker and judges every answer; the handout
build's session records it instead. The plugin puts the session in the slot for the
length of each test call (`using`).
"""
import contextlib
import contextvars
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

from gradescope_utils.autograder_utils.decorators import tags

from .judging.judge import Failure, squeezed  # noqa: F401 (what graded tests import)
from .judging.programs import function, program  # noqa: F401 (what graded tests import)

_slot = contextvars.ContextVar("autograder_session")  # the session running the current test call


@dataclass(frozen=True)
class Graded:
    """What a graded test grades: the student's quantity, the factor of the chain, the regime.

    rtol, atol: the test's own tolerance (None: assignment.yaml's); where: the file and line of
    its graded(), for messages about it (collect.py checks the factor kind against the assignment's).
    """
    quantity: str
    factor: str
    regime: str
    rtol: Optional[float] = None
    atol: Optional[float] = None
    where: tuple = field(default=("", 0), compare=False)
    optional: bool = False  # run only when assignment.yaml's `optional_tests` names it

    def name(self):
        """The test's name on Gradescope: `link_term — W^ℓ with m ≠ n`."""
        return f"{self.quantity} — {self.regime}" if self.regime else self.quantity


def graded_info(test, function_name):
    """The Graded label of a test function (an unlabelled one grades its own name)."""
    return getattr(test, "__graded__", None) or Graded(function_name, "", "")


def graded(quantity, factor, regime, *, rtol=None, atol=None, optional=False):
    """Labels a graded test: which student quantity it calls, which factor of the chain, which regime.

    quantity: `function`, `Class.method` or `Class.method:quantity` (the one naming scheme of
    misconceptions.yaml's `in:` and the corpus's `breaks:`); factor: a built-in kind or one
    declared in assignment.yaml's `factors:`, checked when the tests are collected (collect.py);
    rtol, atol: this test's tolerance, over assignment.yaml's. The tags name the function (or
    Class.method[:quantity]) and the factor's kind; points, visibility and numbers come from
    assignment.yaml, applied by the plugin. An optional test (one that only some courses want,
    such as exact values at a seed) runs only where assignment.yaml's `optional_tests` names it.
    """
    caller = sys._getframe(1)
    where = (caller.f_code.co_filename, caller.f_lineno)

    def label(test):
        test = tags(quantity.split(":")[0], factor, *([quantity] if ":" in quantity else []))(test)
        test.__graded__ = Graded(quantity, factor, regime, rtol, atol, where, optional)
        return test
    return label


@dataclass(frozen=True)
class Check:
    """One regime of a graded test, as `check` was called.

    build(draw, case) -> the inputs by name; calls: inputs -> programs.Calls; expected: the
    reference, called with the inputs by name; options: check()'s judging keywords
    (quantity, output, requires, accept, parts, rtol, atol), completed by the session.
    """
    case: object
    build: Callable
    calls: Callable
    expected: Callable
    options: dict


def check(case, build, calls, expected, quantity=None, output=None, requires=(), accept=None, parts=(),
          rtol=None, atol=None):
    """Runs one regime: k instances of build(draw, case), the student's `calls`, the reference `expected`.

    calls: a function name (the student's module function, called with the inputs in order)
    or a builder inputs -> Calls (e.g. `program(...)`). expected: the reference, called with
    the inputs by name; it returns the expected value (or a dict of named outputs, with
    `output` naming the one this test judges, or a list of them). `requires`, `accept` and
    `parts`: see `judging.judge.JudgeOptions`. rtol, atol: this check's tolerance, over the
    test's (graded()) and assignment.yaml's.
    """
    __tracebackhide__ = True
    options = dict(quantity=quantity, output=output, requires=requires, accept=accept, parts=parts)
    if rtol is not None or atol is not None:
        options.update(rtol=rtol, atol=atol)
    current().check(Check(case, build, function(calls) if isinstance(calls, str) else calls, expected, options))


def current():
    try:
        return _slot.get()
    except LookupError:
        raise RuntimeError("graded tests run only under the autograder's plugin "
                           "(python -m autograder grade)") from None


@contextlib.contextmanager
def using(session):
    """Puts `session` in the slot that `check` reads, for the length of the block."""
    token = _slot.set(session)
    try:
        yield session
    finally:
        _slot.reset(token)
