"""The student handout (`python -m autograder build` writes handout.zip; `check` runs it for staff).

What a student gets must carry no reference code, no hidden test and no expected value of a
hidden test; its public tests must run with plain pytest where nothing of this project can be
imported, fail the stub with "not implemented yet", pass every correct solution in a few
seconds, and catch the common mistakes on their own.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest

from conftest import ROOT, SUBMISSIONS, assignments, corpus, write_mistake
from facts import FACTS

from autograder import config as configuration
from autograder import handout

ASSIGNMENTS = assignments()
WITH_CORPUS = assignments(with_corpus=True)
# The three mistakes, and their counterparts in the module-style assignment: the
# quantity whose public tests must fail.
COMMON_MISTAKES = {
    "backprop": {"link-term-transposed": "link_term", "dL-dW-transposed": "dL_dW",
                 "backprop-skips-within-layer": "backprop"},
    "nn_modules": {"dLdA-with-W-transposed": "Linear.backward:dLdA", "dLdW-transposed": "Linear.backward:dLdW",
                   "tanh-within-layer-skipped": "Tanh.backward"},
}
CORRECT = [(a, c) for a in WITH_CORPUS for c in sorted(os.listdir(os.path.join(SUBMISSIONS, a)))
           if c.startswith("correct")]


@pytest.fixture(scope="module")
def built(builds):
    """Each assignment's handout.zip, as staff build it: {name: (zip path, {file: bytes})}."""
    out = {}
    for name in ASSIGNMENTS:
        path = os.path.join(builds[name], "handout.zip")
        with zipfile.ZipFile(path) as z:
            out[name] = (path, {n: z.read(n) for n in z.namelist()})
    return out


def run(zip_path, folder, student=None, extra=()):
    """Unpacks the handout into `folder`, puts `student` (a file) in, runs pytest as a student would.

    Returns ({test function: (outcome, text)}, seconds, completed process).
    """
    handout.unpack(zip_path, folder)
    data = json.loads(open(os.path.join(folder, "tests", "support", "cases.json"), encoding="utf-8").read())
    if student:
        shutil.copyfile(student, os.path.join(folder, data["student_file"]))
    xml = folder.rstrip("/") + ".xml"
    started = time.monotonic()
    done = handout.run_public_tests(folder, ["-p", "no:cacheprovider", "-q", "--junitxml", xml, *extra],
                                    capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    outcomes = {}
    for case in ET.parse(xml).iter("testcase"):
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None), "passed")
        element = case.find(kind) if kind != "passed" else None
        text = "" if element is None else (element.get("message", "") + "\n" + (element.text or ""))
        outcomes[case.get("name")] = (kind, text)
    return outcomes, seconds, done


def visible(name):
    return [t for t in handout.graded_tests(configuration.find(name)) if t.public]


def hidden(name):
    return [t for t in handout.graded_tests(configuration.find(name)) if not t.public]


def texts(files):
    return {n: b.decode("utf-8") for n, b in files.items()}


# ---- what is in the zip ------------------------------------------------------------------

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_build_writes_the_handout_beside_autograder_zip(built, name):
    path, files = built[name]
    assert os.path.isfile(os.path.join(os.path.dirname(path), "autograder.zip"))
    a = configuration.find(name)
    assert {a.student_file, "README.md", "pytest.ini", "tests/conftest.py",
            "tests/support/cases.json"} <= set(files)
    with open(os.path.join(a.folder, a.student_file), "rb") as f:
        assert files[a.student_file] == f.read()  # the stub, as it is


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_handout_renders_failures_with_the_engines_own_feedback_module(built, name):
    _, files = built[name]
    for engine, shipped in handout.COPIED.items():
        with open(os.path.join(ROOT, "autograder", engine), "rb") as f:
            assert files[shipped] == f.read(), f"{shipped} is not a copy of autograder/{engine}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_handout_carries_no_reference_code(built, name):
    _, files = built[name]
    a = configuration.find(name)
    shipped = texts(files)
    assert not [n for n in shipped if n.startswith("reference")]
    everything = "\n".join(shipped.values())
    assert not re.search(r"^\s*(from|import)\s+reference\b", everything, re.M)
    with open(a.reference, encoding="utf-8") as f:
        source = f.read()
    with open(os.path.join(a.folder, a.student_file), encoding="utf-8") as f:
        stub_lines = [line.split("  #")[0].strip() for line in f]
    stub = set(stub_lines)
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings |= set(range(body[0].lineno, body[0].end_lineno + 1))
    code = [line.split("  #")[0].strip() for i, line in enumerate(source.splitlines(), 1) if i not in docstrings]
    distinctive = {line for line in code if len(line) >= 16 and not line.startswith("#") and line not in stub}
    assert distinctive  # something to look for (a course's small reference has few such lines)
    shipped_lines = {line.split("  #")[0].strip() for text in shipped.values() for line in text.splitlines()}
    assert distinctive & shipped_lines == set()
    # and no function body of the reference, whitespace aside
    flat = re.sub(r"\s+", "", everything)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            body = [st for st in node.body if not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant))]
            text = re.sub(r"\s+", "", "\n".join(ast.get_source_segment(source, st) for st in body))
            if len(text) >= 20 and text not in re.sub(r"\s+", "", "\n".join(stub_lines)):
                assert text not in flat, f"the body of reference {node.name} is in the handout"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_handout_carries_no_hidden_test(built, name):
    _, files = built[name]
    shipped = texts(files)
    tests = {n: t for n, t in shipped.items() if n.startswith("tests/test_")}
    defined = set()
    for text in tests.values():
        defined |= {n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    assert defined == {t.function for t in visible(name)}
    data = json.loads(shipped["tests/support/cases.json"])
    assert set(data["tests"]) == {t.function for t in visible(name)}
    assert [h["name"] for h in data["hidden"]] == [t.name for t in hidden(name)]
    # no line of a hidden test's code that a visible one does not share
    a = configuration.find(name)
    graded_source = "\n".join(open(os.path.join(a.tests, f), encoding="utf-8").read()
                              for f in sorted(os.listdir(a.tests)) if f.endswith(".py"))
    segments = {n.name: ast.get_source_segment(graded_source, n) for n in ast.parse(graded_source).body
                if isinstance(n, ast.FunctionDef)}
    decorators = {n.name: [ast.get_source_segment(graded_source, d) for d in n.decorator_list]
                  for n in ast.parse(graded_source).body if isinstance(n, ast.FunctionDef)}
    open_lines = {line.strip() for t in visible(name) for line in
                  (segments[t.function].splitlines() + decorators[t.function])}
    everything = "\n".join(shipped.values())
    for t in hidden(name):
        for line in segments[t.function].splitlines()[1:] + decorators[t.function]:
            if len(line.strip()) >= 20 and line.strip() not in open_lines:
                assert line.strip() not in everything, f"{t.function}: {line.strip()!r} is in the handout"


def numbers(value):
    """The floats of a fixed case's expected value, as cases.json would write them."""
    if isinstance(value, np.ndarray):
        return {repr(float(x)) for x in value.ravel()}
    if isinstance(value, dict):
        return set().union(*map(numbers, value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*map(numbers, value)) if value else set()
    return {repr(float(value))} if isinstance(value, (float, np.floating)) else set()


def telling(text):
    """A number that would not turn up by chance: at least six significant digits."""
    return len(text.lstrip("-").replace("0.", "").replace(".", "").lstrip("0")) >= 6


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.skipif(not hidden(n), reason=f"{n} has no hidden test"))
                                  for n in ASSIGNMENTS])
def test_the_handout_carries_no_expected_value_of_a_hidden_test(built, name):
    _, files = built[name]
    everything = "\n".join(texts(files).values())
    a = configuration.find(name)

    def expected_numbers(tests):
        found = set()
        for cases in handout.fixed_cases(a, tests).values():
            for c in cases:
                from autograder.judging.protocol import untag as decode
                found |= {n for n in numbers(decode(c["expected"])) if telling(n)}
        return found
    secret = expected_numbers(hidden(name))
    assert secret
    assert sorted(n for n in secret if n in everything) == []
    shown = expected_numbers(visible(name))  # the same search does find the visible tests' numbers
    assert shown and all(n in everything for n in shown)


# ---- running it as a student would ---------------------------------------------------------

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_students_run_cannot_import_this_project(built, name, tmp_path):
    folder = str(tmp_path / "handout")
    handout.unpack(built[name][0], folder)
    with open(os.path.join(folder, "tests", "test_isolation.py"), "w") as f:
        f.write("import importlib\n\n\ndef test_isolation():\n"
                "    for name in ('autograder', 'reference', 'gradescope_utils', 'yaml'):\n"
                "        try:\n            importlib.import_module(name)\n"
                "        except ImportError:\n            continue\n"
                "        raise AssertionError(name + ' can be imported')\n")
    done = handout.run_public_tests(folder, ["-p", "no:cacheprovider", "-q", "-k", "isolation"],
                                    capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_public_runs_started_warm_give_what_a_fresh_interpreter_gives(tmp_path):
    """validate runs the public tests on a whole corpus, each run forked from one warm interpreter
    (as_student.Students): each gives what `pytest` in a fresh interpreter gives, imports the student's file
    afresh, and one that hangs is stopped at its time limit, or kills the server, while the next still runs."""
    from autograder.handout.as_student import Students, outcomes
    zip_path = handout.build_handout("backprop", str(tmp_path / "dist"))  # validate proves on such a handout
    wrong = os.path.join(write_mistake("backprop", "link-term-transposed", str(tmp_path / "subs")), "backprop.py")
    right = os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")
    hang = tmp_path / "hang.py"
    hang.write_text("while True:\n    pass\n")
    killer = tmp_path / "killer.py"
    killer.write_text("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")

    def run(student, folder, **kwargs):  # the folder's path out of the messages: each run has its own
        found = outcomes(zip_path, str(folder), student, **kwargs)
        return {t: (kind, text.replace(str(folder), "HANDOUT")) for t, (kind, text) in found.items()}
    students = Students()
    try:
        warm = [run(wrong, tmp_path / "warm" / "0", students=students),
                run(right, tmp_path / "warm" / "1", students=students)]
        with pytest.raises(subprocess.TimeoutExpired):
            run(str(hang), tmp_path / "warm" / "hang", timeout=5, students=students)
        if students.server is not None:  # forked (Linux): its parent is the server
            with pytest.raises(RuntimeError, match="ended"):
                run(str(killer), tmp_path / "warm" / "killer", students=students)
        after = run(wrong, tmp_path / "warm" / "2", students=students)
    finally:
        students.close()
    cold = [run(wrong, tmp_path / "cold" / "0"), run(right, tmp_path / "cold" / "1")]
    assert {k for k, _ in cold[0].values()} == {"passed", "failure"}
    assert {k for k, _ in cold[1].values()} == {"passed"}
    assert warm == cold and after == cold[0]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_with_the_stub_every_public_test_fails_as_not_implemented(built, name, tmp_path):
    outcomes, _, done = run(built[name][0], str(tmp_path / "stub"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert set(outcomes) == {t.function for t in visible(name)}
    for test, (kind, text) in outcomes.items():
        assert kind == "failure", (test, kind, text)
        assert "is not implemented yet" in text, (test, text)
        assert "Traceback" not in text, (test, text)


def public_run(proofs, name, role, label):
    """The proof's run of the handout's public tests on one submission, as a student runs them."""
    found = [r for r in proofs[name].runs("public", role) if label in (r["label"], r["mistake"])]
    assert len(found) == 1 and not found[0]["error"], found
    return found[0]


@pytest.mark.parametrize("name,solution", CORRECT)
def test_every_correct_solution_passes_in_a_few_seconds(proofs, name, solution):
    run = public_run(proofs, name, "correct", solution + "/")
    assert {t: k for t, (k, _) in run["outcomes"].items() if k != "passed"} == {}
    assert len(run["outcomes"]) == len(visible(name))
    assert run["seconds"] < 20, f"{run['seconds']:.1f} s"


@pytest.mark.parametrize("name,mistake", [(n, m) for n in ASSIGNMENTS for m in COMMON_MISTAKES.get(n, {})])
def test_the_common_mistakes_are_caught_by_the_public_tests_alone(proofs, name, mistake):
    outcomes = public_run(proofs, name, "mistake", mistake)["outcomes"]
    quantity = COMMON_MISTAKES[name][mistake]
    tests = [t.function for t in visible(name) if t.quantity == quantity]
    assert tests
    assert {t: outcomes[t][0] for t in tests} == {t: "failure" for t in tests}
    for t in tests:
        assert f"This test checks `{quantity}`" in outcomes[t][1]
        assert "**Wrong value:**" in outcomes[t][1] or "raised" in outcomes[t][1]
        assert "**Smallest failing example**" in outcomes[t][1]


@pytest.mark.parametrize("name", WITH_CORPUS)
def test_public_tests_fail_only_what_a_mistake_breaks(proofs, name):
    """Over the whole corpus: a public test never fails a function that a mistake leaves right. The
    proof ran the handout's public tests on every corpus mistake, as a student runs them."""
    mistakes = corpus(name)["mistakes"]
    quantity = {t.function: t.quantity for t in visible(name)}
    runs = {r["mistake"]: r for r in proofs[name].runs("public", "mistake")}
    assert set(runs) == set(mistakes) and {m: r["error"] for m, r in runs.items() if r["error"]} == {}
    assert all(set(r["outcomes"]) == set(quantity) for r in runs.values())
    lost = {m: {quantity[t] for t, (kind, _) in r["outcomes"].items() if kind != "passed"} for m, r in runs.items()}
    blamed = {m: sorted(q - set(mistakes[m]["breaks"])) for m, q in lost.items() if q - set(mistakes[m]["breaks"])}
    assert blamed == {}
    caught = [m for m, q in lost.items() if q]
    if name in FACTS:  # a bundled assignment: the README quotes these counts
        pinned = FACTS[name].corpus
        assert (len(caught), len(mistakes)) == (pinned.caught_by_public_tests, pinned.mistakes), \
            sorted(set(mistakes) - set(caught))


# ---- check, for staff --------------------------------------------------------------------------

def check(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_check_runs_the_public_tests_on_a_submission(tmp_path):
    done = check("backprop", os.path.join(SUBMISSIONS, "backprop", "correct"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout and "failed" not in done.stdout
    wrong = write_mistake("backprop", "link-term-transposed", str(tmp_path))
    done = check("backprop", wrong)
    assert done.returncode == 1
    assert "link_term — W^ℓ with m ≠ n" in done.stdout and "**Wrong value:**" in done.stdout


def test_check_without_a_submission_runs_the_stub():
    done = check("backprop")
    assert done.returncode == 1
    assert "is not implemented yet" in done.stdout


def test_check_reports_usage_errors_with_status_2(tmp_path):
    assert check("no-such-assignment").returncode == 2
    assert check("backprop", str(tmp_path / "missing")).returncode == 2
    (tmp_path / "other.py").write_text("x = 1\n")
    done = check("backprop", str(tmp_path / "other.py"))
    assert done.returncode == 2 and "backprop.py" in done.stderr


def test_the_same_data_builds_the_same_handout(tmp_path):
    first = handout.build_handout("backprop", str(tmp_path / "first"))
    second = handout.build_handout("backprop", str(tmp_path / "second"))
    with open(first, "rb") as f, open(second, "rb") as g:
        assert f.read() == g.read()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_handout_draws_its_fixed_cases_from_the_regimes_grading_sees_first(built, name):
    """The fixed cases' regimes (shapes, layouts) are the first that grading checks; only their numbers differ."""
    from autograder import record
    data = json.loads(built[name][1]["tests/support/cases.json"])
    recorded = {t["function"]: t for t in record.make(configuration.find(name))["tests"]}
    for function, entry in data["tests"].items():
        regimes = recorded[function]["regimes"][:handout.cases.REGIMES]
        titles = [record.case_of(r["case"]).describe() for r in regimes for _ in r["checks"]]
        assert [c["title"] for c in entry["cases"][:len(titles)]] == titles, function
