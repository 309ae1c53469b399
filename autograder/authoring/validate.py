"""`python -m autograder validate NAME`: proves an assignment before a student sees it.

    validate(a_or_name, jobs=None, out=sys.stdout) -> Proof   (proof.ok: nothing is wrong)

In order, each step printed with what it found (a problem names the file, the key or test,
and the line):

1. the course's files: assignment.yaml and misconceptions.yaml well formed, every key; the
   graded tests importable, each labelled with a quantity in the naming scheme and a factor
   kind the assignment knows; the stub and the reference define every graded quantity; the
   catalogue's `in:` names quantities the tests really grade (while the record is made); the
   corpus names real quantities and ids; the public tests match the visible graded tests;
2. every misconception evaluates on the tests' real instances and changes at least one;
3. the handout carries no reference code, no hidden test and no hidden expected value;
4. gradings, as a TA runs them: the reference gets full marks, the stub fails every test with
   "not implemented", every correct file gets full marks and no diagnosis, every corpus
   mistake its declared verdict and diagnosis, and every catalogue entry is named for some
   mistake; public-test runs, as a student runs them: the stub fails every public test as not
   implemented, the reference and the correct files pass them, a mistake fails only what it breaks;
5. how long grading takes.

A proof is kept (in the user's cache) under a digest of everything it depends on, so that
`build` (release.py) need not prove the same files again.
"""
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field

import hypothesis
import numpy

from .. import config as configuration
from .. import record, results
from ..collect import graded_tests
from ..config import ROOT, ConfigError, where_of
from ..handout.build import build_handout, handout_files
from ..judging.diagnose import load_catalogue
from . import catalogue as misconceptions
from . import corpus as corpora
from . import course, leaks, runs, verdicts

DOCS = "docs/authoring.md"


@dataclass
class Proof:
    name: str
    problems: list = field(default_factory=list)   # [(where, what)]
    notes: list = field(default_factory=list)      # what was not proved here, and why
    complete: bool = True                           # every step ran (not on a machine that cannot grade)
    runs: list = field(default_factory=list)        # runs.Run: every grading and public-test run it proved on

    @property
    def ok(self):
        return not self.problems


class Steps:
    """Prints each step's outcome as it ends."""

    def __init__(self, proof, out):
        self.proof, self.out = proof, out

    def say(self, text):
        print(text, file=self.out, flush=True)

    def step(self, title, problems):
        problems = list(problems)
        self.proof.problems += problems
        self.say(f"  {'ok  ' if not problems else 'FAIL'} {title}")
        for where, what in problems:
            self.say(f"       {where}: {what}" if where else f"       {what}")
        return not problems


def validate(assignment, jobs=None, out=None, grading=True):
    """Proves assignment `assignment` (a name, a path or a config.Assignment); returns the Proof."""
    out = out or sys.stdout
    name = assignment if isinstance(assignment, str) else assignment.name
    proof = Proof(os.path.basename(str(name).rstrip(os.sep)))
    steps = Steps(proof, out)
    if isinstance(assignment, str):
        folder = assignment if os.path.isdir(assignment) else os.path.join(configuration.ASSIGNMENTS, assignment)
        if not os.path.isfile(os.path.join(folder, "assignment.yaml")):
            configuration.find(assignment)  # no such assignment: a ConfigError that lists the known ones
        steps.say(f"validate {proof.name} ({where_of(folder)}):")
        try:
            a = configuration.find(assignment)
        except ConfigError as exc:
            steps.step("assignment.yaml is well formed", [split(str(exc))])
            steps.say(f"not proved further: fix the course's files first ({DOCS})")
            return proof
    else:
        a = assignment
        steps.say(f"validate {a.name} ({where_of(a.folder)}):")
    proof.name = a.name
    steps.step("assignment.yaml is well formed", [])
    found = course_files(a, steps)
    if found is None:
        steps.say(f"not proved further: fix the course's files first ({DOCS})")
        return proof
    tests, catalogue, corpus, files, record_seconds = found
    # each step runs freshly collected tests: Hypothesis decorates a test function's settings only once
    steps.step(f"every misconception ({len(catalogue)}) evaluates on the tests' real instances and changes "
               f"at least one", misconceptions.problems(a, graded_tests(a), catalogue))
    steps.step("the handout carries no reference code, no hidden test and no hidden expected value",
               leaks.problems(a, graded_tests(a), files))
    with tempfile.TemporaryDirectory(prefix="autograder-validate-") as tmp:
        done = proof.runs = run_everything(a, tests, corpus, files, tmp, jobs, grading, steps)
    graded = [r for r in done if r.kind == "grade"]
    places = {"reference": where_of(a.reference), "stub": where_of(os.path.join(a.folder, a.student_file))}
    if graded:
        steps.step("the reference gets full marks; the stub fails every test as not implemented",
                   [p for r in graded if r.role in places for p in verdicts.graded(r, places[r.role])])
        steps.step(f"every correct file ({len(corpus.correct)}) gets full marks and no diagnosis",
                   [p for r in graded if r.role == "correct" for p in verdicts.graded(r, corpus.where)])
        steps.step(f"every corpus mistake ({len(corpus.mistakes)}) gets its declared verdict and diagnosis",
                   [p for r in graded if r.role == "mistake" for p in verdicts.graded(r, corpus.where)])
        steps.step("every misconception is named for some corpus mistake", verdicts.triggered(catalogue, graded))
    else:
        proof.complete = False
        proof.notes.append("the gradings (reference, stub, corpus) did not run: this machine cannot run student "
                           "code (on Windows, run validate in WSL2)")
    public = [r for r in done if r.kind == "public"]
    visible = [t for t in tests if t.public]
    caught = sum(1 for r in public if r.role == "mistake" and any(o[0] != "passed" for o in r.outcomes.values()))
    steps.step(f"the public tests ({len(visible)}): the stub fails them as not implemented, the reference and "
               f"the correct files pass, mistakes fail only what they break (they catch {caught} of "
               f"{len(corpus.mistakes)})",
               [p for r in public for p in verdicts.public(r, visible, places.get(r.role, corpus.where))])
    if graded:
        steps.say("  " + timing(graded, record_seconds, jobs))
    for note in proof.notes:
        steps.say(f"  note: {note}")
    if proof.ok:
        steps.say(f"proved: {a.name} is ready (python -m autograder build {a.name} --out dist/)"
                  if proof.complete else f"proved as far as this machine allows: {a.name}")
        if proof.complete:
            keep(a)
    else:
        steps.say(f"not proved: {len(proof.problems)} problem(s) above ({DOCS} says how each part is written)")
    return proof


def as_json(proof):
    """The proof as data (validate --json): what it found, and every grading and public-test run it made,
    so that a course's own checks (and this project's tests) read the corpus's results without grading
    it again."""
    return {"assignment": proof.name, "proved": proof.ok and proof.complete, "complete": proof.complete,
            "problems": [{"where": w, "what": t} for w, t in proof.problems], "notes": proof.notes,
            "runs": [{"kind": r.kind, "role": r.role, "label": r.label,
                      "mistake": getattr(r.mistake, "name", None), "results": r.results,
                      "outcomes": {f: list(o) for f, o in r.outcomes.items()}, "error": r.error,
                      "seconds": r.seconds} for r in proof.runs]}


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def split(message):
    """(where, what) of a ConfigError's message: `file, line N: what` or `file: what`."""
    head, _, rest = message.partition(": ")
    return (head, rest) if rest and ("/" in head or head.endswith((".yaml", ".py")) or ", line" in head) \
        else ("", message)


def course_files(a, steps):
    """(tests, catalogue, corpus, handout files, seconds to make the record), or None when they disagree."""
    def attempt(title, make):
        try:
            value = make()
        except ConfigError as exc:
            steps.step(title, [split(str(exc))])
            return None
        steps.step(title, [])
        return value
    catalogue = attempt("misconceptions.yaml is well formed", lambda: load_catalogue(a.misconceptions))
    tests = attempt("the graded tests are importable and labelled (quantity, factor kind, tolerance)",
                    lambda: graded_tests(a))
    if catalogue is None or tests is None:
        return None
    if not steps.step(f"the stub and the reference define every graded quantity ({plural(len(tests), 'test')})",
                      course.undefined(a, tests)):
        return None
    started = time.monotonic()
    recorded = attempt("the record of every test's regimes and instances; the catalogue's `in:` names graded "
                       "quantities", lambda: record.find(a, io.StringIO()).tests)
    if recorded is None:
        return None
    seconds = time.monotonic() - started
    corpus = attempt("the corpus names graded quantities and misconception ids",
                     lambda: corpora.read(a, record.graded_quantities(recorded), {e.id for e in catalogue}))
    files = attempt("the public tests match the visible graded tests; the handout builds", lambda: handout_files(a))
    if corpus is None or files is None:
        return None
    return tests, catalogue, corpus, files, seconds


def run_everything(a, tests, corpus, files, tmp, jobs, grading, steps):
    zip_path = build_handout(a, os.path.join(tmp, "dist"), files)
    alone = {}  # the reference and the stub, each alone in a folder as the student file (nothing else is copied)
    for role, path in (("reference", a.reference), ("stub", os.path.join(a.folder, a.student_file))):
        alone[role] = os.path.join(tmp, role)
        os.makedirs(alone[role])
        shutil.copyfile(path, os.path.join(alone[role], a.student_file))
    subjects = [("reference", "the reference", alone["reference"], None), ("stub", "the stub", alone["stub"], None)]
    subjects += [("correct", os.path.basename(c) + "/", c, None) for c in corpus.correct]
    subjects += [("mistake", f"mistake {m.name!r}", corpora.write(corpus, m, os.path.join(tmp, "mistakes"),
                                                                  a.student_file), m) for m in corpus.mistakes]
    todo = [runs.Run(kind, role, label, path, m) for role, label, path, m in subjects
            for kind in (("grade", "public") if grading else ("public",))]
    started = time.monotonic()
    steps.say(f"  ...  grading {sum(r.kind == 'grade' for r in todo)} submissions and running the public tests "
              f"on {sum(r.kind == 'public' for r in todo)}, {jobs or os.cpu_count() or 1} at a time")
    done = runs.run_all(a, todo, zip_path, tmp, jobs)
    steps.say(f"  ...  done in {time.monotonic() - started:.1f} s")
    return done


def timing(graded, record_seconds, jobs):
    """How long grading takes: a correct submission (the reference), and the corpus's mistakes."""
    reference = next((r.seconds for r in graded if r.role == "reference" and not r.error), None)
    mistakes = [r.seconds for r in graded if r.role == "mistake" and not r.error]
    text = f"grading takes {reference:.1f} s for a correct submission (the reference)" if reference is not None \
        else "grading the reference did not finish"
    if mistakes:
        text += (f", {statistics.median(mistakes):.1f} s for a mistake (median of {len(mistakes)}; at most "
                 f"{max(mistakes):.1f} s)")
    return text + (f"; making the record took {record_seconds:.1f} s" if record_seconds > 0.5 else "") + \
        f" ({jobs or os.cpu_count() or 1} at a time on this machine)"


# ---- proofs kept, for build ------------------------------------------------------------------------

def digest(a):
    """Everything a proof depends on: the engine, the assignment, its reference and corpus, the versions."""
    h = hashlib.sha256(f"{sys.version}|numpy {numpy.__version__}|hypothesis {hypothesis.__version__}".encode())
    folders = [os.path.join(ROOT, "autograder"), a.folder, corpora.folder_of(a)]
    paths = [a.reference]
    for folder in folders:
        for root, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            paths += [os.path.join(root, n) for n in sorted(names) if n not in record.KEPT_BESIDE and not n.endswith(".pyc")]
    for path in paths:
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, ROOT).encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def kept_path(a, key):
    return os.path.join(os.path.dirname(record.cache_path(a, key)), f"validated-{a.name}-{key[:16]}.json")


def keep(a):
    key = digest(a)
    try:
        results.write_json(kept_path(a, key), {"assignment": a.name, "digest": key, "at": time.time()})
    except OSError:  # a read-only home: the next build proves it again
        pass


def proved_before(a):
    """When these very files were proved on this machine (a time), or None."""
    key = digest(a)
    data = record.read(kept_path(a, key))
    return data["at"] if data and data.get("digest") == key else None
