"""The one grading core: every way in (grade, run_autograder, batch, check) ends here.

`grade` never raises and always returns (and writes) a results dict in Gradescope's
format: a broken configuration, a missing file, a student's crash or the grader's own
crash each become a results.json that says what happened.
"""
import io
import os
import shutil
import tempfile
import threading
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout

from . import config as configuration
from . import timing, uploads
from .config import ConfigError
from .sandbox.platform import MachineError
from .results import NOT_YOUR_CODE, failed_run, summary, test_order, write_results

HERE = os.path.dirname(os.path.abspath(__file__))
PYTEST_INI = os.path.join(HERE, "pytest-grading.ini")
SCHEMA = os.path.join(HERE, "results.schema.json")


def grade(assignment, submission, out=None, log=None, exclusive=False):
    """Grades one submission (a file or a folder); returns the results dict, and writes it to `out`.

    exclusive: this submission has the machine to itself (Gradescope), so every process of
    the sandbox user is its own and is killed at the end.
    """
    started = time.monotonic()
    log = log if log is not None else io.StringIO()
    try:
        a = configuration.find(assignment) if isinstance(assignment, str) else assignment
        results = run_tests(a, submission, log, exclusive)
    except ConfigError as exc:
        results = failed_run(f"The autograder's configuration is broken: {exc}", "configuration", str(exc))
    except MachineError as exc:
        log.write(f"Student code cannot run on this machine: {exc}\n")
        results = failed_run(f"The autograder could not run your code on its machine. {NOT_YOUR_CODE}",
                             "machine", str(exc))
    except Exception as exc:  # the grader's own bug: the student still gets a results.json that says so
        log.write(traceback.format_exc())
        results = failed_run(f"The autograder itself failed while grading this submission. {NOT_YOUR_CODE}",
                             "grader", f"the grader crashed: {type(exc).__name__}: {exc}")
    results["execution_time"] = round(time.monotonic() - started, 3)
    results["stdout_visibility"] = results.get("stdout_visibility", "hidden")
    results["output_format"] = results.get("output_format", "md")  # the notes on top use `code` and **bold**
    if out:
        write_results(results, out)
    timing.write()
    return results


def run_tests(a, submission, log, exclusive):
    from .sandbox.boundary import Worker
    from .session import GradingSession

    upload = uploads.prepare(submission, a)  # a copy's name, a zip, a notebook, an encoding: made the student file
    student_file, problem = upload.path, upload.problem
    with timing.span("worker: prepare (copy the submission)"):
        worker = Worker(student_file, os.path.splitext(a.student_file)[0], a.limits,
                        a.forbidden_imports, exclusive) if student_file else None
    session = GradingSession(a, worker)
    if problem:
        session.import_report = {"import_error": {"kind": "missing", "message": problem}}
    session.start_early()  # Python, numpy and the student's import, while the record loads
    try:
        entries = grade_tests(a, session, log)
    finally:
        if worker:
            # after the early start is done: a course error found while it runs (the record) must not
            # race it to the worker's processes
            with timing.span("worker: close (kill, clean up)"), session.starting:
                worker.close()
        upload.close()
    if session.machine_error:
        raise session.machine_error
    tests = sorted(entries, key=test_order)
    for t in tests:
        t["output"] = upload.rewrite(t["output"])  # a notebook's lines: its cells
    report = session.import_report or {}
    results = {"tests": tests, "score": round(sum(t["score"] for t in tests), 6),
               "output": upload.rewrite(summary(a, tests, report.get("import_error"), problem, upload.notes))}
    if worker and worker.protections:
        results["extra_data"] = {"protections": worker.protections.as_json()}
    return results


def grade_tests(a, session, log):
    """Every graded test's entry: from the record where the submission passes it, else from a known
    shrink of its failure (shrinks.py), else from pytest and Hypothesis."""
    from . import record, replay
    from .results import passed
    with timing.span("record: find or make"):
        recorded = record.find(a, log)
    entries, failed = {}, {t.function: (t, None) for t in recorded.tests if not t.recorded}
    ahead = HypothesisAhead()
    if failed:
        ahead.start()
    replayed = [t for t in recorded.tests if t.recorded]
    answers = session.stream([replay.batch(t) for t in replayed])
    for t in replayed:
        with timing.span("record: replay a test"):
            results = next(answers)
            if session.machine_error:
                break
            ok, regime = replay.passes(t, results, a)
        if ok:
            entries[t.function] = passed(t.entry, a.examples * a.instances)
        else:
            failed[t.function] = (t, regime)
            ahead.start()
    answers.close()
    ahead.wait()  # before anything else is imported
    if failed and not session.machine_error:
        entries.update(followed(a, session, recorded, failed, log))
    rest = {name: f for name, f in failed.items() if name not in entries}
    if rest and not session.machine_error:
        entries.update(run_pytest(a, session, set(rest), log))
        keep_shrinks(a, session, recorded, rest, entries, log)
        for name, (t, regime) in rest.items():  # failed on the record, passed under Hypothesis: the record's
            if regime is not None and entries[name]["status"] == "passed":
                entries[name] = recorded_failure(a, session, t, regime, log)
    return list(entries.values())


class HypothesisAhead:
    """Hypothesis (and the strategies of the graded tests) imported in the background from the first
    failure on: following a shrink and pytest both need it, and its import overlaps the replay of the
    tests after the failure (the grader waits on the worker there). Only site-packages' and the
    engine's modules: the graded tests themselves are imported after `wait`, because importing them
    changes sys.path (Config.importable), which no other thread may do while this one imports."""

    def __init__(self):
        self.thread = None

    def start(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self._load, daemon=True)
            self.thread.start()

    @staticmethod
    def _load():
        try:
            from . import strategies  # noqa: F401 (imports hypothesis)
        except Exception:  # noqa: BLE001 (imported again, and its error raised, where it is needed)
            pass

    def wait(self):
        if self.thread is not None:
            self.thread.join()


def followed(a, session, recorded, failed, log):
    """Entries of the failed tests whose failure a known shrink path finds (shrinks.follow)."""
    from . import replay, shrinks
    from .collect import graded_tests
    if session.import_report and session.import_report.get("import_error"):
        return {}  # every check fails alike: pytest says so without running one
    with timing.span("shrinks: load the graded tests and known paths"):
        paths = shrinks.known(a, recorded.digest)
        if not any(name in paths for name, (t, _) in failed.items() if t.recorded):
            return {}
        with a.importable():
            graded = {g.function: g for g in graded_tests(a)}
    failing = [(t, graded[name], regime, paths[name]) for name, (t, regime) in failed.items()
               if regime is not None and name in paths and name in graded]
    with a.importable(), timing.span("shrinks: follow known paths"):
        found = shrinks.follow(session, failing)
    if not found or session.machine_error:
        return {}
    from .failures import Grading, failure_entry
    grading = Grading.of(a, session)
    for name in [n for n in failed if n in found]:  # in the tests' order
        log.write(f"{name}: failed; shrunk along a known path, as Hypothesis shrinks it (shrinks.py)\n")
    return {name: failure_entry(grading, failed[name][0].entry, replay.label(failed[name][0]), failure)
            for name, failure in found.items()}


def keep_shrinks(a, session, recorded, rest, entries, log):
    """Keeps the path of each failed test that Hypothesis shrank, for the next grading of the same mistake."""
    from . import shrinks
    for walk in session.walks:
        t, _ = rest.get(walk.test, (None, None))
        path = walk.path()
        if t is None or not t.recorded or path is None or entries.get(walk.test, {}).get("status") != "failed":
            continue
        if entries[walk.test].get("extra_data", {}).get("error") == "grader":
            continue
        shrinks.keep(a, recorded.digest, path, log)


def run_pytest(a, session, only, log):
    """Entries of the tests named in `only`, graded by pytest and Hypothesis (which shrink a failure)."""
    with timing.span("import pytest, Hypothesis and the grader"):
        import pytest  # imported here: a submission that passes on the record never waits for it

        from .failures import Grading
        from .plugin import GradingPlugin
    grading = Grading.of(a, session, only=only)
    storage = tempfile.mkdtemp(prefix="autograder-hypothesis-")
    os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = storage  # never the course's source folder
    # Only the plugins grading needs: a plugin that happens to be installed (pytest-randomly
    # reorders tests) must not change a grade.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with redirect_stdout(log), redirect_stderr(log), a.importable(), timing.span("pytest"):
            code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "_hypothesis_pytestplugin",
                                "-p", "no:unraisableexception", "-p", "no:threadexception",
                                "--tb=native",  # pytest's long tracebacks parse every frame's source: unused here
                                "--noconftest", "-c", PYTEST_INI, "--rootdir", a.tests,
                                "--import-mode=importlib", a.tests], plugins=[GradingPlugin(grading)])
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    if session.machine_error:
        return {}
    found = {t["extra_data"]["test"]: t for t in grading.tests}
    if code not in (0, 1) or set(found) != set(only):
        raise RuntimeError(f"pytest ended with exit code {code} and {len(found)} of {len(only)} results")
    if grading.internal_errors:
        log.write("\n".join(["Internal errors in tests:"] + grading.internal_errors) + "\n")
    return found


def recorded_failure(a, session, t, regime, log):
    """The entry of a test that failed on a recorded regime which Hypothesis did not generate here."""
    from . import replay
    from .collect import graded_tests
    from .failures import Grading, failure_entry
    log.write(f"{t.function}: failed on the record, not under Hypothesis: feedback on the recorded regime\n")
    with a.importable():
        graded = next(g for g in graded_tests(a) if g.function == t.function)
    found = replay.failure(graded.test, t, regime, session, graded.tolerance(a))
    if found is None:  # right this time: a submission whose answers change from call to call
        return {**t.entry, "score": 0.0, "status": "failed", "output": "Your code gave different answers to the "
                "same inputs on different calls (it may keep state between calls); each call must depend only on "
                "its inputs."}
    return failure_entry(Grading.of(a, session), t.entry, replay.label(t), found)


def locate(submission, a):
    """(path of the student's file, None) or (None, a sentence that says what is wrong)."""
    names = [a.student_file] + list(a.also_accept)
    if os.path.isfile(submission):
        if os.path.basename(submission) in names or uploads.find_stand_in(submission, a)[0]:
            return submission, None
        return None, f"Expected a file named {a.student_file}, got {os.path.basename(submission)}"
    found = []
    for root, dirs, files in os.walk(submission):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        found += [os.path.join(root, f) for f in sorted(files) if f in names]
    depth = {f: os.path.relpath(f, submission).count(os.sep) for f in found}
    shallowest = [f for f in found if depth[f] == min(depth.values(), default=0)]
    if len(shallowest) == 1:  # the student's file, not a copy in some subfolder
        return shallowest[0], None
    if not found:
        stand_in, problem = uploads.find_stand_in(submission, a)  # `backprop (1).py`, a notebook, a zip
        if stand_in or problem:
            return stand_in, problem
        seen = sorted(f for _, _, files in os.walk(submission) for f in files if f.endswith(".py"))[:10]
        hint = f" (found: {', '.join(seen)})" if seen else " (the submission has no Python files)"
        return None, f"Your submission has no file named {a.student_file}{hint}. Upload {a.student_file}."
    shown = ", ".join(os.path.relpath(f, submission) for f in shallowest)
    return None, f"Your submission has more than one {a.student_file} ({shown}); upload exactly one."
