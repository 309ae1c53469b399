"""Running what validate proves on, several at a time: gradings and public-test runs, each its own process.

    Run(kind, label, submission)       one grading ("grade") or one public-test run ("public")
    run_all(a, runs, zip_path, tmp, jobs)   each Run done, with its results, outcomes or error

A grading is `python -m autograder grade`, exactly as a TA runs it (the same sandbox, the same
limits); a public-test run is the handout's pytest on a student's machine (handout.as_student).
"""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from ..config import ROOT
from ..handout.as_student import outcomes


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


def grade(a, run, tmp, index):
    out = os.path.join(tmp, "results", f"{index}.json")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", a.folder, run.submission, "--json", out],
                          cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=a.limits["submission_seconds"] + a.limits["start_seconds"] + 120)
    run.seconds = time.monotonic() - started
    if done.returncode != 0:
        run.error = (done.stderr.strip() or done.stdout.strip())[-1500:] or f"exit status {done.returncode}"
        return
    with open(out, encoding="utf-8") as f:
        run.results = json.load(f)
    run.seconds = float(run.results.get("execution_time", run.seconds))


def public(a, run, zip_path, tmp, index):
    folder = os.path.join(tmp, "public", str(index))
    student = run.submission
    if os.path.isdir(student):
        student = os.path.join(student, a.student_file)
    started = time.monotonic()
    try:
        run.outcomes = outcomes(zip_path, folder, student)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        run.error = str(exc)
    run.seconds = time.monotonic() - started


def run_all(a, runs, zip_path, tmp, jobs=None):
    """Does every run, `jobs` at a time (default: the cores); returns them."""
    os.makedirs(os.path.join(tmp, "results"), exist_ok=True)

    def one(indexed):
        index, run = indexed
        try:
            grade(a, run, tmp, index) if run.kind == "grade" else public(a, run, zip_path, tmp, index)
        except Exception as exc:  # noqa: BLE001 (a run that could not be done is reported, not raised)
            run.error = f"{type(exc).__name__}: {exc}"
        return run
    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        return list(pool.map(one, enumerate(runs)))
