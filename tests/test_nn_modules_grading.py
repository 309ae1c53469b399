"""The module-style assignment nn_modules as course staff and students see it: full marks for
correct code however it is written, points lost only on the quantity a mistake breaks, the
right misconception or none, feedback that names the output and the step, valid results.json."""
import os

import numpy as np
import pytest

from conftest import ROOT, SUBMISSIONS, copied_assignment, failed, grade_many, validate

CORRECT = ["correct", "correct_recompute", "correct_style", "correct_choice", "correct_permutation"]
QUANTITIES = {
    "Linear.forward", "Linear.backward:dLdW", "Linear.backward:dLdW0", "Linear.backward:dLdA",
    "Linear.sgd_step", "Tanh.forward", "Tanh.backward", "ReLU.forward", "ReLU.backward",
    "SoftMax.forward", "SoftMax.backward", "SoftMax.class_fun", "NLL.forward", "NLL.backward",
    "Sequential.forward", "Sequential.backward", "Sequential.sgd_step", "Sequential.sgd"}
FACTORS = {"forward", "weight-term", "link-term", "chain-step", "within-layer", "loss-unit", "update",
           "end-to-end"}
STUB = os.path.join(ROOT, "assignments", "nn_modules", "nn_modules.py")


def base():
    with open(os.path.join(SUBMISSIONS, "nn_modules", "correct", "nn_modules.py"), encoding="utf-8") as f:
        return f.read()


def edited(text, *replacements):
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


# Correct, but hard on the grader: in-place updates, scribbling on the arrays it is given
# after using them, a different random draw in sgd, and the course's historical file name.
IN_PLACE = edited(
    base(),
    ("self.W = self.W - lrate * self.dLdW  # W step", "self.W -= lrate * self.dLdW  # W step"),
    ("self.W0 = self.W0 - lrate * self.dLdW0  # W0 step", "self.W0 -= lrate * self.dLdW0  # W0 step"),
    ("return self.W @ dLdZ  # dLdA", "dLdA = self.W @ dLdZ\n        dLdZ[...] = 0.0  # scribble\n        return dLdA"),
    ("self.A = np.maximum(0, Z)", "self.A = np.maximum(0, Z, out=Z)  # overwrites its input"),
    ("i = np.random.randint(N)", "i = int(np.random.default_rng().integers(N))"),
)
# Wrong in Tanh.forward (what it returns and what it keeps), so Tanh.backward is wrong too.
TANH_FORWARD_WRONG = edited(base(), ("self.A = np.tanh(Z)", "self.A = np.tanh(Z) + 0.5"))
# NLL.forward raises before it keeps anything, and NLL.backward has the wrong sign: backward is
# graded on the state the grader sets, and says so.
NLL_FORWARD_RAISES = edited(
    base(),
    ("self.Ypred = Ypred\n        self.Y = Y", "raise ValueError(\"not yet\")"),
    ("return self.Ypred - self.Y  # dL/dZ", "return self.Y - self.Ypred  # dL/dZ"))
# Linear.backward sets a transposed dLdW, then raises on dLdA when m != n.
DLDW_WRONG_THEN_RAISES = edited(
    base(),
    ("self.dLdW = self.A @ dLdZ.T  # weight gradient", "self.dLdW = dLdZ @ self.A.T  # weight gradient"),
    ("return self.W @ dLdZ  # dLdA", "return self.W.T @ dLdZ  # dLdA"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, graded_by_proof):
    """The correct styles and the stub (as the proof graded them), and four hard variants graded once (two
    at a time)."""
    folder = str(tmp_path_factory.mktemp("nn_modules"))
    proved = graded_by_proof["nn_modules"]
    assert set(CORRECT) <= set(proved), sorted(proved)
    paths = []
    for name, file, text in (("in_place", "code_for_hw7.py", IN_PLACE),
                             ("tanh_forward_wrong", "nn_modules.py", TANH_FORWARD_WRONG),
                             ("nll_forward_raises", "nn_modules.py", NLL_FORWARD_RAISES),
                             ("dLdW_wrong_then_raises", "nn_modules.py", DLDW_WRONG_THEN_RAISES)):
        os.makedirs(os.path.join(folder, name))
        with open(os.path.join(folder, name, file), "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(os.path.join(folder, name))
    graded = {os.path.basename(p): r for p, r in grade_many("nn_modules", paths, folder).items()}
    return {**graded, **{c: proved[c] for c in CORRECT}, os.path.basename(STUB): proved["stub"]}


@pytest.mark.parametrize("style", CORRECT + ["in_place"])
def test_every_correct_style_earns_full_marks(graded, style):
    results = graded[style]
    validate(results)
    assert failed(results) == [], [t["name"] for t in failed(results)]
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0


def test_every_test_names_its_class_method_quantity_and_factor(graded):
    tests = graded["correct"]["tests"]
    for t in tests:
        quantity = t["extra_data"]["quantity"]
        assert t["tags"][0] == quantity.split(":")[0] and "." in t["tags"][0]
        assert t["tags"][1] in FACTORS
        assert t["tags"][2:] == ([quantity] if ":" in quantity else [])
        assert t["output_format"] == "md"
    assert {t["extra_data"]["quantity"] for t in tests} == QUANTITIES
    assert {t["tags"][1] for t in tests} == FACTORS


def test_correct_solutions_trigger_no_diagnosis(graded):
    for style in CORRECT + ["in_place"]:
        assert all(t["extra_data"].get("diagnosis") is None for t in graded[style]["tests"])


def test_feedback_names_the_output_the_program_and_the_misconception(graded_corpus):
    (test,) = [t for t in failed(graded_corpus["nn_modules"]["dLdW0-not-summed"])
               if t["extra_data"]["quantity"] == "Linear.backward:dLdW0"]
    text = test["output"]
    assert "**Likely misconception:** Your dLdW0 is dL/dZ itself, shape (n, b)" in text
    assert "**Wrong value:** `lin.dLdW0`: the shape is" in text
    assert "lin = Linear(" in text and ("try:\n    Z = lin.forward(A)\nexcept Exception:\n    lin.A = A\n"
                                        "try:\n    lin.backward(dLdZ)\nexcept Exception:\n    pass\n"
                                        "dLdW0 = lin.dLdW0 with") in text
    assert "dLdZ = [[" in text and "shape (" in text


def test_a_backward_is_graded_on_the_stored_state_when_its_forward_raises(graded, graded_corpus):
    results = graded_corpus["nn_modules"]["linear-forward-not-implemented"]
    assert not [t["name"] for t in failed(results) if t["extra_data"]["quantity"].startswith("Linear.backward")]
    out = {t["name"]: t["output"] for t in failed(graded["nll_forward_raises"])}
    assert {t["extra_data"]["quantity"] for t in failed(graded["nll_forward_raises"])} == {
        "NLL.forward", "NLL.backward", "Sequential.sgd"}
    text = out["NLL.backward — a batch (b > 1), one column per example"]
    assert "**Likely misconception:** Your result has the wrong sign" in text
    assert ("**Note:** `nll.forward(Ypred, Y)` raised ValueError: not yet. The grader then set what the contract "
            "says `nll.forward` keeps (`nll.Ypred = Ypred; nll.Y = Y`) and went on: what follows was checked on "
            "that stored state.") in text
    assert "try:\n    L = nll.forward(Ypred, Y)\nexcept Exception:\n    nll.Ypred = Ypred\n    nll.Y = Y\n" in text


def test_what_a_backward_set_before_it_raised_is_still_graded(graded):
    out = {t["name"]: t["output"] for t in failed(graded["dLdW_wrong_then_raises"])}
    assert {t["extra_data"]["quantity"] for t in failed(graded["dLdW_wrong_then_raises"])} == {
        "Linear.backward:dLdW", "Linear.backward:dLdA", "Sequential.backward", "Sequential.sgd"}
    text = out["Linear.backward:dLdW — one column (b = 1), m ≠ n"]
    assert "**Likely misconception:** Your dLdW is transposed" in text and "**Wrong value:** `lin.dLdW`" in text
    assert "**Note:** `lin.backward(dLdZ)` raised ValueError" in text
    assert "The grader went on, so what it had set before it raised was still checked." in text


def test_a_sampler_that_misses_a_column_is_named(graded_corpus):
    (test,) = failed(graded_corpus["nn_modules"]["sgd-randint-misses-last-column"])
    assert test["name"].startswith("Sequential.sgd — one-hot columns through a Linear and SoftMax: every column")
    assert test["extra_data"]["diagnosis"] == "sampler-misses-a-column"
    assert "is what it was before, but it should have changed" in test["output"]
    assert "expected: every row different from `before`, where\nbefore = [[" in test["output"]
    (test,) = [t for t in failed(graded_corpus["nn_modules"]["sgd-randint-one-past-the-end"])
               if "each net.sgd(X, Y, iters=1)" in t["name"]]
    assert "(read as `W_" in test["output"] and "it is none of the" in test["output"]
    assert "against the nearest, one step on column" in test["output"]


def test_a_wrong_forward_is_noted_in_the_backward_test(graded):
    out = {t["extra_data"]["quantity"]: t["output"] for t in failed(graded["tanh_forward_wrong"])}
    assert {"Tanh.forward", "Tanh.backward"} <= set(out)
    assert "Note: `tanh.forward(Z)`, which this test runs first on the same inputs, is wrong too" in out["Tanh.backward"]
    assert "Note:" not in out["Tanh.forward"]


def test_the_stub_scores_zero_and_each_test_names_the_step_not_implemented(graded):
    results = graded["nn_modules.py"]
    validate(results)
    assert results["score"] == 0 and len(results["tests"]) == len(graded["correct"]["tests"])
    for t in results["tests"]:
        assert "is not implemented yet" in t["output"], t["name"]
    backward = [t["output"] for t in results["tests"] if t["extra_data"]["quantity"].startswith("Linear.backward")]
    assert backward and all("**`lin.backward` is not implemented yet**" in o for o in backward)
    assert all("**Note:** `lin.forward(A)` raised NotImplementedError" in o for o in backward)


def test_the_gradescope_path_grades_nn_modules(tmp_path, builds):
    import zipfile
    from conftest import run_gradescope
    zip_path = os.path.join(builds["nn_modules"], "autograder.zip")  # `python -m autograder build nn_modules`
    names = zipfile.ZipFile(zip_path).namelist()
    assert "reference/nn_modules.py" in names and "assignments/nn_modules/tests/test_nn_modules.py" in names
    results, log = run_gradescope(zip_path,
                                  os.path.join(SUBMISSIONS, "nn_modules", "correct_style"), str(tmp_path / "root"))
    validate(results)
    assert failed(results) == [] and results["score"] == sum(t["max_score"] for t in results["tests"]) > 0, log


# ---- the engine's programs, without a worker ------------------------------------------------

def test_a_program_is_steps_for_the_worker_and_python_for_the_student():
    from autograder.testing import program
    build = program("""
        lin = Linear(*W.shape)
        lin.W = W
        Z = lin.forward(A)
        np.random.seed(3)
        loss = NLL()
        net = Sequential([lin], loss)
        net.sgd(A, A, iters=2, lrate=0.5)
        W_after = lin.W
    """)
    calls = build(dict(W=np.ones((3, 2)), A=np.zeros((3, 1))))
    assert calls.shown.split("\n") == [
        "lin = Linear(3, 2)", "lin.W = W", "Z = lin.forward(A)", "np.random.seed(3)", "loss = NLL()",
        "net = Sequential([lin], loss)", "net.sgd(A, A, iters=2, lrate=0.5)", "W_after = lin.W"]
    assert calls.outputs == ["Z", "W_after"]
    assert calls.labels == {"Z": "lin.forward(A)", "W_after": "lin.W"}
    assert calls.texts[2] == "lin.forward(A)"
    W = {"array": [[3, 2], [1.0] * 6]}
    assert calls.steps == [
        {"call": "Linear", "args": [3, 2], "as": "lin"},
        {"set": ["lin", "W"], "value": W},
        {"method": ["lin", "forward"], "args": [{"array": [[3, 1], [0.0] * 3]}], "as": "Z", "out": True},
        {"seed": 3},
        {"call": "NLL", "args": [], "as": "loss"},
        {"call": "Sequential", "args": [[{"ref": "lin"}], {"ref": "loss"}], "as": "net"},
        {"method": ["net", "sgd"], "args": [{"array": [[3, 1], [0.0] * 3]}] * 2,
         "kwargs": {"iters": 2, "lrate": 0.5}},
        {"get": ["lin", "W"], "as": "W_after", "out": True}]


def test_a_try_block_is_steps_the_worker_carries_on_from(tmp_path):
    from autograder.sandbox.runner import BoundedText, Runner
    from autograder.testing import program
    build = program("""
        lin = Linear(2, 3)
        try:
            Z = lin.forward(A)
            lin.never()
        except Exception:
            lin.A = A
        try:
            lin.backward(A)
        except Exception:
            pass
        dLdW = lin.dLdW
        try:
            lin.forward(A)
        except Exception:
            lin.B = A
        try:
            B = lin.B
        except Exception:
            pass
    """)
    calls = build(dict(A=np.ones((2, 1))))
    assert calls.shown.split("\n") == [
        "lin = Linear(2, 3)", "try:", "    Z = lin.forward(A)", "    lin.never()", "except Exception:", "    lin.A = A",
        "try:", "    lin.backward(A)", "except Exception:", "    pass", "dLdW = lin.dLdW",
        "try:", "    lin.forward(A)", "except Exception:", "    lin.B = A",
        "try:", "    B = lin.B", "except Exception:", "    pass"]
    assert [(st.get("try"), st.get("except")) for st in calls.steps] == [
        (None, None), (1, None), (1, None), (None, 1), (2, None), (None, None), (4, None), (None, 4), (5, None)]
    student = tmp_path / "student_try.py"
    student.write_text("class Linear:\n    def __init__(self, m, n):\n        self.calls = 0\n"
                       "    def forward(self, A):\n        self.calls += 1\n"
                       "        if self.calls == 1:\n            raise ValueError('first')\n        return A\n"
                       "    def never(self):\n        raise AssertionError('skipped: forward raised before it')\n"
                       "    def backward(self, d):\n        self.dLdW = d\n        raise KeyError('after')\n")
    runner = Runner(str(student), "student_try", {"call_seconds": 2, "import_seconds": 2})
    runner.load()
    result = runner.run(calls.steps, BoundedText(100))
    assert "error" not in result
    assert [(r["step"], r["type"]) for r in result["raised"]] == [(1, "ValueError"), (4, "KeyError"),
                                                                  (8, "AttributeError")]
    assert result["outputs"] == [{"not_computed": 1},  # Z: its call raised
                                 {"array": [[2, 1], [1.0, 1.0]]},  # dLdW, set before backward raised
                                 {"not_computed": 8}]  # lin.B: the second forward did not raise


@pytest.mark.parametrize("text", ["x.W = W", "lin = Linear(2, 2); lin.W += W", "y = x.forward(A)",
                                  "for i in range(3): pass",
                                  "lin = Linear(2, 2)\ntry:\n    lin.f()\nexcept ValueError:\n    pass",
                                  "lin = Linear(2, 2)\ntry:\n    lin.f()\nexcept Exception as e:\n    pass",
                                  "lin = Linear(2, 2)\ntry:\n    lin.f()\nfinally:\n    pass",
                                  "lin = Linear(2, 2)\ntry:\n    try:\n        lin.f()\n    except Exception:\n"
                                  "        pass\nexcept Exception:\n    pass"])
def test_a_program_that_is_not_calls_sets_and_reads_is_refused(text):
    from autograder.testing import program
    with pytest.raises(ValueError, match="program"):
        program(text)


def test_squeezed_accepts_only_axes_of_length_one():
    from autograder.testing import squeezed
    flat = np.arange(3.0)
    assert squeezed(np.arange(3.0).reshape(1, 3), flat).shape == (3,)
    assert squeezed(np.arange(3.0).reshape(3, 1), flat).shape == (3,)
    assert squeezed(np.arange(6.0).reshape(2, 3), np.arange(3.0)).shape == (2, 3)
    assert squeezed(3.0, 3.0) == 3.0


# ---- an optional test: the course's exact values at seed 0 --------------------------------------


def test_the_seed0_test_runs_only_where_assignment_yaml_names_it(graded, tmp_path):
    assert all(t["extra_data"]["test"] != "test_sequential_sgd_seed0" for t in graded["correct"]["tests"])
    folder = copied_assignment(tmp_path, 'optional_tests: ["test_sequential_sgd_seed0"]', name="nn_modules")
    paths = [os.path.join(SUBMISSIONS, "nn_modules", s) for s in ("correct", "correct_choice", "correct_permutation")]
    results = {os.path.basename(p): r for p, r in grade_many(folder, paths, str(tmp_path)).items()}
    for style, r in results.items():
        validate(r)
        assert len(r["tests"]) == len(graded["correct"]["tests"]) + 1
    assert failed(results["correct"]) == [] and failed(results["correct_choice"]) == []
    (seed0,) = failed(results["correct_permutation"])  # another sampler draws other columns at seed 0
    assert seed0["extra_data"]["test"] == "test_sequential_sgd_seed0"
    assert "np.random.seed(0); l1 = Linear(" in seed0["output"].replace("\n", "; ")


@pytest.mark.parametrize("value,message", [
    ('["test_sequential_sgd_seed1"]', "'test_sequential_sgd_seed1' names no test"),
    ('["test_linear_forward_*"]', "names a test that is not optional (it always runs)"),
    ("3", "key `optional_tests`: expected a list of names, got 3")])
def test_optional_tests_must_name_optional_tests(tmp_path, value, message):
    import subprocess
    import sys
    folder = copied_assignment(tmp_path, f"optional_tests: {value}", name="nn_modules")
    line = len(open(os.path.join(folder, "assignment.yaml"), encoding="utf-8").read().splitlines())
    done = subprocess.run([sys.executable, "-m", "autograder", "build", folder, "--out", str(tmp_path / "dist")],
                          cwd=ROOT, capture_output=True, text=True)
    # build proves the assignment first: the problem is named as validate names it, with its line
    assert done.returncode == 2 and message in done.stdout + done.stderr, done.stdout + done.stderr
    assert f"(line {line})" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and not os.path.exists(tmp_path / "dist")


# ---- sets of acceptable values, and the seeds sgd is graded at ------------------------------------

def test_one_of_and_moved_accept_what_they_say_and_survive_cases_json():
    import json
    from autograder.judging.compare import Moved, OneOf, compare
    from autograder.judging.protocol import tag, untag
    before = np.arange(6.0).reshape(3, 2)
    moved = Moved(before, np.array([1.0, 1.0, 0.0]))
    assert compare(moved, before + [[1], [1], [0]], 1e-4, 1e-6) is None
    assert "row 1 is what it was before" in compare(moved, before + [[1], [0], [0]], 1e-4, 1e-6).what
    assert "row 2 changed" in compare(moved, before + 1, 1e-4, 1e-6).what
    one_of = OneOf([before, before + 1], ["the first", "the second"])
    assert compare(one_of, before + 1, 1e-4, 1e-6) is None
    m = compare(one_of, before + 1.1, 1e-4, 1e-6)
    assert "none of the 2 acceptable values; against the nearest, the second: at [0, 0]" in m.what
    assert np.array_equal(m.expected, before + 1)
    for kind in (moved, one_of, {"W_1": one_of}):
        back = untag(json.loads(json.dumps(tag(kind))))
        assert compare(kind, back, 1e-4, 1e-6) is None and compare(back, kind, 1e-4, 1e-6) is None
    assert compare(moved, Moved(before, np.ones(3)), 1e-4, 1e-6) is not None  # they accept different values


def test_every_column_is_drawn_at_the_seeds_sgd_is_graded_at():
    from autograder import config as configuration
    from autograder.strategies import Case, Draw
    with configuration.find("nn_modules").importable():
        from inputs import COVERAGE_ITERS, sgd_columns_inputs
        for N in (3, 4):
            for i in range(20):
                inputs = sgd_columns_inputs(Draw(np.random.default_rng([N, i])), Case({"N": N, "K": 2}, 0))
                for draw in ("randint", "choice"):  # as a student's loop draws, one column an iteration
                    np.random.seed(inputs["seed"])
                    drawn = {int(getattr(np.random, draw)(N)) for _ in range(COVERAGE_ITERS)}
                    assert drawn == set(range(N)), (N, i, draw)
