"""What course staff and students see when a submission is graded: scores, factor-by-factor
failures, diagnoses, messages for broken submissions, and a valid results.json every time."""
import json
import os
import textwrap

import pytest

from conftest import ROOT, SUBMISSIONS, failed, grade, validate, write_submission

CORRECT = ["correct", "correct_loops", "correct_float32", "correct_style"]


@pytest.fixture(scope="module")
def graded_correct(graded_by_proof):
    """Every correct style, as the proof graded it (`python -m autograder grade`, as a TA runs it)."""
    assert set(CORRECT) <= set(graded_by_proof["backprop"]), sorted(graded_by_proof["backprop"])
    return {c: graded_by_proof["backprop"][c] for c in CORRECT}


@pytest.mark.parametrize("style", CORRECT)
def test_every_correct_style_earns_full_marks(graded_correct, style):
    results = graded_correct[style]
    validate(results)
    assert failed(results) == [], [t["name"] for t in failed(results)]
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0


def test_every_test_names_its_function_and_factor(graded_correct):
    kinds = {"loss-unit", "within-layer", "link-term", "weight-term", "chain-step", "forward", "end-to-end"}
    for t in graded_correct["correct"]["tests"]:
        assert t["tags"][0] == t["extra_data"]["quantity"]
        assert t["tags"][1] in kinds
        assert t["output_format"] == "md"
    assert kinds == {t["tags"][1] for t in graded_correct["correct"]["tests"]}


def test_correct_solutions_trigger_no_diagnosis(graded_correct):
    for results in graded_correct.values():
        assert all(t["extra_data"].get("diagnosis") is None for t in results["tests"])


def test_feedback_names_the_factor_and_shows_a_small_example(graded_corpus):
    results = graded_corpus["backprop"]["link-term-transposed"]
    (first, *_) = failed(results)
    text = first["output"]
    assert "link term ∂z^ℓ/∂a^(ℓ-1)" in text
    assert "Likely misconception" in text and "(W^ℓ)ᵀ" in text
    assert "Smallest failing example" in text and "link_term(W)" in text
    assert "shape (" in text


def test_grading_is_deterministic(tmp_path):
    path = write_submission(str(tmp_path), "sub", open(os.path.join(
        SUBMISSIONS, "backprop", "correct", "backprop.py")).read().replace(
        "return W  # link term", "return W.T  # link term"))
    first, _ = grade("backprop", path, str(tmp_path / "a.json"))
    second, _ = grade("backprop", path, str(tmp_path / "b.json"))
    for r in (first, second):
        r.pop("execution_time")
    assert first == second


# ---- broken submissions: a clear message and a valid results.json, every time ----

STUB = os.path.join(ROOT, "assignments", "backprop", "backprop.py")


def grade_text(tmp_path, text, name="sub"):
    path = write_submission(str(tmp_path), name, textwrap.dedent(text))
    results, table = grade("backprop", path, str(tmp_path / f"{name}.json"))
    validate(results)
    return results, table


def test_the_stub_scores_zero_with_not_implemented_messages(tmp_path):
    results, _ = grade("backprop", STUB, str(tmp_path / "r.json"))
    validate(results)
    assert results["score"] == 0 and results["tests"]
    assert all("is not implemented yet" in t["output"] for t in results["tests"])


def test_a_syntax_error_is_reported_with_its_line(tmp_path):
    results, table = grade_text(tmp_path, "import numpy as np\ndef link_term(W)\n    return W\n")
    assert results["score"] == 0
    assert "SyntaxError" in results["output"] or "SyntaxError" in results["tests"][0]["output"]
    assert "line 2" in results["tests"][0]["output"]


def test_a_missing_function_fails_only_its_own_tests(tmp_path):
    text = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")).read()
    start = text.index("def square_loss(")
    end = text.index("\ndef ", start + 1)
    results, _ = grade_text(tmp_path, text[:start] + text[end:])
    lost = {t["extra_data"]["quantity"] for t in failed(results)}
    assert lost == {"square_loss"}
    assert "AttributeError" in failed(results)[0]["output"]


def test_a_missing_file_is_named(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "my_backprop.py").write_text("x = 1\n")
    results, _ = grade("backprop", str(tmp_path / "sub"), str(tmp_path / "r.json"))
    validate(results)
    assert results["score"] == 0
    assert "no file named backprop.py" in results["output"] and "my_backprop.py" in results["output"]


def test_the_student_file_is_found_in_a_subfolder(tmp_path):
    sub = tmp_path / "sub" / "hw" / "code"
    sub.mkdir(parents=True)
    sub.joinpath("backprop.py").write_text(open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")).read())
    results, _ = grade("backprop", str(tmp_path / "sub"), str(tmp_path / "r.json"))
    assert failed(results) == []


def test_two_student_files_are_ambiguous(tmp_path):
    for d in ("a", "b"):
        (tmp_path / "sub" / d).mkdir(parents=True)
        (tmp_path / "sub" / d / "backprop.py").write_text("")
    results, _ = grade("backprop", str(tmp_path / "sub"), str(tmp_path / "r.json"))
    validate(results)
    assert "more than one backprop.py" in results["output"]


def test_nan_wrong_shape_and_non_numbers_are_named(tmp_path):
    text = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")).read()
    text = text.replace("return W  # link term", "return W * np.nan  # link term")
    text = text.replace("return a_prev  # weight term", "return 'a_prev'  # weight term")
    text = text.replace("return np.sum(dL_dz, axis=1, keepdims=True)  # offset gradient",
                        "return np.sum(dL_dz, axis=1)  # offset gradient")
    results, _ = grade_text(tmp_path, text)
    out = {t["extra_data"]["quantity"]: t["output"] for t in failed(results)}
    # the correct solution's two_neuron_backprop calls its own link_term and weight_term
    assert set(out) == {"link_term", "weight_term", "dL_dW0", "backprop", "two_neuron_backprop"}
    assert "nan" in out["link_term"]
    assert "str" in out["weight_term"] and "not a number" in out["weight_term"]
    assert "(1,)" in out["dL_dW0"] or "(2,)" in out["dL_dW0"] or "shape (" in out["dL_dW0"]
    assert "but it should be (" in out["dL_dW0"]


def test_an_infinite_loop_fails_its_function_after_the_time_limit(tmp_path):
    text = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")).read()
    text = text.replace("return W  # link term", "while True: pass  # link term")
    results, _ = grade_text(tmp_path, text)
    out = {t["extra_data"]["quantity"]: t["output"] for t in failed(results)}
    assert set(out) == {"link_term", "two_neuron_backprop"}  # which calls the student's link_term
    assert "timed out after 2 s" in out["link_term"]
    assert results["execution_time"] < 30


def test_a_broken_configuration_still_leaves_results_json(tmp_path):
    folder = tmp_path / "assignment"
    folder.mkdir()
    (folder / "tests").mkdir()
    (folder / "assignment.yaml").write_text("name: backprop\nstudent_file: backprop.py\ntolerance: {rtol: [oops\n")
    results, table = grade(str(folder), STUB, str(tmp_path / "r.json"), status=2)
    validate(results)
    assert results["score"] == 0 and "assignment.yaml" in results["output"] and "not valid YAML" in results["output"]
    (folder / "assignment.yaml").write_text("name: backprop\nstudent_file: backprop.py\ntolerence: {rtol: 1}\n")
    results, _ = grade(str(folder), STUB, str(tmp_path / "r.json"), status=2)
    assert "`tolerence`" in results["output"] and "did you mean `tolerance`" in results["output"]
    (folder / "assignment.yaml").write_text("name: backprop\nstudent_file: backprop.py\nlimits: {call_seconds: -1}\n")
    results, _ = grade(str(folder), STUB, str(tmp_path / "r.json"), status=2)
    assert "`limits.call_seconds`" in results["output"] and "positive" in results["output"]


def test_results_json_keeps_stdout_hidden_and_times_as_numbers(graded_correct):
    results = graded_correct["correct"]
    assert results["stdout_visibility"] == "hidden"
    assert isinstance(results["execution_time"], float)
    json.dumps(results)
