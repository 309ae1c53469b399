"""Grading a whole class: `python -m autograder batch`, resumable, several graders at a time.

    python -m autograder batch ASSIGNMENT SUBMISSIONS --out DIR [--jobs N] [--force]

SUBMISSIONS is a folder with one subfolder (or one file: `.py`, graded as the student
file, `.ipynb` or `.zip`) per student, or a Gradescope "Export Submissions" zip or its unpacked
folder (`submission_metadata.yml` beside one `submission_<id>` folder per submission).

One grading core: every submission is graded by its own `python -m autograder grade`
process, exactly as a TA grades one submission (same code, same worker, same limits), so
a submission that hangs, crashes or attacks the grader costs only its own row (on Linux that
process is forked from a server that imported the engine once: warm.py). Nothing
here compares answers or writes feedback; it only runs graders and reads results.json.

What DIR holds:

    DIR/<submission>/results.json   Gradescope's format, written atomically (also when the
                                    grader died or overran: then extra_data.error says so)
    DIR/<submission>/grade.txt      what `grade` printed (the per-test table)
    DIR/<submission>/pytest.log     the grader's own log
    DIR/scores.csv                  one row per student (see scores.py)
    DIR/report.md, DIR/report.html  the class at a glance
    DIR/.batch.json                 the class: submission ids and their submitters
    DIR/.export/, DIR/.staged/      an extracted export zip; single-file submissions as folders

Resumable: a submission whose results.json exists (and whose files have not changed since)
is not graded again unless --force. Ctrl-C stops every grader and keeps what is done.
"""
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass

from .. import config as configuration
from .. import policies
from ..cli import ExitStatus
from ..config import ROOT
from ..results import grader_faults, failed_run, write_json, write_results
from ..sandbox import processes
from .discover import MANIFEST, BatchError, Submission, discover, file_digest
from .report import REPORT_HINT, write_reports
from .scores import load_all, write_scores

FINGERPRINT = ".fingerprint.json"
SLACK_SECONDS = 120  # beyond the assignment's own limits before a grader process is stopped
POLL_SECONDS = 0.05


def run_batch(assignment, submissions, out, jobs=None, force=False, *, wall_seconds=None, progress=True):
    """Grades every submission of a class into `out`; returns OK, or INTERRUPTED on Ctrl-C.

    Raises BatchError (or ConfigError) when the class or the assignment cannot be read.
    wall_seconds: how long one grader process may run before it is stopped (default: the
    assignment's submission_seconds + import_seconds + start_seconds + 2 minutes).
    """
    a = configuration.find(assignment)
    assignment_arg = os.path.abspath(assignment) if os.path.isdir(assignment) else assignment
    out = os.path.abspath(out)
    try:
        os.makedirs(out, exist_ok=True)
        subs = discover(submissions, out, a)
    except OSError as exc:
        raise BatchError(str(exc)) from None
    if not subs:
        raise BatchError(f"no submissions found in {submissions}")
    write_manifest(out, a, subs)
    late_penalties(a, subs)

    grader = grader_fingerprint(a)
    todo, stale = [], []
    for s in subs:
        done = previous(out, s)
        s.digest = fingerprint(s)
        if force or done is None or done.get("submission") != s.digest:
            todo.append(s)
        elif done.get("grader") != grader:
            stale.append(s.id)
    skipped = len(subs) - len(todo)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    wall = wall_seconds or (a.limits["submission_seconds"] + a.limits["import_seconds"]
                            + a.limits["start_seconds"] + SLACK_SECONDS)
    print(f"{len(subs)} submissions in {submissions}: grading {len(todo)}"
          + (f", {skipped} already graded (--force grades them again)" if skipped else "")
          + f", {jobs} at a time", file=sys.stderr)
    started = time.monotonic()
    interrupted, failures = grade_all(todo, out, assignment_arg, jobs, wall, grader, progress)
    elapsed = time.monotonic() - started

    results = load_all(out, subs)
    write_scores(out, subs, results)
    charts = write_reports(out, a, subs, results)
    graded = len(todo) - sum(1 for s in todo if s.id not in results)
    print(f"graded {graded} in {elapsed:.1f} s" + (f" ({graded / elapsed:.2f} submissions/s)" if graded and elapsed else "")
          + (f"; {failures} could not be graded (see report.md)" if failures else ""), file=sys.stderr)
    if stale:
        print(f"note: {len(stale)} submissions were graded by a different version of the tests or the "
              f"grader; run again with --force to grade them again", file=sys.stderr)
    print(f"wrote {os.path.join(out, 'scores.csv')}, report.md and report.html"
          + ("" if charts else f" (without charts: {REPORT_HINT})"), file=sys.stderr)
    if interrupted:
        print(f"interrupted: {len(results)} of {len(subs)} submissions are graded; "
              "run the same command again to grade the rest", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    faulty = {i: grader_faults(r) for i, r in sorted(results.items()) if grader_faults(r)}
    if faulty:
        first, causes = next(iter(faulty.items()))
        print(f"error: {len(faulty)} of {len(subs)} submissions were not graded because of the grader, the "
              f"course's files or this machine (their rows say 'not graded: grader error'); "
              f"{first}: {causes[0]}", file=sys.stderr)
        return ExitStatus.NOT_GRADED
    return ExitStatus.OK


def late_penalties(a, subs):
    """The late penalty of each submission, from its created_at (a regrade never applies the submission limit)."""
    if not a.late:
        return
    if not a.late.due_date:
        print("note: no late penalty: assignment.yaml's late: has no due_date (an export does not carry the "
              "assignment's due date)", file=sys.stderr)
        return
    for s in subs:
        s.late = policies.lateness(a.late, policies.parse_time(s.created_at), None)


# ---- resumability ------------------------------------------------------------------

def tree_digest(paths):
    """One digest over files and folders (their regular files, by relative path), links not followed."""
    h = hashlib.sha256()
    for top in paths:
        if os.path.isfile(top):
            h.update(b"F" + file_digest(top).encode())
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
            for name in sorted(files):
                full = os.path.join(root, name)
                if os.path.islink(full) or not os.path.isfile(full) or name.endswith(".pyc"):
                    continue
                h.update(os.path.relpath(full, top).encode() + b"\0" + file_digest(full).encode())
    return h.hexdigest()


def fingerprint(s):
    if s.digest is None:
        s.digest = "missing" if s.missing else tree_digest([s.path])
    return s.digest


def grader_fingerprint(a):
    """The tests, configuration, reference and engine: what a grade depends on besides the submission."""
    return tree_digest([a.folder, a.reference, os.path.join(ROOT, "autograder")])  # the engine's subpackages too


def previous(out, s):
    """The fingerprint of an earlier grading of `s` whose results.json is intact, else None."""
    folder = os.path.join(out, s.id)
    try:
        with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
            json.load(f)
        with open(os.path.join(folder, FINGERPRINT), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_manifest(out, a, subs):
    data = {"assignment": a.name, "submissions": [{"id": s.id, "submitters": s.submitters} for s in subs]}
    write_json(os.path.join(out, MANIFEST), data, sort_keys=True)


def write_fingerprint(out, s, grader):
    write_json(os.path.join(out, s.id, FINGERPRINT), {"submission": fingerprint(s), "grader": grader},
               sort_keys=True)


# ---- grading in parallel -----------------------------------------------------------

@dataclass
class Job:
    sub: Submission
    proc: object  # subprocess.Popen or warm.Forked: its pid, poll(), wait()
    tmpdir: str
    started: float


def grade_all(todo, out, assignment_arg, jobs, wall, grader, progress):
    """Runs one `grade` process per submission, `jobs` at a time; returns (interrupted, failures)."""
    from tqdm import tqdm

    from .warm import Graders
    graders = Graders()
    queue, running, failures = deque(todo), [], 0
    bar = tqdm(total=len(todo), desc="grading", unit="sub", disable=not progress or not todo,
               file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
    bar.set_postfix_str("failed 0")
    old_term = _on_sigterm_interrupt()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                s = queue.popleft()
                if s.missing:
                    failures += 1
                    finish_failed(out, s, f"Not graded: {s.missing}.", "missing", 0.0, grader)
                    bar.update(1)
                    continue
                running.append(start(out, s, assignment_arg, graders))
            time.sleep(POLL_SECONDS)
            for job in list(running):
                overran = time.monotonic() - job.started > wall
                if job.proc.poll() is None and not overran:
                    continue
                running.remove(job)
                failures += not finish(out, job, wall if overran else None, grader)
                bar.update(1)
                bar.set_postfix_str(f"failed {failures}")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for job in running:
            stop(job)
            remove(os.path.join(out, job.sub.id, "results.json.tmp"))
        return True, failures
    finally:
        bar.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return False, failures


def _on_sigterm_interrupt():
    """SIGTERM (a scheduler's, a terminal closed) stops the class as Ctrl-C does: what is done is kept."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        return None


def start(out, s, assignment_arg, graders):
    folder = os.path.join(out, s.id)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, "results.json.tmp")
    remove(tmp)
    # The grader's temporary files (its sandbox folder, Hypothesis' storage) go to a folder
    # of ours, so they are removed even when the grader is killed. 0o755: as root the
    # worker runs as another user who must reach its sandbox folder inside.
    tmpdir = tempfile.mkdtemp(prefix="autograder-batch-")
    os.chmod(tmpdir, 0o755)
    proc = graders.start(["grade", assignment_arg, s.path, "--json", tmp, "--log", os.path.join(folder, "pytest.log")],
                         os.path.join(folder, "grade.txt"), tmpdir)
    return Job(s, proc, tmpdir, time.monotonic())


def finish(out, job, overran, grader):
    """Moves a finished grader's results into place (or records why there are none); True if graded."""
    folder = os.path.join(out, job.sub.id)
    tmp = os.path.join(folder, "results.json.tmp")
    if overran:
        stop(job)
    code = job.proc.wait()
    elapsed = time.monotonic() - job.started
    if code != 0:
        kill_orphans(job.tmpdir)  # a worker the dead grader could not stop
    shutil.rmtree(job.tmpdir, ignore_errors=True)
    results = None
    if not overran and code in (ExitStatus.OK, ExitStatus.NOT_GRADED):  # NOT_GRADED: written, and it says why
        try:
            with open(tmp, encoding="utf-8") as f:
                results = json.load(f)
        except (OSError, ValueError):
            results = None
    if isinstance(results, dict) and isinstance(results.get("tests"), list):
        write_fingerprint(out, job.sub, grader)
        if job.sub.late:
            write_results(policies.apply_late(results, job.sub.late), os.path.join(folder, "results.json"))
            remove(tmp)
        else:
            os.replace(tmp, os.path.join(folder, "results.json"))  # the grader's own bytes, as `grade` wrote them
        return not (results.get("extra_data") or {}).get("error")  # the core's own "could not grade"
    remove(tmp)
    if overran:
        message = (f"Not graded: grading this submission did not finish within {overran:g} s, so it was "
                   "stopped. Course staff can see the details.")
        kind = "timeout"
    else:
        how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
        message = (f"Not graded: the autograder's process {how} before writing results "
                   "(see grade.txt). This is not necessarily a problem with your code; course staff have been told.")
        kind = "grader"
    finish_failed(out, job.sub, message, kind, elapsed, grader)
    return False


def finish_failed(out, s, message, kind, elapsed, grader):
    results = failed_run(message, kind)
    results["execution_time"] = round(elapsed, 3)
    results["stdout_visibility"] = "hidden"
    os.makedirs(os.path.join(out, s.id), exist_ok=True)
    write_fingerprint(out, s, grader)
    write_results(results, os.path.join(out, s.id, "results.json"))


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def stop(job):
    """Kills a grader and everything under it (its worker and what the student's code started)."""
    processes.stop_tree(job.proc.pid)
    job.proc.wait()
    kill_orphans(job.tmpdir)
    shutil.rmtree(job.tmpdir, ignore_errors=True)


def kill_orphans(tmpdir):
    """Kills what still works inside a grader's temporary folder: its worker, orphaned when it died."""
    processes.kill_until_gone(lambda: processes.working_in(tmpdir), rounds=5, pause=0.02)
