"""Hypothesis's shrink of a failing test, written down once and followed again without Hypothesis.

Under the grading settings (the assignment's seed, no database, one bug reported) Hypothesis's
run of a graded test is a function of how each of its checks turns out: given the same passes
and failures it generates the same regimes, tries the same smaller ones, and stops on the same
smallest failure, whatever code gave them. A `Path` is such a run written down, check by check
(the regime, which check of the example, whether it failed), while it happens (`Walk`).

A later submission that fails the same test is judged on every check of a known path, all in
one streamed request to the worker (`follow`). When each check passes or fails as the path
says, Hypothesis would take the very same path on this submission, so the path's last check is
the failure it would report: that check, judged in full, gives the feedback, byte for byte what
pytest and Hypothesis give. When one does not, the path says nothing about this submission and
Hypothesis runs as before; its run becomes one more known path.

Known paths belong to one record (its digest: the tests, strategies and reference) and one
Hypothesis version (another version shrinks differently). They are kept in the user's cache,
one file per path (parallel batch jobs never write the same file), and `build` copies those the
proof found (every corpus mistake's) into autograder.zip (shrinks.json, beside the record, read
only when a test fails), so that a student on Gradescope who makes a mistake the corpus holds is
answered without Hypothesis's engine.

A path is kept only when every check on it turned out for a reason the submission alone decides:
a time or memory limit, the submission's budget or a dead worker depend on the machine, so a run
that met one is never written down.
"""
import hashlib
import json
import os
from dataclasses import dataclass

from . import results, timing
from .judging.judge import Failure

FILE = "shrinks.json"  # in autograder.zip, beside record.json: {"digest", "hypothesis", "paths"}
FORMAT = 1             # of a kept path (the cache's folder names it)
# The errors a submission alone decides: a path on which another error happened is not kept.
DETERMINISTIC = frozenset({"exception", "forbidden-import", "exit", "syntax"})


@dataclass(frozen=True)
class Step:
    case: dict       # the regime (record.case_data)
    check: int       # which of the example's checks, in the order the test calls them
    failed: bool


@dataclass(frozen=True)
class Path:
    """One Hypothesis run of graded test `test` (its function's name), check by check."""
    test: str
    steps: tuple

    def as_json(self):
        return {"test": self.test, "steps": [[s.case, s.check, s.failed] for s in self.steps]}

    @classmethod
    def of(cls, data):
        return cls(data["test"], tuple(Step(case, int(check), bool(failed)) for case, check, failed in data["steps"]))

    @property
    def key(self):
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()[:16]


class Walk:
    """Writes down Hypothesis's run of one test as the grading session judges its checks."""

    def __init__(self, test):
        self.test, self.steps, self.keepable = test, [], True
        self._case, self._index = None, 0

    def saw(self, case, failed, results_):
        from .record import case_data
        data = case_data(case)
        if data is None or not all(deterministic(r) for r in results_):
            self.keepable = False
        self._index = self._index + 1 if case is self._case else 0  # an example's checks share its Case
        self._case = case
        self.steps.append(Step(data, self._index, failed))

    def broken(self):
        """A check raised something other than a failure (the grader's or the course's bug)."""
        self.keepable = False

    def path(self):
        """The Path, or None when it cannot be followed again (Hypothesis's last run must be a failure)."""
        if self.keepable and self.steps and self.steps[-1].failed:
            return Path(self.test, tuple(self.steps))
        return None


def deterministic(result):
    error = result.get("error")
    return not error or error.get("kind") in DETERMINISTIC


# ---- where paths are kept ------------------------------------------------------------------------

def hypothesis_version():
    import hypothesis
    return hypothesis.__version__


def folder(a, digest):
    from .record import cache_path
    return os.path.join(os.path.dirname(cache_path(a, digest)), "shrinks",
                        f"{a.name}-{digest[:16]}-hypothesis-{hypothesis_version()}-v{FORMAT}")


def known(a, digest):
    """{test function: [Path]} for the record made under `digest`, under the installed Hypothesis: the
    zip's own (shrinks.json, written by `build`) first, then the cache's, each in a fixed order."""
    from .record import read
    version, found, seen = hypothesis_version(), {}, set()
    zipped = read(os.path.join(a.folder, FILE)) or {}
    datas = list(zipped.get("paths") or []) if (zipped.get("digest"), zipped.get("hypothesis"), zipped.get(
        "format")) == (digest, version, FORMAT) else []
    where = folder(a, digest)
    try:
        names = sorted(n for n in os.listdir(where) if n.endswith(".json"))
    except OSError:
        names = []
    datas += [read(os.path.join(where, n)) for n in names]  # None: another job writing it, or broken
    for data in datas:
        try:
            path = Path.of(data)
        except (KeyError, TypeError, ValueError):
            continue  # a path is only ever a shortcut: a broken one is left alone
        if path.key not in seen:
            seen.add(path.key)
            found.setdefault(path.test, []).append(path)
    return found


def keep(a, digest, path, log):
    """Writes `path` into the cache (atomically, one file per path)."""
    try:
        results.write_json(os.path.join(folder(a, digest), f"{path.test}-{path.key}.json"), path.as_json())
    except OSError as exc:  # a read-only home: the next grading of this mistake runs Hypothesis again
        log.write(f"shrinks: could not be kept in the cache ({exc.strerror})\n")


def for_zip(a, digest):
    """shrinks.json for autograder.zip: every path the cache holds for this record, under the installed Hypothesis."""
    paths = sorted((p.as_json() for ps in known(a, digest).values() for p in ps), key=lambda p: (p["test"], Path.of(p).key))
    return {"digest": digest, "hypothesis": hypothesis_version(), "format": FORMAT, "paths": paths}


# ---- following a path ------------------------------------------------------------------------------

def follow(session, failing):
    """{test function: the Failure Hypothesis would shrink it to on this submission}, for each test of
    `failing` that one of its known paths fits (the others must go to Hypothesis).

    failing: [(t, graded, first_failing, paths)]: the recorded test, the collected one
    (collect.GradedTest), the index of the first recorded regime this submission fails (the regimes
    before it passed every check: they are not asked again), and the test's known paths.

    A test's known paths share their start (the same regimes, judged alike) and part where a check
    turned out differently. Each round asks the worker, in one request for all the tests, for the
    checks of one path per test that fits so far, up to the first check on which the paths that fit
    so far disagree: its answer picks among them. A check that several paths (or one path twice)
    run is asked once.
    """
    active = [Following(session, *f) for f in failing]
    found = {}
    while active:
        asked = []
        for test in list(active):
            keys = test.next()
            if keys == []:
                failure = test.failure()
                if failure is not None:
                    found[test.t.function] = failure
            checks = [test.check(k) for k in keys or ()]
            if not keys or None in checks:
                active.remove(test)  # done, or no path fits: Hypothesis takes it from here
                continue
            session.begin(test.test_id, test.label, test.tolerance)
            asked += [(test, k, session.prepare(c)) for k, c in zip(keys, checks)]
        if not asked:
            break
        timing.add("shrinks: rounds of checks asked of the worker", 0.0)
        answers = session.stream([(test.test_id, p.batch) for test, _, p in asked])
        try:
            for (test, key, p), got in zip(asked, answers):
                if session.machine_error:
                    return {}
                if test in active and not all(deterministic(r) for r in got):
                    active.remove(test)  # a limit says nothing of what Hypothesis would do here
                if test in active:
                    test.answers[key] = (p, got)
                    test.outcomes[key] = session.fails(p, got)
        finally:
            answers.close()  # read to the end above: leaving a stream early would kill the worker
    return found


class Following:
    """One failed test on its way along its known paths: what this submission did on each check asked."""

    def __init__(self, session, t, graded, first_failing, paths):
        from .replay import label
        self.session, self.t, self.graded = session, t, graded
        self.test_id, self.label, self.tolerance = f"shrinks::{t.function}", label(t), graded.tolerance(session.config)
        self.walks = [Along(p) for p in paths]
        self.cases = {canonical(s.case): s.case for p in paths for s in p.steps}  # as recorded: dims in order
        self.passed = {canonical(r["case"]) for r in t.regimes[:first_failing]}
        self.checks, self.answers, self.outcomes = {}, {}, {}  # regime -> its checks; (regime, check) -> ...
        first = t.regimes[first_failing]
        if len(first["checks"]) == 1:  # the record's first failing regime has one check: that one failed
            self.outcomes[(canonical(first["case"]), 0)] = True
        self.last = None

    def failed(self, key):
        return False if key[0] in self.passed else self.outcomes.get(key)

    def next(self):
        """The checks to ask next; [] when a path fits to its end (its last check asked); None when none fits."""
        fitting = [w for w in self.walks if w.fits(self)]
        if not fitting:
            return None
        ahead, todo = fitting[0], []
        for key, failed in ahead.unseen(self):
            todo.append(key)
            if any(w.expects(key) not in (None, failed) for w in fitting[1:]):
                break  # the paths part here: this check's answer picks among them
        if todo:
            return todo
        self.last = ahead.last
        return [] if self.last in self.answers else [self.last]  # known from the record: asked for its report

    def check(self, key):
        from .record import case_of, checks_of
        regime, index = key
        if regime not in self.checks:
            self.checks[regime] = checks_of(self.graded.test, case_of(self.cases[regime]))
        found = self.checks[regime]
        return found[index] if index < len(found) else None

    def failure(self):
        """The full Failure of the fitting path's last check, as grading reports it."""
        p, got = self.answers[self.last]
        try:
            self.session.verdict(p, got)
        except Failure as exc:
            return exc
        return None


class Along:
    """One known path, as the checks it runs: (regime, check) -> whether it failed."""

    def __init__(self, path):
        self.order, self.outcome = [], {}
        self.alike = True  # a check the path ran twice turned out alike both times
        for s in path.steps:
            key = (canonical(s.case), s.check)
            if key in self.outcome:
                self.alike = self.alike and self.outcome[key] == s.failed
                continue
            self.order.append(key)
            self.outcome[key] = s.failed
        self.last = (canonical(path.steps[-1].case), path.steps[-1].check)

    def expects(self, key):
        return self.outcome.get(key)

    def fits(self, test):
        return self.alike and all(test.failed(k) in (None, f) for k, f in self.outcome.items())

    def unseen(self, test):
        return [(k, self.outcome[k]) for k in self.order if test.failed(k) is None]


def canonical(case):
    return json.dumps(case, sort_keys=True)
