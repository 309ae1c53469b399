"""Running what validate proves on, several at a time: gradings and public-test runs, each its own process.

    Run(kind, label, submission)       one grading ("grade") or one public-test run ("public")
    run_all(a, runs, zip_path, tmp, jobs)   each Run done, with its results, outcomes or error

A grading is `python -m autograder grade`, exactly as a TA runs it (the same sandbox, the same
limits), started warm as batch starts its graders (classroom/warm.py); a public-test run is the
handout's pytest on a student's machine (handout.as_student), also started warm (Students).
"""
import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from ..classroom.warm import Graders
from ..handout.as_student import Students, outcomes

POLL_SECONDS = 0.02


@dataclass
class Run:
    kind: str                 # "grade" or "public"
    role: str                 # "reference", "stub", "correct" or "mistake": what it must get
    label: str                # as messages name it: "the reference", "the stub", "correct_loops/", ...
    submission: str           # a folder or a file
    mistake: object = None    # corpus.Mistake, for a mistake
    results: Optional[dict] = None      # grade: results.json
    outcomes: dict = field(default_factory=dict)  # public: {test function: (outcome, message)}
    error: str = ""           # the run itself failed (not the submission)
    seconds: float = 0.0


def grade(a, run, tmp, index, graders):
    out = os.path.join(tmp, "results", f"{index}.json")
    printed = os.path.join(tmp, "results", f"{index}.txt")
    seconds = a.limits["submission_seconds"] + a.limits["start_seconds"] + 120
    started = time.monotonic()
    proc = graders.start(["grade", a.folder, run.submission, "--json", out], printed, tempfile.gettempdir())
    while proc.poll() is None:
        if time.monotonic() - started > seconds:
            from ..sandbox import processes  # psutil: not on a native Windows machine, where nothing is graded
            processes.stop_tree(proc.pid)
            proc.wait()
            run.error = f"grading did not finish within {seconds:g} s"
            return
        time.sleep(POLL_SECONDS)
    run.seconds = time.monotonic() - started
    status = proc.wait()
    if status != 0:
        with open(printed, encoding="utf-8", errors="replace") as f:
            run.error = f.read().strip()[-1500:] or f"exit status {status}"
        return
    with open(out, encoding="utf-8") as f:
        run.results = json.load(f)
    run.seconds = float(run.results.get("execution_time", run.seconds))


def public(a, run, zip_path, tmp, index, students):
    folder = os.path.join(tmp, "public", str(index))
    student = run.submission
    if os.path.isdir(student):
        student = os.path.join(student, a.student_file)
    started = time.monotonic()
    try:
        run.outcomes = outcomes(zip_path, folder, student, students=students)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        run.error = str(exc)
    run.seconds = time.monotonic() - started


def run_all(a, runs, zip_path, tmp, jobs=None):
    """Does every run, `jobs` at a time (default: the cores); returns them."""
    os.makedirs(os.path.join(tmp, "results"), exist_ok=True)
    graders, mine, every = Graders(), threading.local(), []

    def students():  # each thread its own
        if not hasattr(mine, "students"):
            mine.students = Students()
            every.append(mine.students)
        return mine.students

    def one(indexed):
        index, run = indexed
        try:
            if run.kind == "grade":
                grade(a, run, tmp, index, graders)
            else:
                public(a, run, zip_path, tmp, index, students())
        except Exception as exc:  # noqa: BLE001 (a run that could not be done is reported, not raised)
            run.error = f"{type(exc).__name__}: {exc}"
        return run
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
            return list(pool.map(one, enumerate(runs)))
    finally:
        for each in every:
            each.close()
