"""Course staff add their own assignment (docs/authoring.md): `new` writes one that validates and grades,
`validate` proves every assignment under assignments/ and names what is wrong (file, key or test, line),
`build` writes nothing for an assignment that is not proved, and the vocabulary (factor kinds, tolerances)
is the assignment's own on every path: grading, the record, the handout.

What `new` writes is tried on a fresh copy of the checkout, never in it."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, assignments

FRESH = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".venv", "dist", "record.json", ".pytest_cache")


def cli(root, *args, timeout=900):
    """`python -m autograder ARGS` in the checkout at `root` (its own engine, not this one's)."""
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": root})


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """A fresh copy of the checkout where `new demo` and `new demo_module --style module` ran."""
    root = str(tmp_path_factory.mktemp("fresh") / "checkout")
    shutil.copytree(ROOT, root, ignore=FRESH)
    for args in (["demo"], ["demo_module", "--style", "module"]):
        done = cli(root, "new", *args)
        assert done.returncode == 0, done.stderr
    return root


def copy_of(scaffolded, tmp_path):
    """A copy of the scaffolded checkout for one test to change."""
    root = str(tmp_path / "checkout")
    shutil.copytree(scaffolded, root, ignore=FRESH)
    return root


def edit(root, path, old, new):
    path = os.path.join(root, path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.count(old) == 1, (path, old)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new))


# ---- new ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo", "demo_module"])
def test_new_then_validate_passes_on_a_fresh_copy_and_grades_as_written(scaffolded, name):
    assert not os.path.exists(os.path.join(ROOT, "assignments", name))  # the checkout itself is untouched
    for part in (f"assignments/{name}/assignment.yaml", f"assignments/{name}/{name}.py", f"assignments/{name}/inputs.py",
                 f"assignments/{name}/tests/test_{name}.py", f"assignments/{name}/public/test_{name}.py",
                 f"assignments/{name}/misconceptions.yaml", f"reference/{name}.py",
                 f"tests/submissions/{name}/corpus.yaml", f"tests/submissions/{name}/correct/{name}.py"):
        assert os.path.isfile(os.path.join(scaffolded, part)), part
    done = cli(scaffolded, "validate", name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"proved: {name} is ready" in done.stdout and "FAIL" not in done.stdout
    assert re.search(r"grading takes \d+\.\d s for a correct submission", done.stdout)
    done = cli(scaffolded, "grade", name, f"tests/submissions/{name}/correct")
    assert done.returncode == 0 and "2 / 2 points" in done.stdout, done.stdout + done.stderr


def test_new_never_overwrites_and_refuses_names_a_student_file_cannot_take(scaffolded):
    before = open(os.path.join(scaffolded, "assignments", "demo", "demo.py")).read()
    done = cli(scaffolded, "new", "demo")
    assert done.returncode == 2 and "assignments/demo already exists" in done.stderr
    assert open(os.path.join(scaffolded, "assignments", "demo", "demo.py")).read() == before
    for name in ("numpy", "Demo", "2nd", "random"):
        done = cli(scaffolded, "new", name)
        assert done.returncode == 2 and "error:" in done.stderr, (name, done.stderr)
        assert not os.path.exists(os.path.join(scaffolded, "assignments", name))


# ---- validate: what it catches, named by file and line ---------------------------------------------

def test_validate_names_a_misconception_whose_in_names_no_graded_quantity(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    edit(root, "assignments/demo_module/misconceptions.yaml", "in: [Tanh.backward]", "in: [Tanh.backward.dLdZ]")
    done = cli(root, "validate", "demo_module")
    assert done.returncode == 1, done.stdout
    assert re.search(r"assignments/demo_module/misconceptions.yaml, line \d+: entry 'within-layer-term-only', "
                     r"key `in`: Tanh.backward.dLdZ is not a quantity any graded test grades "
                     r"\(did you mean Tanh.backward\?\)", done.stdout), done.stdout
    # and grading says so too, as the course's error (exit status 2), not as the grader's
    done = cli(root, "grade", "demo_module", "tests/submissions/demo_module/correct")
    assert done.returncode == 2 and "configuration: assignments/demo_module/misconceptions.yaml" in done.stderr
    assert "The autograder's configuration is broken" in done.stdout


def test_validate_names_the_file_and_test_of_an_unknown_factor_kind(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    edit(root, "assignments/demo/tests/test_demo.py", '"loss-unit"', '"loss-unt"')
    done = cli(root, "validate", "demo")
    assert done.returncode == 1
    assert re.search(r"assignments/demo/tests/test_demo.py, line \d+: test_square_loss_grad_batch: unknown factor "
                     r"kind 'loss-unt' \(did you mean 'loss-unit'\?\)", done.stdout), done.stdout
    out = str(tmp_path / "r.json")
    done = cli(root, "grade", "demo", "tests/submissions/demo/correct", "--json", out)
    assert done.returncode == 2 and "unknown factor kind 'loss-unt'" in done.stderr
    results = json.load(open(out))
    assert results["extra_data"]["error"] == "configuration" and "itself failed" not in results["output"]


def test_a_misconception_without_says_is_the_courses_error_named_by_file_and_key(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    path = os.path.join(root, "assignments", "demo", "misconceptions.yaml")
    text = open(path).read()
    open(path, "w").write(text[:text.index("  says:")])
    done = cli(root, "grade", "demo", "tests/submissions/demo/correct")
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(r"assignments/demo/misconceptions.yaml, line \d+: entry 1 \('missing-factor-2'\), "
                     r"key `says`: is required", done.stderr), done.stderr
    assert "itself failed" not in done.stdout
    done = cli(root, "validate", "demo")
    assert done.returncode == 1 and "key `says`: is required" in done.stdout


def test_validate_names_the_line_of_a_hand_written_case_that_is_wrong(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    path = os.path.join(root, "assignments", "demo", "public", "cases.yaml")
    original = open(path, encoding="utf-8").read()
    lines = original.splitlines()
    case_line = 1 + next(i for i, line in enumerate(lines) if line.startswith("  - title:"))
    where = "assignments/demo/public/cases.yaml, line"
    for old, new, message in [
            ("test_square_loss_grad_batch:", "test_square_loss_grad:",
             f"{where} {case_line - 1}: 'test_square_loss_grad' is not a graded test of demo"),
            ("    inputs:", "    expected: [[1.0]]\n    inputs:",
             f"{where} {case_line}: test_square_loss_grad_batch, case 1: expected exactly `title` and `inputs`"),
            ("      a: ", "      A: ",
             f"{where} {case_line}: test_square_loss_grad_batch, case 'two examples of one output each, by hand': "
             f"its inputs are not the test's (no a; unknown A); the test's inputs: a, y"),
            ("      y: [[1.0, 1.0]]", "      y: [[1.0, 1.0, 1.0]]",
             f"{where} {case_line}: test_square_loss_grad_batch, case 'two examples of one output each, by hand': "
             f"the reference cannot be judged on these inputs: ValueError: operands could not be broadcast")]:
        assert original.count(old) == 1, old
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(old, new))
        done = cli(root, "validate", "demo")
        assert done.returncode == 1 and message in done.stdout, (message, done.stdout + done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
    # inputs written in another order than the builder's are its inputs all the same
    with open(path, "w", encoding="utf-8") as f:
        f.write(original.replace("      a: [[0.5, -1.0]]\n      y: [[1.0, 1.0]]", "      y: [[1.0, 1.0]]\n      a: [[0.5, -1.0]]"))
    with zipfile.ZipFile(build_handout(root, "demo", str(tmp_path / "dist"))) as z:
        cases = json.loads(z.read("tests/support/cases.json"))["tests"]["test_square_loss_grad_batch"]["cases"]
    (by_hand,) = [c for c in cases if c["title"] == "two examples of one output each, by hand"]
    assert by_hand["call"] == "square_loss_grad(a, y)"


def test_validate_fails_a_stub_that_does_not_raise_and_a_mistake_diagnosed_otherwise(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    edit(root, "assignments/demo/demo.py", 'raise NotImplementedError("square_loss_grad")', "return None")
    edit(root, "tests/submissions/demo/corpus.yaml", "diagnosis: missing-factor-2", "diagnosis: null")
    done = cli(root, "validate", "demo")
    assert done.returncode == 1
    assert "the stub's square_loss_grad — a batch (b > 1): failed without \"not implemented\"" in done.stdout
    assert "the public test test_square_loss_grad_batch on the stub: failure without \"not implemented yet\"" \
        in done.stdout
    assert re.search(r"tests/submissions/demo/corpus.yaml: mistake 'missing-factor-2' is diagnosed as "
                     r"\[missing-factor-2\], but the corpus says null", done.stdout), done.stdout
    assert "entry 'missing-factor-2' (square_loss_grad) is named for no corpus mistake" not in done.stdout


def test_build_writes_nothing_when_the_assignment_is_not_proved(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    edit(root, "assignments/demo/public/test_demo.py", '@public("square_loss_grad — a batch (b > 1)")',
         '@public("square_loss_grad, a batch")')
    out = str(tmp_path / "dist")
    done = cli(root, "build", "demo", "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "test_square_loss_grad_batch must carry Gradescope's name" in done.stdout
    assert "not proved" in done.stderr and "nothing written" in done.stderr
    assert not os.path.exists(out) or os.listdir(out) == []


# ---- the vocabulary is the assignment's own ------------------------------------------------------------

def test_a_declared_factor_kind_is_what_students_read_on_gradescope_and_in_the_handout(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    sentence = "the shift term ∂ŷ/∂β of a made-up layer"
    edit(root, "assignments/demo/assignment.yaml", "# factors:\n", f'factors:\n  shift-term: "{sentence}"\n')
    edit(root, "assignments/demo/tests/test_demo.py", '"loss-unit"', '"shift-term"')
    wrong = str(tmp_path / "wrong")
    os.makedirs(wrong)
    open(os.path.join(wrong, "demo.py"), "w").write("def square_loss_grad(a, y):\n    return a - y\n")
    out = str(tmp_path / "r.json")
    done = cli(root, "grade", "demo", wrong, "--json", out)
    assert done.returncode == 0, done.stderr
    (test,) = json.load(open(out))["tests"]
    assert test["output"].startswith(f"This test checks `square_loss_grad`: {sentence}.")
    assert test["tags"][1] == "shift-term" and test["extra_data"]["diagnosis"] == "missing-factor-2"
    done = cli(root, "check", "demo", os.path.join(wrong, "demo.py"))
    assert done.returncode == 1 and f"This test checks `square_loss_grad`: {sentence}." in done.stdout


def test_a_tests_own_tolerance_judges_the_record_hypothesis_and_the_handout(scaffolded, tmp_path):
    root = copy_of(scaffolded, tmp_path)
    edit(root, "assignments/demo/assignment.yaml", '  # tests:                            # a test',
         '  tests:                              # a test')
    edit(root, "assignments/demo/assignment.yaml", '  #   "test_square_loss_grad_*": {atol: 1.0e-5}',
         '    "test_square_loss_grad_*": {atol: 1.0e-2}')
    close = str(tmp_path / "close")  # off by 0.001 everywhere: within the test's atol, far outside the default
    os.makedirs(close)
    open(os.path.join(close, "demo.py"), "w").write("def square_loss_grad(a, y):\n    return 2 * (a - y) + 0.001\n")
    done = cli(root, "grade", "demo", close)
    assert done.returncode == 0 and "2 / 2 points" in done.stdout, done.stdout
    done = cli(root, "check", "demo", os.path.join(close, "demo.py"))
    assert done.returncode == 0, done.stdout  # the public tests and fixed cases judge with it too
    # wrong only from n = 3 on: Hypothesis, judging with the test's tolerance, shrinks to n = 3, not n = 1
    late = str(tmp_path / "late")
    os.makedirs(late)
    open(os.path.join(late, "demo.py"), "w").write(
        "def square_loss_grad(a, y):\n    return 2 * (a - y) + 0.001 if a.shape[0] < 3 else a - y\n")
    out = str(tmp_path / "r.json")
    done = cli(root, "grade", "demo", late, "--json", out)
    (test,) = json.load(open(out))["tests"]
    assert test["status"] == "failed" and "(n = 3, b = 2)" in test["output"], test["output"]
    assert test["extra_data"]["diagnosis"] == "missing-factor-2"
    # graded(..., atol=...) does the same as the pattern
    edit(root, "assignments/demo/assignment.yaml", '    "test_square_loss_grad_*": {atol: 1.0e-2}',
         '    "test_nothing_*": {atol: 1.0e-2}')
    assert "2 / 2 points" not in cli(root, "grade", "demo", close).stdout
    edit(root, "assignments/demo/tests/test_demo.py", '"a batch (b > 1)")', '"a batch (b > 1)", atol=1e-2)')
    done = cli(root, "grade", "demo", close)
    assert "2 / 2 points" in done.stdout, done.stdout + done.stderr
    with zipfile.ZipFile(build_handout(root, "demo", str(tmp_path / "dist"))) as z:
        cases = json.loads(z.read("tests/support/cases.json"))
    assert cases["tests"]["test_square_loss_grad_batch"]["atol"] == 1e-2
    assert all(c["atol"] == 1e-2 for c in cases["tests"]["test_square_loss_grad_batch"]["cases"])
    # and so does check(..., atol=...): then only the handout's fixed cases carry it
    edit(root, "assignments/demo/tests/test_demo.py", '"a batch (b > 1)", atol=1e-2)', '"a batch (b > 1)")')
    edit(root, "assignments/demo/tests/test_demo.py", 'ref.square_loss_grad)', 'ref.square_loss_grad, atol=1e-2)')
    assert "2 / 2 points" in cli(root, "grade", "demo", close).stdout
    edit(root, "assignments/demo/public/test_demo.py", 'how="central differences', 'atol=1e-2, how="central differences')
    done = cli(root, "check", "demo", os.path.join(close, "demo.py"))
    assert done.returncode == 0, done.stdout


def build_handout(root, name, out):
    done = subprocess.run([sys.executable, "-c", f"from autograder.handout import build_handout; "
                           f"print(build_handout({name!r}, {out!r}))"], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": root}, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ---- the guide, followed to the letter -------------------------------------------------------------------

GUIDE = os.path.join(ROOT, "docs", "authoring.md")
BLOCK = re.compile(r"^```\w*\n# file: (\S+) \((the whole file|add at the end)\)\n(.*?)^```$", re.M | re.S)


def test_the_guides_walkthroughs_give_assignments_that_validate(tmp_path):
    """docs/authoring.md's two walkthroughs, done as written: `new`, then every block it shows, applied in order."""
    with open(GUIDE, encoding="utf-8") as f:
        guide = f.read()
    blocks = BLOCK.findall(guide)
    assert {p.split("/")[1] for p, _, _ in blocks if p.startswith("assignments/")} == {"losses", "affine"}
    assert "python -m autograder new losses" in guide and "python -m autograder new affine --style module" in guide
    root = str(tmp_path / "checkout")
    shutil.copytree(ROOT, root, ignore=FRESH)
    for args in (["losses"], ["affine", "--style", "module"]):
        assert cli(root, "new", *args).returncode == 0
    for path, how, text in blocks:
        with open(os.path.join(root, path), "w" if how == "the whole file" else "a", encoding="utf-8") as f:
            f.write(text)
    for name, points in (("losses", 4), ("affine", 7)):
        done = cli(root, "validate", name)
        assert done.returncode == 0, done.stdout + done.stderr
        done = cli(root, "grade", name, f"tests/submissions/{name}/correct")
        assert f"{points} / {points} points" in done.stdout, done.stdout


# ---- every assignment under assignments/, proved --------------------------------------------------------

@pytest.mark.parametrize("name", assignments())
def test_every_assignment_is_proved_by_validate(proofs, name):
    proved = proofs[name]
    assert proved.status == 0, proved.output
    assert f"proved: {name} is ready" in proved.output
    assert proved.proof["proved"] and proved.proof["problems"] == []
