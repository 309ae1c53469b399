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
proof found (every corpus mistake's) into the record in autograder.zip, so that a student on
Gradescope who makes a mistake the corpus holds is answered without Hypothesis's engine.

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
                        f"{a.name}-{digest[:16]}-hypothesis-{hypothesis_version()}")


def known(a, recorded):
    """{test function: [Path]} for record `recorded` under the installed Hypothesis: the record's own
    (from autograder.zip) first, then the cache's, each in a fixed order."""
    version, found, seen = hypothesis_version(), {}, set()
    kept = recorded.shrinks
    datas = list(kept.get("paths") or []) if kept.get("hypothesis") == version else []
    where = folder(a, recorded.digest)
    try:
        names = sorted(n for n in os.listdir(where) if n.endswith(".json"))
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(where, name), encoding="utf-8") as f:
                datas.append(json.load(f))
        except (OSError, ValueError):
            continue  # another job writing it, or a broken file: a path is only ever a shortcut
    for data in datas:
        try:
            path = Path.of(data)
        except (KeyError, TypeError, ValueError):
            continue
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
    """The record's "shrinks": every path the cache holds for this record, under the installed Hypothesis."""
    from .record import Record
    paths = [p.as_json() for ps in known(a, Record([], digest, {})).values() for p in ps]
    return {"hypothesis": hypothesis_version(), "paths": sorted(paths, key=lambda p: (p["test"], Path.of(p).key))}


# ---- following a path ------------------------------------------------------------------------------

def follow(a, session, graded, t, first_failing, paths):
    """The Failure Hypothesis would shrink recorded test `t` to on this submission, found on one of
    `paths`; None when none of them fits (Hypothesis must run).

    graded: the collected test (collect.GradedTest); first_failing: the index of the first recorded
    regime this submission fails (the regimes before it passed every check, so they are not asked again).
    A check that a path runs twice (Hypothesis runs its first failure again, and its last) is asked once.
    """
    from .record import case_of, checks_of
    passed = {canonical(r["case"]) for r in t.regimes[:first_failing]}
    checks = {}  # regime -> its example's checks
    for path in paths:
        todo = {}  # (regime, check) -> the check, in the order the path first runs it
        for step in path.steps:
            key = canonical(step.case)
            if key in passed:
                if step.failed:
                    break  # this submission passes that regime
                continue
            if key not in checks:
                checks[key] = checks_of(graded.test, case_of(step.case))
            if step.check >= len(checks[key]):
                break
            todo.setdefault((key, step.check), checks[key][step.check])
        else:
            with timing.span("shrinks: follow a known path"):
                failure = walk_along(session, graded, t, path, passed, todo)
            if failure is not None or session.machine_error:
                return failure
    return None


def walk_along(session, graded, t, path, passed, todo):
    """Judges each check of one path, all in one request; the path's last check's Failure when every
    check turned out as the path says, else None."""
    from .replay import label
    session.begin(f"shrinks::{t.function}", label(t), graded.tolerance(session.config))
    last = path.steps[-1]
    last = (canonical(last.case), last.check)
    expected = {}
    for s in path.steps:
        expected.setdefault((canonical(s.case), s.check), s.failed)
    prepared = {k: session.prepare(c) for k, c in todo.items()}
    answers = session.stream([(session.test_id, p.batch) for p in prepared.values()])
    fits, failure = True, None
    try:
        for key, got in zip(prepared, answers):
            if session.machine_error or not all(deterministic(r) for r in got):
                return None  # a limit, or the machine: says nothing of what Hypothesis would do
            if not fits:
                continue  # the rest are read, not judged: leaving the stream early would kill the worker
            if key == last:
                try:
                    session.verdict(prepared[key], got)
                    failed = False
                except Failure as exc:
                    failed, failure = True, exc
            else:
                failed = session.fails(prepared[key], got)
            fits = failed == expected[key]
    finally:
        answers.close()
    alike = all(expected[(canonical(s.case), s.check)] == s.failed for s in path.steps)  # run twice, same outcome
    return failure if fits and alike else None


def canonical(case):
    return json.dumps(case, sort_keys=True)
