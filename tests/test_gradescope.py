"""The Gradescope path, as Gradescope runs it: build the zip, unzip it into ROOT/source, put the
submission in ROOT/submission, run `AUTOGRADER_ROOT=ROOT bash ROOT/source/run_autograder`."""
import os
import subprocess
import zipfile

import pytest

from conftest import ROOT, SUBMISSIONS, failed, run_gradescope, validate, write_mistake, write_submission


def test_the_zip_has_the_entry_points_at_its_root_and_no_other_assignment(autograder_zip):
    names = zipfile.ZipFile(autograder_zip).namelist()
    assert "setup.sh" in names and "run_autograder" in names and "ASSIGNMENT" in names
    assert "reference/backprop.py" in names and "autograder/sandbox/worker.py" in names
    assert not any(n.startswith("tests/") for n in names)
    assert not any(n.startswith("assignments/") and not n.startswith("assignments/backprop/") for n in names)


@pytest.mark.parametrize("kind", ["correct", "wrong", "crashing", "empty"])
def test_run_autograder_writes_valid_results(tmp_path, autograder_zip, kind):
    if kind == "correct":
        sub = os.path.join(SUBMISSIONS, "backprop", "correct")
    elif kind == "wrong":
        sub = write_mistake("backprop", "dL-dW-transposed", str(tmp_path))
    elif kind == "crashing":
        sub = write_submission(str(tmp_path), "crash", "import numpy as np\nraise RuntimeError('oops')\n")
    else:
        sub = str(tmp_path / "empty")
        os.makedirs(sub)
    results, log = run_gradescope(autograder_zip, sub, str(tmp_path / "root"))
    validate(results)
    total = sum(t["max_score"] for t in results["tests"])
    assert total > 0, log
    if kind == "correct":
        assert results["score"] == total
    elif kind == "wrong":
        assert {t["extra_data"]["quantity"] for t in failed(results)} == {"dL_dW", "backprop"}
    elif kind == "crashing":
        assert results["score"] == 0 and "RuntimeError: oops" in results["tests"][0]["output"]
    else:
        assert results["score"] == 0 and "no file named backprop.py" in results["output"]


def test_a_dead_grader_still_leaves_a_results_json(tmp_path, autograder_zip):
    root = tmp_path / "root"
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON="/bin/false")
    with zipfile.ZipFile(autograder_zip) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, timeout=60)
    import json
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 0 and "not a problem with your submission" in results["output"]


def test_setup_sh_is_valid_bash_and_creates_the_sandbox_user():
    text = open(os.path.join(ROOT, "setup.sh")).read()
    assert subprocess.run(["bash", "-n", os.path.join(ROOT, "setup.sh")]).returncode == 0
    assert "useradd" in text and "student" in text
    for package in ("numpy==", "pytest==", "hypothesis==", "pyyaml==", "gradescope-utils==", "tqdm==", "nbformat=="):
        assert package in text
