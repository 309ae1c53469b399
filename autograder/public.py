"""The public tests' runtime: what a student's public tests use to call their code and judge it.

What public tests import, as graded tests import `testing`. The handout ships this file as
tests/support/public.py, beside copies, made when the handout is built, of the engine's
modules it uses (judging/, sandbox/runner.py, strategies.py), in the engine's own layout.
It needs numpy, pytest and Hypothesis, nothing else. Student code runs in the test process
(a student runs their own code), but through the worker's own `Runner`, and every verdict
and message comes from the one judge and feedback module: a failed public test reads as
the Gradescope test of the same name reads.

A public test judges one quantity against an expected value it can compute without a
solution, from the definition of what that quantity is the derivative of:

    @public("link_term — W^ℓ with m ≠ n")
    @given(case(m=dims(), n=dims()).filter(rectangular))
    def test_link_term_rectangular(c):
        check(c, W_inputs, "link_term", link_term_by_differences, how="...")

and, once its own checks pass, the test's fixed cases: inputs with expected values that the
course's solution computed when the handout was built (support/cases.json).
"""
import contextlib
import json
import os
import sys

import numpy as np

from .judging import feedback, protocol
from .judging.feedback import first_line  # noqa: F401 (for conftest.py)
from .judging.judge import ACCEPT_HOOKS, Failure, JudgeOptions, find_failure, judge  # noqa: F401 (for conftest.py)
from .judging.programs import Calls, function
from .sandbox.runner import BoundedText, Runner, hit_a_wall

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # the handout folder: tests/support/public.py
H = 1e-6  # the step of the central differences (float64 throughout)


def _load_data():
    path = os.path.join(HERE, "cases.json")
    if not os.path.exists(path):  # the engine's own copy, outside a handout
        return {"tests": {}, "hidden": [], "settings": {}}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


DATA = _load_data()
SETTINGS = {"rtol": 1e-4, "atol": 1e-6, "examples": 10, "instances": 3, "call_seconds": 2.0,
            "import_seconds": 10.0, "output_bytes": 4096, "forbidden_imports": [], **DATA["settings"]}
TESTS = DATA["tests"]   # test function name -> {name, quantity, factor, regime, points, [rtol, atol,] cases}
current = {}            # the running test's entry of TESTS (set by conftest.py)


def public(name):
    """Marks a public test with the name of the visible Gradescope test it stands for."""
    def mark(test):
        entry = TESTS.get(test.__name__)
        if TESTS and entry is None:
            raise LookupError(f"{test.__name__} is not a visible test of this assignment")
        if entry is not None and entry["name"] != name:
            raise LookupError(f"{test.__name__} is named {entry['name']!r} on Gradescope, not {name!r}")
        test.__public__ = name
        return test
    return mark


# ---- the student's module, run as the grader's worker runs it ------------------------

_student = {}


def student_file():
    return os.path.join(ROOT, DATA.get("student_file", "student.py"))


@contextlib.contextmanager
def _under_the_workers_rules(runner, out):
    """Student code runs as in the worker: its output kept, its time limited, a course's banned imports refused."""
    runner.timer.install()
    sys.meta_path.insert(0, runner.forbid)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield
    finally:
        sys.meta_path.remove(runner.forbid)
        runner.timer.uninstall()


def student():
    """The Runner of the student's module (imported once); its import_error says why it could not be imported."""
    if "runner" not in _student:
        path = student_file()
        name = os.path.splitext(os.path.basename(path))[0]
        runner = Runner(path, name, SETTINGS, hidden=os.path.join(ROOT, "tests"), passes=(KeyboardInterrupt,))
        out = BoundedText(SETTINGS["output_bytes"])
        if not os.path.isfile(path):
            runner.import_error = {"kind": "missing", "message": f"There is no {os.path.basename(path)} in {ROOT}: "
                                                                 f"the public tests test the file beside the tests folder"}
        else:
            if ROOT not in sys.path:
                sys.path.append(ROOT)  # the student's own helper modules, behind the real numpy
            with _under_the_workers_rules(runner, out):
                runner.load()
        _student.update(runner=runner, stdout=out.take())
    return _student["runner"]


def run(steps):
    """One program of steps (the worker's format) on the student's module: {"outputs", "stdout"} or {"error"}."""
    runner = student()
    if runner.import_error:
        return {"error": {**runner.import_error, "during_import": True}, "stdout": _student["stdout"]}
    if current.get("stopped"):  # as on Gradescope: after a test hits a limit, its later calls fail at once
        return {"error": current["stopped"], "stdout": ""}
    out = BoundedText(SETTINGS["output_bytes"])
    with _under_the_workers_rules(runner, out):
        result = runner.run(steps, out)
    if hit_a_wall(result):
        current["stopped"] = result["error"]
    return result


# ---- calls and judging, as the graded tests' `check` does them ----------------------------

def options(quantity, output=None, requires=(), accept=None, parts=(), rtol=None, atol=None):
    """JudgeOptions with the running test's tolerance (its own where it has one, as on Gradescope)."""
    return JudgeOptions.of(quantity or current.get("quantity", ""),
                           current.get("rtol", SETTINGS["rtol"]) if rtol is None else rtol,
                           current.get("atol", SETTINGS["atol"]) if atol is None else atol,
                           output, requires, accept, parts)


def check(case, build, calls_, expected, how, quantity=None, output=None, requires=(), accept=None, parts=(),
          rtol=None, atol=None):
    """Like the graded tests' check, with `expected` computed from a definition, not a solution.

    case: a regime from support.strategies; build(draw, case) -> the inputs by name;
    calls_: the student function's name, or a builder inputs -> Calls (e.g. `program(...)`);
    expected(**inputs): the expected value, or a dict of named outputs that `output` picks
    from (one name, or a list of names), as in the graded tests; `requires`, `accept`, `parts` too;
    how: a few words on where the expected value comes from, shown with a failure; rtol, atol:
    this check's tolerance (by default the test's, as on Gradescope).
    """
    __tracebackhide__ = True  # a failure's traceback is not what a student reads: its message is
    build_calls = function(calls_) if isinstance(calls_, str) else calls_
    judging = options(quantity, output, requires, accept, parts, rtol, atol)
    title = f"{case.describe()}; expected: {how}"
    for inputs in case.instances(build, int(SETTINGS["instances"])):
        plan = build_calls(inputs)
        result = run(plan.steps)
        full = None if result.get("error") else expected(**inputs)  # no answer: no expected value needed
        failure = judge(title, plan, inputs, full, result, judging).failure
        if failure:
            raise failure


# ---- fixed cases: expected values the course's solution computed at build time ----------

def plan_of(case):
    """A stored fixed case's Calls."""
    return Calls(steps=case["steps"], shown=case["call"], outputs=case["outputs"],
                 **{k: case[k] for k in ("labels", "texts") if case.get(k)})


def options_of(case, quantity):
    """A stored fixed case's JudgeOptions."""
    return options(case.get("quantity") or quantity, case.get("output"), case.get("requires", ()),
                   ACCEPT_HOOKS[case["accept"]] if case.get("accept") else None, case.get("parts", ()),
                   case.get("rtol"), case.get("atol"))


def fixed_cases(test_name):
    """Runs the stored fixed cases of one public test; raises Failure at the first wrong one."""
    __tracebackhide__ = True
    entry = TESTS.get(test_name, {})
    for c in entry.get("cases", []):
        plan = plan_of(c)
        title = f"{c['title']}; expected: computed by the course's solution (a fixed case)"
        failure = judge(title, plan, protocol.untag(c["inputs"]), protocol.untag(c["expected"]), run(plan.steps),
                        options_of(c, entry["quantity"])).failure
        if failure:
            raise failure


# ---- what a failure reads like: feedback.explain, as on Gradescope ----------------------

def explain(failure, entry):
    """The markdown Gradescope shows for this failure, from the same feedback module."""
    return feedback.explain(failure.report, entry.get("quantity", ""), entry.get("factor", ""),
                            student_file=DATA.get("student_file", ""),
                            show_output=SETTINGS.get("show_student_output", True), factors=DATA.get("factors"))


# ---- central differences (CS231n's gradient check) --------------------------------------

def gradient(f, x, h=H):
    """∂f/∂x by central differences: f() is a number, x an array that f reads (changed in place, then restored)."""
    g = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = float(f())
        x[idx] = old - h
        down = float(f())
        x[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


def jacobian(f, x, h=H):
    """J[i, j] = ∂f_i/∂x_j by central differences, over f()'s and x's entries in order."""
    columns = []
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = np.array(f(), dtype=np.float64).ravel()
        x[idx] = old - h
        down = np.array(f(), dtype=np.float64).ravel()
        x[idx] = old
        columns.append((up - down) / (2 * h))
    return np.column_stack(columns)


def derivative(f, z, h=H):
    """The derivative of an elementwise f at every entry of z: (f(z + h) − f(z − h)) / 2h."""
    return (f(z + h) - f(z - h)) / (2 * h)


def point(*shape, seed=0):
    """Some fixed numbers of a shape, for where a derivative does not depend on the point."""
    return np.round(np.random.default_rng([seed, *shape]).uniform(-1, 1, size=shape), 2) + 0.005
