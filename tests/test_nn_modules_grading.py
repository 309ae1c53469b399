"""The module-style assignment nn_modules as course staff and students see it: full marks for
correct code however it is written, points lost only on the quantity a mistake breaks, the
right misconception or none, feedback that names the output and the step, valid results.json."""
import os

import numpy as np
import pytest

from conftest import ROOT, SUBMISSIONS, failed, grade_many, validate

CORRECT = ["correct", "correct_recompute", "correct_style"]
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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The correct styles, two hard variants and the stub, graded once (two at a time)."""
    folder = str(tmp_path_factory.mktemp("nn_modules"))
    paths = [os.path.join(SUBMISSIONS, "nn_modules", c) for c in CORRECT]
    for name, file, text in (("in_place", "code_for_hw7.py", IN_PLACE),
                             ("tanh_forward_wrong", "nn_modules.py", TANH_FORWARD_WRONG)):
        os.makedirs(os.path.join(folder, name))
        with open(os.path.join(folder, name, file), "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(os.path.join(folder, name))
    paths.append(STUB)
    return {os.path.basename(p): r for p, r in grade_many("nn_modules", paths, folder).items()}


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
    assert "lin = Linear(" in text and "Z = lin.forward(A)\nlin.backward(dLdZ)\ndLdW0 = lin.dLdW0 with" in text
    assert "dLdZ = [[" in text and "shape (" in text


def test_a_forward_that_raises_is_named_in_the_backward_test(graded_corpus):
    out = {t["name"]: t["output"] for t in failed(graded_corpus["nn_modules"]["linear-forward-W-not-transposed"])}
    text = out["Linear.backward:dLdA — W with m ≠ n"]
    assert "**`lin.forward(A) (step 4 of: lin = Linear(" in text and "raised ValueError" in text


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
    assert backward and all("**`lin.forward` is not implemented yet**" in o for o in backward)


def test_the_gradescope_path_grades_nn_modules(tmp_path):
    import subprocess
    import sys
    import zipfile
    from conftest import run_gradescope
    done = subprocess.run([sys.executable, "-m", "autograder", "build", "nn_modules", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    names = zipfile.ZipFile(tmp_path / "autograder.zip").namelist()
    assert "reference/nn_modules.py" in names and "assignments/nn_modules/tests/test_nn_modules.py" in names
    results, log = run_gradescope(str(tmp_path / "autograder.zip"),
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


@pytest.mark.parametrize("text", ["x.W = W", "lin = Linear(2, 2); lin.W += W", "y = x.forward(A)",
                                  "for i in range(3): pass"])
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
