"""The student handout: handout.zip, with the stub, public tests and a README.

    build_handout(assignment, out_dir)   writes out_dir/handout.zip

Everything comes from the assignment's data:

- the stub: assignments/NAME/<student_file>;
- which tests are public: the graded tests (assignments/NAME/tests/) whose visibility in
  assignment.yaml is `visible`; the others are hidden, named in the README and nowhere else;
- the definition checks: assignments/NAME/public/test_*.py, written by staff against
  autograder/public.py, one function per visible graded test, of the same function name
  and carrying its Gradescope name, `@public("link_term — W^ℓ with m ≠ n")` (a visible
  test without one still gets a public test that runs its fixed cases);
- the input builders: assignments/NAME/inputs.py, shared by the graded and public tests;
- the fixed cases (handout/cases.py), stored as numbers in tests/support/cases.json;
- tests/support/: byte-for-byte copies, made now, of the engine's modules the public tests
  run (COPIED), in the engine's own layout, so a public test calls and judges as the graded
  test does and its failure reads as the Gradescope one: nothing there imports anything
  but numpy, pytest and Hypothesis;
- README.md, from templates/student_README.md.

Nothing of reference/ and nothing of the graded tests' code goes into the zip.
"""
import ast
import json
import os
import re
import string
import zipfile

from .. import config as configuration
from ..collect import GradedTest, graded_tests  # noqa: F401 (the handout's tests are these)
from ..config import ASSIGNMENT_MODULES, ROOT, ConfigError, where_of
from ..judging.feedback import FACTORS
from .cases import fixed_cases, read_hand_written

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.dirname(HERE)
INSTANCES = 3        # numeric instances per Hypothesis example in the definition checks
COPIED = {           # engine file (under autograder/) -> its place in the handout
    "strategies.py": "tests/support/strategies.py",
    "public.py": "tests/support/public.py",
    "judging/protocol.py": "tests/support/judging/protocol.py",
    "judging/compare.py": "tests/support/judging/compare.py",
    "judging/judge.py": "tests/support/judging/judge.py",
    "judging/programs.py": "tests/support/judging/programs.py",
    "judging/feedback.py": "tests/support/judging/feedback.py",
    "sandbox/runner.py": "tests/support/sandbox/runner.py",
    "handout/student_conftest.py": "tests/conftest.py",
}
PACKAGES = {  # the handout's own package docstrings (the engine's __init__ files describe the engine)
    "tests/support/__init__.py": "The public tests' machinery: copies of the Gradescope grader's own modules. "
                                 "Nothing to edit here.",
    "tests/support/judging/__init__.py": "Judging an answer, as on Gradescope.",
    "tests/support/sandbox/__init__.py": "Running your code, as on Gradescope.",
}
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


def dump(data):
    """JSON, indented, with each fixed case on one line (numbers exact: json writes their repr)."""
    cases, data = [], json.loads(json.dumps(data))
    for entry in data["tests"].values():
        cases += entry["cases"]
        entry["cases"] = [f"@case {len(cases) - len(entry['cases']) + i}@" for i in range(len(entry["cases"]))]
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
    return re.sub(r'"@case (\d+)@"', lambda m: json.dumps(cases[int(m.group(1))], ensure_ascii=False,
                                                          allow_nan=False), text)


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
    return {n.name: (checks(n), name(n), n.decorator_list[0].lineno if n.decorator_list else n.lineno)
            for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def _fixed_only_module(tests):
    lines = ['"""Public tests that only run fixed cases (tests/support/cases.json): inputs whose expected',
             'values the course\'s solution computed when this handout was made. conftest.py runs them."""',
             "from support.public import public", ""]
    for t in tests:
        lines += ["", f"@public({t.name!r})", f"def {t.function}():", '    """Fixed cases only."""', ""]
    return "\n".join(lines).rstrip() + "\n"


# ---- the README -------------------------------------------------------------------------------

def readme(a, tests, definition_checked, test_files):
    """README.md for students, from templates/student_README.md."""
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
            f"- **{t.name}**: `{t.quantity.split(':')[0]}`, {a.factors.get(t.factor, t.factor or 'as named')} "
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
    with open(os.path.join(HERE, "templates", "student_README.md"), encoding="utf-8") as f:
        template = string.Template(f.read())
    own = [(t, own_tolerance(a, t)) for t in public]
    own = "".join(f"; `{t.function}`: {o['rtol']:g} relative, {o['atol']:g} absolute" for t, o in own if o)
    return template.substitute(title=a.title, student_file=a.student_file, public_count=len(public),
                               files=files, rows=rows, rtol=f"{a.rtol:g}", atol=f"{a.atol:g}",
                               own_tolerances=own, hidden=hidden_text, rule=rule)


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
        definition_checked |= {f for f, (checks, _, _) in functions.items() if checks}
        for function, (_, public_name, line) in functions.items():
            where = f"{where_of(path)}, line {line}"
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
    hand_written = read_hand_written(a, public_dir, tests)
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
                               "points": t.points, **own_tolerance(a, t), "cases": cases[t.function]}
                  for t in visible.values()},
        "hidden": [{"name": t.name, "visibility": t.visibility, "points": t.points}
                   for t in tests if not t.public],
    }
    own = {t.factor: a.factors[t.factor] for t in visible.values() if a.factors[t.factor] != FACTORS.get(t.factor)}
    if own:  # the assignment's own words for its factor kinds (the built-in ones ship with feedback.py)
        data["factors"] = own
    files["tests/support/cases.json"] = (dump(data) + "\n").encode()
    for target, text in PACKAGES.items():
        files[target] = f'"""{text}"""\n'.encode()
    for source, target in COPIED.items():
        with open(os.path.join(ENGINE, source), "rb") as f:
            files[target] = f.read()
    for name in ASSIGNMENT_MODULES:  # the input builders the public tests share with the graded ones
        path = os.path.join(a.folder, name + ".py")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files[f"tests/{name}.py"] = f.read()
    stub = os.path.join(a.folder, a.student_file)
    if not os.path.isfile(stub):
        raise ConfigError(f"{os.path.relpath(a.folder, ROOT)}: no stub {a.student_file} to hand out")
    with open(stub, "rb") as f:
        files[a.student_file] = f.read()
    files["pytest.ini"] = PYTEST_INI.encode()
    files["README.md"] = readme(a, tests, definition_checked, test_files).encode()
    return files


def own_tolerance(a, t):
    """{"rtol", "atol"} of a test whose tolerance is not the assignment's, else {} (cases.json stays as it was)."""
    rtol, atol = t.tolerance(a)
    return {} if (rtol, atol) == (a.rtol, a.atol) else {"rtol": rtol, "atol": atol}


def build_handout(assignment, out_dir, files=None):
    """Writes out_dir/handout.zip for students (from `files`, handout_files' result, when given); its path."""
    a = configuration.find(assignment) if isinstance(assignment, str) else assignment
    files = handout_files(a) if files is None else files
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "handout.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same bytes every build
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return path
