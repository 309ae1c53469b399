"""One submission under grading: its worker, its time budget, and what earlier calls taught us.

The plugin puts a GradingSession in the slot `testing.check` reads, for each graded
test's call. Its `check` builds a regime's instances, runs them all in the worker in one
round trip, judges every answer with the one judge, and raises the first failure with
every instance of the regime (diagnosis looks at them all).
"""
import json
import threading
import time
from dataclasses import dataclass

from . import timing
from .judging.judge import Failure, JudgeOptions, all_right, judge
from .sandbox.boundary import MachineError, WorkerError


@dataclass(frozen=True)
class Batch:
    """Programs for one round trip: their JSON text (a record keeps it ready), their number, their steps."""
    text: str
    count: int
    steps: int

    @classmethod
    def of(cls, programs):
        return cls(json.dumps(programs), len(programs), sum(len(p) for p in programs))


@dataclass(frozen=True)
class Prepared:
    """A check ready for the worker: its instances' inputs, the student's calls, their batch."""
    check: object        # testing.Check
    options: JudgeOptions
    inputs: list
    plans: list
    batch: Batch


class GradingSession:
    def __init__(self, config, worker):
        self.config, self.worker = config, worker
        self.started = time.monotonic()
        self.test_id, self.current = None, None  # the running test, and its testing.Graded label
        self.tolerance = (config.rtol, config.atol)  # the running test's (collect.tolerance)
        self.import_report = None
        self.machine_error = None  # student code cannot run on this machine: nothing can be graded
        self.starting = threading.Lock()  # the worker starts once, early (start_early) or at the first call
        self.stopped = {}  # test id -> the limit it hit: its later examples fail at once
        self.walk = None  # shrinks.Walk: the running test's checks written down, while Hypothesis runs it
        self.walks = []   # every Walk of this grading, in order

    def begin(self, test_id, graded_info, tolerance=None, walk=None):
        """The test that runs next; `walk` (a shrinks.Walk) writes down each of its checks."""
        self.test_id, self.current = test_id, graded_info
        self.walk = walk
        if walk is not None:
            self.walks.append(walk)
        self.tolerance = tolerance or (self.config.rtol, self.config.atol)

    def options(self, given):
        """check()'s keywords as JudgeOptions, with the test's tolerance (check()'s own over it) and quantity."""
        given = dict(given)
        quantity = given.pop("quantity", None) or (self.current.quantity if self.current else "")
        rtol, atol = given.pop("rtol", None), given.pop("atol", None)
        return JudgeOptions.of(quantity, self.tolerance[0] if rtol is None else rtol,
                               self.tolerance[1] if atol is None else atol, **given)

    def check(self, c):
        __tracebackhide__ = True
        prepared = self.prepare(c)
        with timing.span("check: worker round trip"):
            results = self.run_batch(prepared.batch)
        walk = self.walk
        try:
            self.verdict(prepared, results)
        except Failure:
            if walk is not None:
                walk.saw(c.case, True, results)
            raise
        except Exception:
            if walk is not None:
                walk.broken()
            raise
        if walk is not None:
            walk.saw(c.case, False, results)

    def prepare(self, c):
        """Check `c` ready for the worker: its instances' inputs, the student's calls, the batch."""
        options = self.options(c.options)
        with timing.span("check: draw inputs"):
            inputs = c.case.instances(c.build, self.config.instances)
        with timing.span("check: build calls"):
            plans = [c.calls(i) for i in inputs]
        return Prepared(c, options, inputs, plans, Batch.of([p.steps for p in plans]))

    def verdict(self, prepared, results):
        """Judges the worker's results of a prepared check: returns when every instance is right, else
        raises the first failure with every instance of the regime (diagnosis looks at them all)."""
        __tracebackhide__ = True
        title, values = self.expected(prepared, results)
        if values is None:
            return
        with timing.span("check: reference and judge"):
            verdicts = [judge(title, plan, i, v, r, prepared.options)
                        for i, plan, v, r in zip(prepared.inputs, prepared.plans, values, results)]
        failure = next((v.failure for v in verdicts if v.failure), None)
        if failure:
            raise type(failure)(failure.report.with_instances(
                [(i, v.expected, v.got) for i, v in zip(prepared.inputs, verdicts)]))

    def fails(self, prepared, results):
        """Whether `verdict` would raise, judged only up to the first wrong instance (no report)."""
        title, values = self.expected(prepared, results)
        if values is None:
            return False
        for i, plan, v, r in zip(prepared.inputs, prepared.plans, values, results):
            try:
                if judge(title, plan, i, v, r, prepared.options).failure:
                    return True
            except Failure:
                return True
        return False

    def expected(self, prepared, results):
        """(the regime's title, the reference's value of each instance), or (title, None) when every
        instance is right, judged together (shrinking mostly tries examples that pass)."""
        c, plans = prepared.check, prepared.plans
        title, expected = c.case.describe(), timing.timed("check: reference", c.expected)
        with timing.span("check: reference and judge"):
            values = [None if r.get("error") else expected(**i) for i, r in zip(prepared.inputs, results)]
            if len({tuple(p.outputs) for p in plans}) == 1 and all_right(plans[0].outputs, values, results,
                                                                          prepared.options):
                return title, None
        return title, values

    def run_batch(self, batch):
        """One result per program of `batch`, from one round trip to the worker."""
        return next(self.stream([(self.test_id, batch)]))

    def stream(self, batches):
        """Each (test id, Batch)'s results, in order, from one request to the worker for them all: the
        worker computes a test while its caller judges the one before. A test the worker cannot answer
        (it hit a limit, or died) gets that error; the tests after it are asked again of a new worker."""
        queue = list(batches)
        while queue:
            test_id, batch = queue[0]
            unanswered = self.unanswered(test_id, batch)
            if unanswered is not None:
                queue.pop(0)
                yield unanswered
                continue
            until = self.started + self.config.limits["submission_seconds"] + 1
            done, answers = 0, self.worker.stream([(b.text, b.steps) for _, b in queue], until)
            try:
                for (test_id, batch), results in zip(queue, answers):
                    done += 1
                    yield self.kept(test_id, batch, results)
                    if self.over_budget():
                        break  # the rest are answered as over budget, by no worker
            except WorkerError as exc:
                test_id, batch = queue[done]
                self.stopped[test_id] = {"kind": exc.kind, "message": exc.message}
                done += 1
                yield [{"error": self.stopped[test_id]}] * batch.count
            finally:
                answers.close()  # a stream left before its end kills the worker
            queue = queue[done:]

    def unanswered(self, test_id, batch):
        """The results of a batch that the worker is not asked: a limit hit before, the budget, the import."""
        limit_hit = self.stopped.get(test_id)
        if limit_hit:
            return [{"error": limit_hit}] * batch.count
        if self.over_budget():
            return [{"error": {"kind": "budget", "message":
                     f"not run: grading this submission used up its time budget of "
                     f"{self.config.limits['submission_seconds']:g} s"}}] * batch.count
        report = self.ensure_started()
        if report.get("import_error"):
            return [{"error": {**report["import_error"], "during_import": True}}] * batch.count
        return None

    def over_budget(self):
        return time.monotonic() - self.started > self.config.limits["submission_seconds"]

    def kept(self, test_id, batch, results):
        """A batch's results as the worker sent them, the limits they hit remembered for the test's later calls."""
        for r in results:
            if r.get("error", {}).get("kind") in ("timeout", "memory"):
                self.stopped[test_id] = r["error"]
        missing = [{"error": {"kind": "skipped", "message": "not run: an earlier call hit a limit"}}]
        return results + missing * (batch.count - len(results))

    def start_early(self):
        """Starts the worker in the background, so its start overlaps what the grader does meanwhile."""
        if self.worker is not None:
            threading.Thread(target=self.ensure_started, daemon=True).start()

    def ensure_started(self):
        with self.starting:
            return self._ensure_started()

    def _ensure_started(self):
        if self.worker is None:  # no student file: import_report says why
            return self.import_report
        if self.import_report is not None and self.worker.proc is not None:
            return self.import_report
        if self.import_report and self.import_report.get("import_error"):
            return self.import_report  # a broken import stays broken: do not pay for it again
        try:
            with timing.span("worker: start (Python, numpy, the student's file)"):
                self.import_report = self.worker.start()
        except WorkerError as exc:
            self.import_report = {"import_error": {"kind": exc.kind, "message": exc.message}}
        except MachineError as exc:
            self.machine_error = exc
            self.import_report = {"import_error": {"kind": "machine", "message": str(exc)}}
        return self.import_report
