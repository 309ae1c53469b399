"""The student handout: handout.zip, with the stub, public tests and a README, and `check` for staff.

    build_handout(assignment, out_dir)   writes out_dir/handout.zip
    check(assignment, submission=None)   runs the public tests on a submission as a student would

Everything comes from the assignment's data:

- the stub: assignments/NAME/<student_file>;
- which tests are public: the graded tests (assignments/NAME/tests/) whose visibility in
  assignment.yaml is `visible`; the others are hidden, named in the README and nowhere else;
- the definition checks: assignments/NAME/public/test_*.py, written by staff against
  tests/support/public.py (below), one function per visible graded test, of the same
  function name and carrying its Gradescope name, `@public("link_term — W^ℓ with m ≠ n")`
  (a visible test without one still gets a public test that runs its fixed cases);
- the fixed cases: for each visible test, inputs drawn from that test's own regimes (by
  running it with a recording `check`) plus any written in assignments/NAME/public/cases.yaml,
  with expected values computed by the reference now and stored as numbers (JSON);
- tests/support/: byte-for-byte copies, made now, of the engine's calls.py and feedback.py
  (so a public test calls and judges as the graded test does, and its failure reads as the
  Gradescope one), strategies.py and worker.py, its public.py and handout_conftest.py (as
  tests/conftest.py): nothing there imports anything but numpy, pytest and Hypothesis.

Nothing of reference/ and nothing of the graded tests' code goes into the zip.
"""
import ast
import dataclasses
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

from . import config as configuration
from .config import ROOT, ConfigError

HERE = os.path.dirname(os.path.abspath(__file__))
REGIMES = 2          # fixed cases drawn per visible test (one instance each)
INSTANCES = 3        # numeric instances per Hypothesis example in the definition checks
COPIED = {           # engine file -> its place in the handout
    "calls.py": "tests/support/calls.py",
    "feedback.py": "tests/support/feedback.py",
    "strategies.py": "tests/support/strategies.py",
    "worker.py": "tests/support/worker.py",
    "public.py": "tests/support/public.py",
    "handout_conftest.py": "tests/conftest.py",
}
# What a student's machine does not have: the project, and what only the grader needs.
NOT_ON_A_STUDENTS_MACHINE = ("autograder", "reference", "gradescope_utils", "yaml", "tqdm", "jsonschema")
VISIBILITY_WORDS = {
    "hidden": "never shown to students",
    "after_due_date": "its result is shown after the due date",
    "after_published": "its result is shown once grades are published",
}
PYTEST_INI = """\
# The public tests: run `pytest` in this folder.
[pytest]
testpaths = tests
python_files = test_*.py
python_functions = test_*
python_classes =
filterwarnings = ignore::DeprecationWarning
# A failure prints the grader's message, not a traceback; plain tracebacks keep the rest fast.
addopts = --tb=native
"""
SUPPORT_INIT = '"""The public tests\' machinery: copies of the Gradescope grader\'s own modules. Nothing to edit here."""\n'


# ---- the graded tests, as Gradescope names them -------------------------------------------

@dataclasses.dataclass
class GradedTest:
    function: str     # the test function's name, e.g. test_link_term_rectangular
    name: str         # Gradescope's name, e.g. "link_term — W^ℓ with m ≠ n"
    quantity: str
    factor: str
    regime: str
    visibility: str
    points: float
    test: object      # the test function, for recording its fixed cases
    module: object    # its module

    @property
    def public(self):
        return self.visibility == "visible"


def graded_tests(a):
    """Every graded test of assignment `a`, in the order pytest collects them."""
    found = []
    for filename in sorted(os.listdir(a.tests)):
        if not (filename.startswith("test_") and filename.endswith(".py")):
            continue
        module = _import(os.path.join(a.tests, filename), f"_graded_{a.name}_{filename[:-3]}")
        for fname, fn in vars(module).items():
            if not (fname.startswith("test_") and callable(fn)) or isinstance(fn, type):
                continue
            info = getattr(fn, "__graded__", None) or {"quantity": fname, "factor": "", "regime": ""}
            name = f"{info['quantity']} — {info['regime']}" if info["regime"] else fname
            chosen = a.test_settings(fname)
            found.append(GradedTest(fname, name, info["quantity"], info["factor"], info["regime"],
                                    chosen["visibility"], float(chosen["points"]), fn, module))
    return found


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- fixed cases: the graded test's own regimes and calls, the reference's values ----------

def tag(value):
    """A value as JSON that keeps its kind: arrays by shape, tuples apart from lists, numbers exact."""
    if isinstance(value, np.ndarray):
        return {"array": [list(value.shape), value.astype(np.float64).ravel().tolist()]}
    if isinstance(value, tuple):
        return {"tuple": [tag(v) for v in value]}
    if isinstance(value, list):
        return {"list": [tag(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): tag(v) for k, v in value.items()}}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a fixed case")


def _reseed(case, salt):
    """The regime with its own seed: not the numbers Gradescope's first examples use."""
    if dataclasses.is_dataclass(case) and hasattr(case, "seed"):
        seed = int(np.random.SeedSequence([salt, int(case.seed)]).generate_state(1)[0])
        return dataclasses.replace(case, seed=seed)
    return case


class _Recorder:
    """Stands in for testing.check while a graded test runs: keeps what it was asked to check."""

    def __init__(self, a, test):
        self.a, self.test, self.calls = a, test, []

    def __call__(self, case, build, calls, expected, quantity=None, output=None, requires=(), accept=None,
                 parts=(), **unknown):
        from .testing import function
        if unknown:
            raise ConfigError(f"{self.test.function}: check() options {sorted(unknown)} are new to the handout "
                              f"builder (autograder/handout.py): teach it to store them")
        if accept is not None and getattr(accept, "__name__", None) not in ACCEPT_HOOKS:
            raise ConfigError(f"{self.test.function}: its accept hook {accept!r} has no counterpart in the "
                              f"handout (autograder/public.py ACCEPT)")
        self.calls.append(dict(case=case, build=build, calls=function(calls) if isinstance(calls, str) else calls,
                               expected=expected, quantity=quantity or self.test.quantity,
                               output=list(output) if isinstance(output, (list, tuple)) else output,
                               requires=list(requires), accept=accept, parts=list(parts)))


def _record(a, test, examples):
    """The check calls of a graded test's first `examples` Hypothesis examples."""
    from hypothesis import HealthCheck, Phase, settings

    from . import testing
    recorder = _Recorder(a, test)
    module = test.module
    saved_check, saved_global = testing.check, getattr(module, "check", None)
    saved_session = testing._session
    testing.check = recorder
    if saved_global is not None:
        module.check = recorder
    testing._session = _FakeSession(a, test)
    try:
        run = settings(max_examples=examples, database=None, derandomize=True, deadline=None,
                       phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))(test.test)
        run()
    finally:
        testing.check, testing._session = saved_check, saved_session
        if saved_global is not None:
            module.check = saved_global
    return recorder.calls


class _FakeSession:
    def __init__(self, a, test):
        self.config = a
        self.current = {"quantity": test.quantity, "factor": test.factor, "regime": test.regime}


def fixed_cases(a, tests, reference=None, hand_written=None):
    """{test function: [fixed case]} for the given graded tests, expected values from the reference."""
    reference = reference or a.load_reference()
    hand_written = hand_written or {}
    out = {}
    for test in tests:
        recorded = _record(a, test, REGIMES)
        cases = []
        for r in recorded:
            case = _reseed(r["case"], a.seed)
            for inputs in case.instances(r["build"], 1):
                cases.append(_case(a, reference, r, case.describe(), inputs))
        for written in hand_written.get(test.function, []):
            for r in recorded[:1]:
                cases.append(_case(a, reference, r, written["title"], written["inputs"]))
        out[test.function] = cases
    return out


def _case(a, reference, r, title, inputs):
    plan = r["calls"](inputs)
    full = r["expected"](**inputs)
    if r["output"] is not None:  # only what is judged, and what it requires: nothing more of the reference's
        keep = ([r["output"]] if isinstance(r["output"], str) else r["output"]) + r["requires"]
        full = {k: full[k] for k in keep}
    case = {"title": title, "call": plan.shown, "inputs": tag(dict(inputs)), "steps": plan.steps,
            "outputs": list(plan.outputs), "output": r["output"], "quantity": r["quantity"],
            "expected": tag(full)}
    for key in ("labels", "texts"):
        if getattr(plan, key, None):
            case[key] = getattr(plan, key)
    if r["requires"]:
        case["requires"] = r["requires"]
    if r["accept"] is not None:
        case["accept"] = r["accept"].__name__
    if r["parts"]:
        case["parts"] = r["parts"]
    _must_pass_on(reference, a, json.loads(json.dumps(case)))
    return case


ACCEPT_HOOKS = ("squeezed",)


def _must_pass_on(reference, a, case):
    """A fixed case the reference itself fails is this builder's bug, not a student's: judged as a student's is."""
    from . import calls, public, worker
    if getattr(worker, "np", np) is None:  # the worker imports numpy in its main(), which never runs here
        worker.np = np
    plan = calls.Calls(steps=case["steps"], shown=case["call"], outputs=case["outputs"],
                       **{k: case[k] for k in ("labels", "texts") if k in case})
    outputs = worker.run_program(reference, case["steps"], {"call_seconds": 0}, os.path.dirname(a.reference))
    try:
        _, _, failure = calls.judge(
            case["title"], plan, public.decode(case["inputs"]), public.decode(case["expected"]),
            {"outputs": outputs}, case["quantity"], a.rtol, a.atol, case["output"], case.get("requires", ()),
            public.ACCEPT[case["accept"]] if case.get("accept") else None, case.get("parts", ()))
    except calls.Failure as exc:
        failure = exc
    if failure:
        raise RuntimeError(f"a fixed case of {plan.shown} fails on the reference itself: {failure}")


def _read_hand_written(a, public_dir, tests):
    path = os.path.join(public_dir, "cases.yaml")
    if not os.path.isfile(path):
        return {}
    import yaml
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    where = os.path.relpath(path, ROOT)
    by_function = {t.function: t for t in tests}
    out = {}
    for function, cases in data.items():
        test = by_function.get(function)
        if test is None:
            raise ConfigError(f"{where}: {function!r} is not a graded test of {a.name}")
        if not test.public:
            raise ConfigError(f"{where}: {function!r} is {test.visibility} on Gradescope: "
                              f"the handout must not carry its expected values")
        out[function] = [{"title": str(c["title"]), "inputs": {k: _value(v) for k, v in c["inputs"].items()}}
                         for c in cases]
    return out


def dump(data):
    """JSON, indented, with each fixed case on one line (numbers exact: json writes their repr)."""
    cases, data = [], json.loads(json.dumps(data))
    for entry in data["tests"].values():
        cases += entry["cases"]
        entry["cases"] = [f"@case {len(cases) - len(entry['cases']) + i}@" for i in range(len(entry["cases"]))]
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
    return re.sub(r'"@case (\d+)@"', lambda m: json.dumps(cases[int(m.group(1))], ensure_ascii=False,
                                                          allow_nan=False), text)


def _value(v):
    """A YAML input: nested lists of numbers are arrays (depth 3: a list of matrices); the rest as is."""
    def depth(x):
        return 1 + max((depth(i) for i in x), default=0) if isinstance(x, list) else 0
    if isinstance(v, list) and v and all(isinstance(i, (int, float, list)) for i in v):
        d = depth(v)
        if d <= 2:
            return np.array(v, dtype=np.float64)
        if d == 3:
            return [np.array(m, dtype=np.float64) for m in v]
    return v


# ---- the public test files ------------------------------------------------------------------

def _public_functions(path):
    """{test function: whether it checks anything itself} for a public test file, by a plain reading
    of its source (a function whose body is only a docstring runs its fixed cases only)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)

    def checks(fn):
        return any(not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)) for st in fn.body)

    def name(fn):  # the string of its @public("...") decorator, or None
        return next((d.args[0].value for d in fn.decorator_list
                     if isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) == "public"
                     and d.args and isinstance(d.args[0], ast.Constant)), None)
    return {n.name: (checks(n), name(n)) for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def _fixed_only_module(tests):
    lines = ['"""Public tests that only run fixed cases (tests/support/cases.json): inputs whose expected',
             'values the course\'s solution computed when this handout was made. conftest.py runs them."""',
             "from support.public import public", ""]
    for t in tests:
        lines += ["", f"@public({t.name!r})", f"def {t.function}():", '    """Fixed cases only."""', ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- the README -------------------------------------------------------------------------------

def readme(a, tests, definition_checked, test_files):
    from .feedback import FACTORS
    public = [t for t in tests if t.public]
    hidden = [t for t in tests if not t.public]
    points = sum(t.points for t in tests)
    rows = "\n".join(
        f"| `{t.function}` | {t.name} | {t.points:g} | "
        f"{'finite differences, then fixed cases' if t.function in definition_checked else 'fixed cases'} |"
        for t in public)
    files = ", ".join(f"`tests/{f}`" for f in test_files) or "the tests"
    if hidden:
        items = "\n".join(
            f"- **{t.name}**: `{t.quantity.split(':')[0]}`, {FACTORS.get(t.factor, t.factor or 'as named')} "
            f"({t.points:g} points; {VISIBILITY_WORDS.get(t.visibility, t.visibility)})" for t in hidden)
        covered = {t.quantity for t in public}
        also = ("They check functions that the public tests check too, on other inputs: passing every "
                "public\ntest makes them likely to pass, not certain."
                if all(t.quantity in covered for t in hidden) else
                "Some of them check what no public test checks: test those parts yourself.")
        hidden_text = f"""Gradescope runs {len(hidden)} more test{'s' if len(hidden) > 1 else ''}, \
{sum(t.points for t in hidden):g} of the {points:g} points, that are not in this handout: neither
their code nor their expected values are here. What each one covers:

{items}

{also}"""
    else:
        hidden_text = f"None: all {len(public)} of Gradescope's tests ({points:g} points) are public."
    forbidden = ", ".join(a.forbidden_imports)
    rule = f" Do not import {forbidden}: Gradescope refuses them (a course rule)." if forbidden else ""
    return f"""# {a.title}: your handout

You write **`{a.student_file}`**: its docstrings are the contract (the notes' notation, every
shape). The tests in `tests/` check it on your machine, in a few seconds, the way Gradescope's
visible tests check it. They contain nothing of the course's solution.

## Running the tests

Python 3.10 or later, with three packages:

```
pip install numpy pytest hypothesis
pytest
```

Run `pytest` in this folder (where this README is). Useful variants: `pytest -x` stops at the
first failure; `pytest -k NAME` runs only the tests whose name contains NAME.

Until you write a function, its tests fail with **`name` is not implemented yet**: that is
the starting point, not a bug. At the end of every run, a table lists each public test by its
Gradescope name, with PASS or FAIL and the first line of what went wrong.

## What the public tests are

There are {len(public)} public tests, one for each visible test on Gradescope, with the same name
and the same kind of input (one column or a batch, m = n or m ≠ n, ...). Each checks your code
in up to two ways, and stops at the first wrong answer:

1. **Finite differences**: every derivative is checked against central differences
   (f(x + h) − f(x − h)) / 2h of the computation it is the derivative of, written out from
   the docstrings in {files}, on inputs drawn by Hypothesis.
2. **Fixed cases**: a few inputs whose expected outputs the course's solution computed when
   this handout was made; only the numbers are here (`tests/support/cases.json`). They are
   all there is for what is not a derivative (a loss, a forward pass, an update).

| public test | Gradescope test | points | checked by |
|---|---|---|---|
{rows}

## Reading a failure

A failed test prints, under its Gradescope name, the very message Gradescope shows for that
test (the same code writes both), in Markdown:

- **This test checks `f`: ...**: the function, and which factor of the chain rule it is.
- **`f` is not implemented yet**, or **`f(...)` raised ...**: your code did not return a value;
  the lines of your file that led there follow.
- **Wrong value:** where your result first differs: its shape (`the shape is (3, 2), but it
  should be (2, 3)`), or the first entry that differs (`at [0, 1] it is 0.3, but it should be 0.7`).
  An entry passes when it is within a relative error of {a.rtol:g} of the expected one (or
  {a.atol:g} absolute), so float32 arithmetic passes too.
- **Smallest failing example** (...): the call and its inputs, by the docstring's names; in the
  brackets, the sizes, then where the expected value comes from: *central differences of ...*
  (the definition, exact to about 8 digits), or *a fixed case* (the course's solution).
- **Expected:** and **Returned:** both values in full, with their shapes.
- **Your code printed:** what your code printed during that call, if anything.

On Gradescope, when the grader recognises a common mistake, a first line **Likely
misconception:** names it. The public tests never name a mistake: compare the expected and
returned values.

## Hidden tests

{hidden_text}

## Submitting

Upload `{a.student_file}` alone to Gradescope.{rule}
"""


# ---- building the zip -----------------------------------------------------------------------------

def handout_files(a):
    """{path in the handout: bytes} for assignment `a`."""
    tests = graded_tests(a)
    public_dir = os.path.join(a.folder, "public")
    visible = {t.function: t for t in tests if t.public}
    files, written = {}, {}
    test_files = sorted(f for f in os.listdir(public_dir) if f.startswith("test_") and f.endswith(".py")) \
        if os.path.isdir(public_dir) else []
    definition_checked = set()
    for filename in test_files:
        path = os.path.join(public_dir, filename)
        functions = _public_functions(path)
        definition_checked |= {f for f, (checks, _) in functions.items() if checks}
        for function, (_, public_name) in functions.items():
            where = os.path.relpath(path, ROOT)
            graded = next((t for t in tests if t.function == function), None)
            if graded is None:
                raise ConfigError(f"{where}: {function} is not a graded test of {a.name}: a public test "
                                  f"takes the name of the visible graded test it stands for")
            if not graded.public:
                raise ConfigError(f"{where}: {function} is {graded.visibility} on Gradescope; "
                                  f"the handout must not carry it")
            if function in written:
                raise ConfigError(f"{where}: {function} is also defined in {written[function]}")
            if public_name != graded.name:
                raise ConfigError(f"{where}: {function} must carry Gradescope's name: "
                                  f"@public({graded.name!r}), not {public_name!r}")
            written[function] = filename
        with open(path, "rb") as f:
            files[f"tests/{filename}"] = f.read()
    missing = [t for t in tests if t.public and t.function not in written]
    if missing:
        files["tests/test_fixed_cases.py"] = _fixed_only_module(missing).encode()
    hand_written = _read_hand_written(a, public_dir, tests)
    cases = fixed_cases(a, [t for t in tests if t.public], hand_written=hand_written)
    data = {
        "assignment": a.name, "title": a.title, "student_file": a.student_file,
        "settings": {"rtol": a.rtol, "atol": a.atol, "examples": a.examples,
                     "instances": min(a.instances, INSTANCES),
                     "call_seconds": a.limits["call_seconds"], "import_seconds": a.limits["import_seconds"],
                     "output_bytes": a.limits["output_bytes"], "memory_mb": a.limits["memory_mb"],
                     "forbidden_imports": list(a.forbidden_imports),
                     "show_student_output": a.show_student_output},
        "tests": {t.function: {"name": t.name, "quantity": t.quantity, "factor": t.factor, "regime": t.regime,
                               "points": t.points, "cases": cases[t.function]} for t in visible.values()},
        "hidden": [{"name": t.name, "visibility": t.visibility, "points": t.points}
                   for t in tests if not t.public],
    }
    files["tests/support/cases.json"] = (dump(data) + "\n").encode()
    files["tests/support/__init__.py"] = SUPPORT_INIT.encode()
    for source, target in COPIED.items():
        with open(os.path.join(HERE, source), "rb") as f:
            files[target] = f.read()
    stub = os.path.join(a.folder, a.student_file)
    if not os.path.isfile(stub):
        raise ConfigError(f"{os.path.relpath(a.folder, ROOT)}: no stub {a.student_file} to hand out")
    with open(stub, "rb") as f:
        files[a.student_file] = f.read()
    files["pytest.ini"] = PYTEST_INI.encode()
    files["README.md"] = readme(a, tests, definition_checked, test_files).encode()
    return files


def build_handout(assignment, out_dir):
    """Writes out_dir/handout.zip for students; returns its path."""
    a = configuration.find(assignment) if isinstance(assignment, str) else assignment
    files = handout_files(a)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "handout.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same bytes every build
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return path


# ---- running the public tests as a student would ---------------------------------------------

BOOT = f"""\
import sys

class _NotOnAStudentsMachine:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {NOT_ON_A_STUDENTS_MACHINE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not on a student's machine)", name=name)
        return None

sys.meta_path.insert(0, _NotOnAStudentsMachine())
import pytest
raise SystemExit(int(pytest.main(sys.argv[1:])))
"""


def student_command(args=()):
    """`pytest ARGS` as on a student's machine: isolated mode, and this project's packages unimportable."""
    return [sys.executable, "-I", "-c", BOOT, *args]


def run_public_tests(folder, args=(), **kwargs):
    """Runs the public tests of an unpacked handout in `folder`; a CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    return subprocess.run(student_command(args), cwd=folder, env=env, **kwargs)


def unpack(zip_path, folder):
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder)
    return folder


def check(assignment_name, submission=None):
    """Builds the handout, puts the submission's student file in it, runs its public tests: pytest's exit code."""
    try:
        a = configuration.find(assignment_name)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    student = None
    if submission is not None:
        from .core import locate
        if not os.path.exists(submission):
            print(f"error: no such file or folder: {submission}", file=sys.stderr)
            return 2
        student, problem = locate(submission, a)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        try:
            zip_path = build_handout(a, os.path.join(tmp, "dist"))
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        folder = unpack(zip_path, os.path.join(tmp, "handout"))
        if student:
            shutil.copyfile(student, os.path.join(folder, a.student_file))
        what = os.path.relpath(student) if student else f"the stub {a.student_file}"
        print(f"public tests of {a.name} on {what}, as a student runs them (pytest in the unpacked handout.zip)",
              flush=True)
        done = run_public_tests(folder, ["-p", "no:cacheprovider"])
    return done.returncode
