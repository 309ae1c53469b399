"""What graded tests import: `graded` to label a test, `check` to run one regime through the student's code.

A graded test is a Hypothesis property over regimes (see `strategies`). For each regime,
`check` builds k instances, asks the worker to run the student's code on all of them in
one round trip, compares every answer with the reference, and raises `Failure` with
everything needed to explain the first wrong one. The plugin turns the Failure that
Hypothesis shrank into the student's feedback.
"""
import time

from gradescope_utils.autograder_utils.decorators import tags

from .calls import Failure, function, judge, program, squeezed  # noqa: F401 (what graded tests import)
from .feedback import FACTORS
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


def check(case, build, calls, expected, quantity=None, output=None, requires=(), accept=None, parts=()):
    """Runs one regime: k instances of build(draw, case), the student's `calls`, the reference `expected`.

    calls: a function name (the student's module function, called with the inputs in order)
    or a builder inputs -> Calls (e.g. `program(...)`). expected: the reference, called with
    the inputs by name; it returns the expected value (or a dict of named outputs, with
    `output` naming the one this test judges, or a list of them). `requires`, `accept` and
    `parts`: see `calls.judge`.
    """
    s = session()
    build_calls = function(calls) if isinstance(calls, str) else calls
    quantity = quantity or s.current["quantity"]
    inputs = case.instances(build, s.config.instances)
    plans = [build_calls(i) for i in inputs]
    results = s.run([p.steps for p in plans])
    title = case.describe()
    verdicts = [judge(title, plan, i, None if r.get("error") else expected(**i), r, quantity,
                      s.config.rtol, s.config.atol, output, requires, accept, parts)
                for i, plan, r in zip(inputs, plans, results)]
    failure = next((f for _, _, f in verdicts if f), None)
    if failure:  # diagnosis looks at every instance of the regime, not only the first wrong one
        failure.report["instances"] = [(i, want, got) for i, (want, got, _) in zip(inputs, verdicts)]
        raise failure


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
