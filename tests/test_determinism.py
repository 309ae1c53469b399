"""Every student and every regrade sees the same examples (README, "Determinism"), held where it matters:
on a mistake that only some regimes show (sigmoid_grad returning the sigmoid fails backprop's tests only
on a regime with a sigmoid layer), graded from scratch each time, with no record in the cache to lean on.
"""
import json
import os
import re
import subprocess
import sys

from conftest import ROOT, SUBMISSIONS, failed, grade, write_mistake, write_submission

from autograder import config

MISTAKE = "sigmoid-grad-is-sigmoid"


def masked(path):
    """A results.json's bytes, but for the one field that says how long grading took."""
    with open(path, "rb") as f:
        return re.sub(rb'"execution_time": [0-9.e+-]+', b'"execution_time": 0', f.read())


def cached_records(cache):
    folder = os.path.join(cache, "backprop-autograder")
    return [open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))
            if os.path.isfile(os.path.join(folder, n))]  # the records (not the shrinks folder)


def test_regrades_from_scratch_give_byte_identical_results(tmp_path):
    submission = write_mistake("backprop", MISTAKE, str(tmp_path / "subs"))
    outs, records = [], []
    for i in range(3):
        cache, out = str(tmp_path / f"cache{i}"), str(tmp_path / f"results{i}.json")
        results, _ = grade("backprop", submission, out, env={"XDG_CACHE_HOME": cache})
        assert "sigmoid_grad" in {t["extra_data"]["quantity"] for t in failed(results)}
        outs.append(masked(out))
        records.append(cached_records(cache))
    assert len(records[0]) == 1  # each grading made its own record...
    assert records[1] == records[0] and records[2] == records[0]  # ...of the same regimes and instances
    assert outs[1] == outs[0] and outs[2] == outs[0]


def test_hypothesis_finds_again_the_one_regime_a_mistake_shows_on(tmp_path):
    """A link_term wrong on one input alone, drawn by the record's sixth regime: the graded test's
    Hypothesis must draw that regime again (the same seed), so it fails there, rather than pass and
    leave the record's verdict to stand on its own."""
    from autograder.handout.build import graded_tests
    from autograder.record import recorded_examples
    a = config.find("backprop")
    with a.importable():
        test = next(t for t in graded_tests(a) if t.function == "test_link_term_rectangular")
        check = recorded_examples(test.test, a.examples, a.seed)[5][0]
        W = check.case.instances(check.build, a.instances)[0]["W"]
    source = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8").read()
    wrong = (f"    if np.shape(W) == {W.shape!r} and np.array_equal(W, np.array({W.tolist()!r})):\n"
             f"        return 2 * W\n    return W  # link term")
    submission = write_submission(str(tmp_path), "one-input", source.replace("    return W  # link term", wrong))
    out, log = str(tmp_path / "r.json"), str(tmp_path / "log.txt")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "backprop", submission, "--json", out,
                           "--log", log], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8") as f:
        lost = [t["extra_data"]["test"] for t in failed(json.load(f))]
    assert lost == ["test_link_term_rectangular"]
    with open(log, encoding="utf-8") as f:
        assert "not under Hypothesis" not in f.read()


def test_a_class_graded_twice_from_scratch_gives_a_byte_identical_scores_csv(tmp_path, monkeypatch):
    from autograder.classroom import run
    for name in (MISTAKE, "tanh-grad-is-tanh", "dL-dW-transposed"):
        write_mistake("backprop", name, str(tmp_path / "class"))
    got = []
    for i in range(2):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / f"cache{i}"))
        out = str(tmp_path / f"out{i}")
        assert run.run_batch("backprop", str(tmp_path / "class"), out, jobs=2, progress=False) == 0
        with open(os.path.join(out, "scores.csv"), "rb") as f:
            got.append((f.read(), [masked(os.path.join(out, n, "results.json")) for n in sorted(os.listdir(out))
                                   if os.path.isfile(os.path.join(out, n, "results.json"))]))
    assert got[1] == got[0]
    assert len(got[0][1]) == 3
