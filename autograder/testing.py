"""What graded tests import: `graded` to label a test, `check` to run one regime through the student's code.

A graded test is a Hypothesis property over regimes (see `strategies`). For each regime,
`check` builds k instances, asks the worker to run the student's code on all of them in
one round trip, compares every answer with the reference, and raises `Failure` with
everything needed to explain the first wrong one. The plugin turns the Failure that
Hypothesis shrank into the student's feedback.
"""
import time
from dataclasses import dataclass, field

import numpy as np
from gradescope_utils.autograder_utils.decorators import tags

from . import feedback
from .feedback import FACTORS, Unreadable, compare, readback
from .sandbox import WorkerError

_session = None  # the student being graded; set by the plugin for the length of a pytest session


def session():
    if _session is None:
        raise RuntimeError("graded tests run only under the autograder's plugin (python -m autograder grade)")
    return _session


def graded(quantity, factor, regime):
    """Labels a graded test: which student quantity it calls, which factor of the chain, which regime.

    The tags name the function (or Class.method[:quantity]) and the factor's kind; points,
    visibility and numbers come from assignment.yaml, applied by the plugin.
    """
    if factor not in FACTORS:
        raise ValueError(f"unknown factor kind {factor!r}; one of {sorted(FACTORS)}")

    def label(test):
        test = tags(quantity.split(":")[0], factor, *([quantity] if ":" in quantity else []))(test)
        test.__graded__ = {"quantity": quantity, "factor": factor, "regime": regime}
        return test
    return label


class Failure(AssertionError):
    """A wrong, unreadable or crashing answer, with what feedback needs to explain it."""

    def __init__(self, report):
        super().__init__(report.get("headline", "wrong answer"))
        self.report = report


# ---- what the worker is asked to do ---------------------------------------------

def encode(value):
    """Inputs as plain JSON for the worker: arrays by shape and numbers, nothing callable."""
    if isinstance(value, np.ndarray):
        return {"array": [list(value.shape), value.astype(np.float64).ravel().tolist()]}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


@dataclass
class Calls:
    """Steps for the worker on one instance, and how to show them to a student.

    `function(name)` covers a module function called with the inputs in order; a
    module-style assignment builds its own steps (construct, set, call a method, get).
    """
    steps: list
    shown: str
    outputs: list = field(default_factory=list)  # names of the steps marked "out", in order


def function(name):
    def build(inputs):
        args = ", ".join(inputs)
        return Calls([{"call": name, "args": encode(list(inputs.values())), "out": True}],
                     f"{name}({args})", [name])
    return build


def check(case, build, calls, expected, quantity=None, output=None):
    """Runs one regime: k instances of build(draw, case), the student's `calls`, the reference `expected`.

    calls: a function name (the student's module function, called with the inputs in order)
    or a builder inputs -> Calls. expected: the reference, called with the inputs by name;
    it returns the expected value (or a dict of named outputs, with `output` naming the one
    this test judges).
    """
    s = session()
    calls = function(calls) if isinstance(calls, str) else calls
    quantity = quantity or s.current["quantity"]
    inputs = case.instances(build, s.config.instances)
    plans = [calls(i) for i in inputs]
    wanted = [expected(**i) for i in inputs]
    if output is not None:
        wanted = [w[output] for w in wanted]
    results = s.run([p.steps for p in plans])
    title = case.describe()
    judged = []
    for inp, plan, want, result in zip(inputs, plans, wanted, results):
        error = result.get("error")
        if error:
            raise Failure(dict(kind="error", title=title, call=plan.shown, inputs=inp, error=error,
                               stdout=result.get("stdout", ""), headline=error.get("message", "")))
        outs = dict(zip(plan.outputs, result["outputs"]))
        name = output or plan.outputs[0]
        try:
            got = readback(outs[name], want)
        except (Unreadable, KeyError) as exc:
            raise Failure(dict(kind="unreadable", title=title, call=plan.shown, inputs=inp,
                               headline=f"cannot read the returned value: {exc}", output=name,
                               stdout=result.get("stdout", ""))) from None
        judged.append((inp, want, got, result.get("stdout", "")))
    for inp, want, got, stdout in judged:
        with np.errstate(all="ignore"):
            mismatch = compare(want, got, s.config.rtol, s.config.atol)
        if mismatch:
            usable = [(i, w, g) for i, w, g, _ in judged]
            raise Failure(dict(kind="mismatch", title=title, call=plans[0].shown, inputs=inp,
                               expected=want, got=got, mismatch=mismatch, quantity=quantity,
                               instances=usable, stdout=stdout, headline=mismatch.what))


class Session:
    """One submission under grading: its worker, its budget, and what earlier calls taught us."""

    def __init__(self, config, worker):
        self.config, self.worker = config, worker
        self.started = time.monotonic()
        self.current = {}
        self.import_report = None
        self.stopped = {}  # test id -> the limit it hit: its later examples fail at once

    def begin(self, test_id, graded_info):
        self.test_id, self.current = test_id, graded_info or {}

    def run(self, programs):
        limit_hit = self.stopped.get(self.test_id)
        if limit_hit:
            return [{"error": limit_hit}] * len(programs)
        if time.monotonic() - self.started > self.config.limits["submission_seconds"]:
            return [{"error": {"kind": "budget", "message":
                     f"not run: grading this submission used up its time budget of "
                     f"{self.config.limits['submission_seconds']:g} s"}}] * len(programs)
        report = self.ensure_started()
        if report.get("import_error"):
            return [{"error": {**report["import_error"], "during_import": True}}] * len(programs)
        try:
            results = self.worker.run(programs)
        except WorkerError as exc:
            error = {"kind": exc.kind, "message": exc.message}
            self.stopped[self.test_id] = error
            return [{"error": error}] * len(programs)
        for r in results:
            if r.get("error", {}).get("kind") in ("timeout", "memory"):
                self.stopped[self.test_id] = r["error"]
        missing = [{"error": {"kind": "skipped", "message": "not run: an earlier call hit a limit"}}]
        return results + missing * (len(programs) - len(results))

    def ensure_started(self):
        if self.worker is None:  # no student file: import_report says why
            return self.import_report
        if self.import_report is not None and self.worker.proc is not None:
            return self.import_report
        if self.import_report and self.import_report.get("import_error"):
            return self.import_report  # a broken import stays broken: do not pay for it again
        try:
            self.import_report = self.worker.start()
        except WorkerError as exc:
            self.import_report = {"import_error": {"kind": exc.kind, "message": exc.message}}
        return self.import_report
