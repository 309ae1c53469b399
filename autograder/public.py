"""The public tests' runtime: what a student's public tests use to call their code and judge it.

The handout ships this file as tests/support/public.py, beside copies of the engine's
calls.py, feedback.py, strategies.py and worker.py, made when the handout is built. It needs numpy, pytest and Hypothesis, nothing else. Student code runs in the test process (a student
runs their own code), but through the worker's own `run_program`, `plain` and `describe`, and
every verdict and message comes from feedback.py: a failed public test reads as the Gradescope
test of the same name reads.

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
import importlib.util
import json
import os
import signal
import sys
import threading
import traceback
import types
import numpy as np

from . import calls, feedback, worker  # in the handout: the package `support`, copies of the engine's
from .calls import Failure, find_failure, judge  # noqa: F401 (Failure and find_failure: for conftest.py)

if getattr(worker, "np", np) is None:  # the worker imports numpy in its main(), which never runs here
    worker.np = np

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
TESTS = DATA["tests"]   # test function name -> {name, quantity, factor, regime, points, cases}
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


def _module_name():
    return os.path.splitext(DATA.get("student_file", "student.py"))[0]


def student_file():
    return os.path.join(ROOT, DATA.get("student_file", "student.py"))


@contextlib.contextmanager
def _as_the_worker(out):
    """Student code runs under the worker's rules: its output kept, its time limited, a course's banned imports refused."""
    forbid = worker.Forbid(SETTINGS["forbidden_imports"])
    timer = (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
             and threading.current_thread() is threading.main_thread())
    if not timer:  # Windows (or not the main thread): no interval timer, so no time limit either
        worker.signal = types.SimpleNamespace(setitimer=lambda *args: None, ITIMER_REAL=0)
    old = signal.signal(signal.SIGALRM, worker.on_alarm) if timer else None
    sys.meta_path.insert(0, forbid)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield
    finally:
        sys.meta_path.remove(forbid)
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        else:
            worker.signal = signal


def _describe(exc, seconds):
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    error = worker.describe(exc, ROOT, {**SETTINGS, "call_seconds": seconds,
                                        "memory_mb": SETTINGS.get("memory_mb", 512)})
    if "traceback" in error:  # the student's own frames: not this runtime's, not the tests'
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if os.path.abspath(f.filename).startswith(ROOT)
                  and not os.path.abspath(f.filename).startswith(os.path.join(ROOT, "tests") + os.sep)]
        error["traceback"] = "\n".join(
            f'  File "{os.path.basename(f.filename)}", line {f.lineno}, in {f.name}\n    {f.line}'
            for f in frames[-5:])
    return error


def student():
    """The student's module (imported once), or a Failure that says why it cannot be imported."""
    if "module" not in _student:
        out = worker.BoundedText(SETTINGS["output_bytes"])
        path = student_file()
        if not os.path.isfile(path):
            _student.update(module=None, stdout="", error={
                "kind": "missing", "message": f"There is no {os.path.basename(path)} in {ROOT}: "
                                              f"the public tests test the file beside the tests folder"})
            return None
        try:
            if ROOT not in sys.path:
                sys.path.append(ROOT)  # the student's own helper modules, behind the real numpy
            with _as_the_worker(out):
                worker.signal.setitimer(worker.signal.ITIMER_REAL, SETTINGS["import_seconds"])
                try:
                    spec = importlib.util.spec_from_file_location(_module_name(), path)
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[_module_name()] = module
                    spec.loader.exec_module(module)
                finally:
                    worker.signal.setitimer(worker.signal.ITIMER_REAL, 0)
            _student.update(module=module, error=None)
        except BaseException as exc:  # a student's import may raise anything, even SystemExit
            _student.update(module=None, error=_describe(exc, SETTINGS["import_seconds"]))
        _student["stdout"] = out.take()
    return _student["module"]


def run(steps):
    """One program of steps (the worker's format) on the student's module: {"outputs", "stdout"} or {"error"}."""
    module = student()
    if module is None:
        return {"error": {**_student["error"], "during_import": True}, "stdout": _student["stdout"]}
    if current.get("stopped"):  # as on Gradescope: after a test hits a limit, its later calls fail at once
        return {"error": current["stopped"], "stdout": ""}
    out = worker.BoundedText(SETTINGS["output_bytes"])
    try:
        with _as_the_worker(out):
            outputs = worker.run_program(module, steps, SETTINGS, ROOT)
        return {"outputs": outputs, "stdout": out.take()}
    except BaseException as exc:
        failed = getattr(worker, "StepFailed", ())  # as the worker's main loop: which step raised, and what
        step = exc.index if failed and isinstance(exc, failed) else None
        error = {**_describe(exc.exc if step is not None else exc, SETTINGS["call_seconds"]), "step": step}
        if error.get("kind") in ("timeout", "memory"):
            current["stopped"] = error
        return {"error": error, "stdout": out.take()}


# ---- calls and judging, as the graded tests' `check` does them ----------------------------

def check(case, build, calls_, expected, how, quantity=None, output=None, requires=(), accept=None, parts=()):
    """Like the graded tests' check, with `expected` computed from a definition, not a solution.

    case: a regime from support.strategies; build(draw, case) -> the inputs by name;
    calls_: the student function's name, or a builder inputs -> Calls (e.g. `program(...)`);
    expected(**inputs): the expected value, or a dict of named outputs that `output` picks
    from (one name, or a list of names), as in the graded tests; `requires`, `accept`, `parts` too;
    how: a few words on where the expected value comes from, shown with a failure.
    """
    __tracebackhide__ = True  # a failure's traceback is not what a student reads: its message is
    build_calls = calls.function(calls_) if isinstance(calls_, str) else calls_
    quantity = quantity or current.get("quantity", "")
    title = f"{case.describe()}; expected: {how}"
    for inputs in case.instances(build, int(SETTINGS["instances"])):
        plan = build_calls(inputs)
        result = run(plan.steps)
        full = None if result.get("error") else expected(**inputs)  # no answer: no expected value needed
        _, _, failure = judge(title, plan, inputs, full, result, quantity, SETTINGS["rtol"], SETTINGS["atol"],
                              output, requires, accept, parts)
        if failure:
            raise failure


# ---- fixed cases: expected values the course's solution computed at build time ----------

def decode(value):
    """cases.json's tagged values back as arrays, tuples, lists, dicts and numbers."""
    if isinstance(value, dict):
        if "array" in value:
            shape, flat = value["array"]
            return np.array(flat, dtype=np.float64).reshape(shape)
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        if "list" in value:
            return [decode(v) for v in value["list"]]
        if "dict" in value:
            return {k: decode(v) for k, v in value["dict"].items()}
    return value


def fixed_cases(test_name):
    """Runs the stored fixed cases of one public test; raises Failure at the first wrong one."""
    __tracebackhide__ = True
    entry = TESTS.get(test_name, {})
    for c in entry.get("cases", []):
        plan = calls.Calls(steps=c["steps"], shown=c["call"], outputs=c["outputs"],
                           **{k: c[k] for k in ("labels", "texts") if c.get(k)})
        title = f"{c['title']}; expected: computed by the course's solution (a fixed case)"
        _, _, failure = judge(title, plan, decode(c["inputs"]), decode(c["expected"]), run(plan.steps),
                              c.get("quantity") or entry["quantity"], SETTINGS["rtol"], SETTINGS["atol"],
                              c.get("output"), c.get("requires", ()),
                              ACCEPT[c["accept"]] if c.get("accept") else None, c.get("parts", ()))
        if failure:
            raise failure


ACCEPT = {"squeezed": calls.squeezed}  # the graded tests' `accept` hooks, by name


# ---- what a failure reads like: feedback.explain, as on Gradescope ----------------------

def explain(failure, entry):
    """The markdown Gradescope shows for this failure, from the same feedback module."""
    settings = types.SimpleNamespace(student_file=DATA.get("student_file", ""),
                                     show_student_output=SETTINGS.get("show_student_output", True),
                                     rtol=SETTINGS["rtol"], atol=SETTINGS["atol"])
    info = {"quantity": entry.get("quantity", ""), "factor": entry.get("factor", "")}
    text, _ = feedback.explain(failure.report, info, [], None, settings)
    return text


def first_line(text):
    """The line a summary shows: the first one after the heading, without markdown's stars."""
    return next((line for line in text.splitlines()
                 if line.strip() and not line.startswith("This test checks")), "").replace("**", "")


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
