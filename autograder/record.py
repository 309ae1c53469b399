"""The record: every graded test's regimes and instances as plain data, so that grading replays them.

Hypothesis's engine costs a millisecond or more per regime, and pytest and Hypothesis cost a
quarter of a second to import; a submission that passes pays neither. `make` runs each graded
test once under the grading settings (the assignment's seed and examples, as the plugin sets
them) with a session that records its checks instead of running them (`testing.using`), draws
every instance, and stores what the worker runs (the steps) and what the judge compares (the
reference's values, tagged as in judging/protocol.py) for every instance. Grading then runs a
test's whole record in one round trip to the worker and judges it (`replay`); only a test that
fails goes to pytest and Hypothesis, which find the same first failing regime (the record holds
the very regimes they generate) and shrink it to the smallest example, as feedback shows it.

Where the record lives: `build` writes it into autograder.zip (assignments/NAME/record.json),
so Gradescope replays exactly the examples recorded when the zip was built, whatever Hypothesis
is installed; a grading without one makes it once and keeps it in the user's cache. A record
whose assignment, reference or engine changed since (its digest) is ignored.
"""
import hashlib
import json
import os
from dataclasses import dataclass

from . import results
from .config import ROOT
from .judging import protocol
from .judging.judge import ACCEPT_HOOKS

FILE = "record.json"
KEPT_BESIDE = ("record.json", "shrinks.json")  # what build writes into the assignment's folder: not its files
VERSION = 3  # 3: each check's tolerance
ENGINE_FILES = ("strategies.py", "testing.py", "record.py", "collect.py", "config.py", "judging/programs.py",
                "judging/protocol.py", "judging/diagnose.py", "judging/feedback.py")


@dataclass(frozen=True)
class RecordedTest:
    function: str
    regime: str          # the graded test's regime, as testing.graded names it
    entry: dict          # the Gradescope test entry before its score (results.test_entry)
    regimes: list        # [{"case": ..., "checks": [{"options": ..., "instances": n}]}], in order
    programs: str        # the JSON text of every instance's steps, in order: sent to the worker as it is
    steps: int           # how many steps in all
    answers: list        # every instance's [outputs, expected (tagged)], in order

    @property
    def recorded(self):
        return self.regimes is not None


@dataclass(frozen=True)
class Record:
    """An assignment's record: its tests, and the digest it was made under (which shrinks.py's paths
    are kept by)."""
    tests: list
    digest: str

    @classmethod
    def of(cls, data):
        return cls(tests_of(data), data["digest"])


# ---- where it is ------------------------------------------------------------------------------

def digest(a):
    """What the record depends on: the assignment's files, its reference, the engine's recording code."""
    h = hashlib.sha256(f"{VERSION}".encode())
    paths = sorted(os.path.join(root, f) for root, dirs, files in os.walk(a.folder)
                   for f in files if f not in KEPT_BESIDE and not f.endswith(".pyc") and "__pycache__" not in root)
    paths += [a.reference] + [os.path.join(ROOT, "autograder", f) for f in ENGINE_FILES]
    for path in paths:
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, ROOT).encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def cache_path(a, key):
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(home, "backprop-autograder", f"{a.name}-{key[:16]}.json")


def find(a, log):
    """The Record of assignment `a`: its own (in the zip), the cached one, or a new one (then cached)."""
    key = digest(a)
    for path in (os.path.join(a.folder, FILE), cache_path(a, key)):
        data = read(path)
        if data is not None and data.get("digest") == key:
            return Record.of(data)
        if data is not None:
            log.write(f"record {path}: made for other tests or another engine; not used\n")
    from . import timing
    with timing.span("record: make (Hypothesis and the reference, once)"):
        data = make(a, key)
    try:
        results.write_json(cache_path(a, key), data)
    except OSError as exc:  # a read-only home: grading goes on, the next one makes it again
        log.write(f"record: could not be kept in the cache ({exc.strerror})\n")
    return Record.of(data)


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def tests_of(data):
    return [RecordedTest(t["function"], t["regime"], t["entry"], t["regimes"], t.get("programs"), t.get("steps"),
                         t.get("answers")) for t in data["tests"]]


# ---- making it --------------------------------------------------------------------------------

class RecordingSession:
    """Stands in for the grading session while a graded test runs: keeps the checks it asks for."""

    def __init__(self):
        self.checks = []

    def check(self, c):
        self.checks.append(c)


def recorded_examples(test, examples, seed):
    """The checks of each of a graded test's Hypothesis examples, under the grading settings: [[Check]].

    An example's checks share the regime it drew (the same Case object): that is how they are told apart."""
    from hypothesis import seed as use_seed

    from .strategies import profile
    from .testing import using
    session = RecordingSession()
    with using(session):
        profile(examples, shrink=False)(use_seed(seed)(test))()
    found = []
    for c in session.checks:
        if found and found[-1][-1].case is c.case:
            found[-1].append(c)
        else:
            found.append([c])
    return found


def checks_of(test, case):
    """The checks one example of a graded test asks for, on a recorded regime (for feedback on it)."""
    from .testing import using
    session = RecordingSession()
    with using(session):
        test.hypothesis.inner_test(case)
    return session.checks


def case_data(case):
    """A regime as plain data, or None where it is not a `strategies.Case` (the test is then not recorded)."""
    from .strategies import Case
    if not isinstance(case, Case):
        return None
    return {"dims": case.dims, "seed": case.seed, "widths": list(case.widths),
            "activations": list(case.activations), "loss": case.loss}


def case_of(data):
    from .strategies import Case
    return Case(dict(data["dims"]), data["seed"], tuple(data["widths"]), tuple(data["activations"]),
                           data["loss"])


def make(a, key=None):
    """The record of assignment `a` (plain JSON data).

    Made only from course files that agree with each other: the tests' labels (collect.py) and
    the catalogue, whose every `in:` must name a quantity some check really grades."""
    from .collect import graded_tests
    from .judging.diagnose import check_names, load_catalogue
    catalogue = load_catalogue(a.misconceptions)  # well formed, before any test runs
    tests = []
    with a.importable():
        for index, t in enumerate(graded_tests(a), start=1):
            entry = results.test_entry(t.name, getattr(t.test, "__number__", index), t.points,
                                       [t.quantity.split(":")[0], t.factor] + ([t.quantity] if ":" in t.quantity else []),
                                       t.visibility, {"test": t.function, "quantity": t.quantity, "factor": t.factor})
            tests.append({"function": t.function, "regime": t.regime, "entry": entry, **regimes(a, t)})
    data = {"version": VERSION, "digest": key or digest(a), "assignment": a.name, "tests": tests}
    check_names(catalogue, graded_quantities(tests_of(data)))
    return data


def graded_quantities(recorded):
    """Every quantity a record's checks judge: each test's own, and any its check() names."""
    found = set()
    for t in recorded:
        found.add(t.entry["extra_data"]["quantity"])
        for regime in t.regimes or ():
            found |= {c["options"]["quantity"] for c in regime["checks"]}
    return found


def regimes(a, t):
    """{"regimes", "programs", "steps", "answers"} of one test (regimes None when one cannot be stored)."""
    out, programs, answers = [], [], []
    for example in recorded_examples(t.test, a.examples, a.seed):
        case = case_data(example[0].case) if example else None
        if case is None or any(c.options.get("accept") not in (None, *ACCEPT_HOOKS.values()) for c in example):
            return {"regimes": None}
        checks = []
        for c in example:
            options = {k: list(v) if isinstance(v, tuple) else v for k, v in c.options.items()}
            rtol, atol = tolerance(a, t, c.options)
            options.update(quantity=c.options.get("quantity") or t.quantity,
                           accept=getattr(c.options.get("accept"), "__name__", None), rtol=rtol, atol=atol)
            instances = c.case.instances(c.build, a.instances)
            for inputs in instances:
                plan = c.calls(inputs)
                programs.append(plan.steps)
                answers.append([list(plan.outputs), protocol.tag(judged(c.expected(**inputs), options))])
            checks.append({"options": options, "instances": len(instances)})
        out.append({"case": case, "checks": checks})
    return {"regimes": out, "programs": json.dumps(programs), "steps": sum(len(p) for p in programs),
            "answers": answers}


def tolerance(a, t, options):
    """(rtol, atol) of one check of test `t`, its check()'s own checked: a course error names the test."""
    from .config import ConfigError
    for key in ("rtol", "atol"):
        value = options.get(key)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise ConfigError(f"{t.at}: {t.function}: check(..., {key}={value!r}): expected a positive number")
    return t.tolerance(a, options)


def judged(full, options):
    """Only what the judge reads of the reference's outputs: the judged ones and those they require."""
    output = options.get("output")
    if output is None:
        return full
    names = ([output] if isinstance(output, str) else list(output)) + list(options.get("requires") or [])
    return {k: full[k] for k in names}
