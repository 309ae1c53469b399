"""A failing test's shrink, written down once and followed again without Hypothesis (autograder/shrinks.py):
the same results.json as Hypothesis gives, byte for byte, and Hypothesis whenever a path does not fit."""
import glob
import json
import os
import zipfile

from conftest import SUBMISSIONS, failed, grade, in_square_loss, run_gradescope, write_mistake, write_submission
from test_determinism import masked

MISTAKE = "sigmoid-grad-is-sigmoid"  # fails 8 tests, each first on some recorded regime, then shrunk
FOLLOWED = "shrunk along a known path"


def shrinks_in(cache):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(cache, "backprop-autograder", "shrinks", "*",
                                                                        "*.json")))


def graded(submission, tmp_path, cache, name):
    out, log = str(tmp_path / f"{name}.json"), str(tmp_path / f"{name}.log")
    results, _ = grade("backprop", submission, out, env={"XDG_CACHE_HOME": cache}, log=log)
    with open(log, encoding="utf-8") as f:
        return results, masked(out), f.read()


def test_a_mistake_graded_again_is_shrunk_along_its_path_to_the_same_results(tmp_path):
    submission = write_mistake("backprop", MISTAKE, str(tmp_path / "subs"))
    cache = str(tmp_path / "cache")
    results, first, log = graded(submission, tmp_path, cache, "first")
    lost = sorted(t["extra_data"]["test"] for t in failed(results))
    assert FOLLOWED not in log  # nothing known yet: Hypothesis shrank each failure
    assert [n.rsplit("-", 1)[0] for n in shrinks_in(cache)] == lost  # one path per failed test
    _, again, log = graded(submission, tmp_path, cache, "again")
    assert sorted(line.split(":")[0] for line in log.splitlines() if FOLLOWED in line) == lost
    assert again == first


def test_a_path_that_does_not_fit_leaves_the_shrink_to_hypothesis(tmp_path):
    """The sigmoid mistake again, but right where s is a single number: it fails the same tests, yet never
    on a 1-by-1 sigmoid layer, where the sigmoid mistake's shrinks end. Following them would show an example
    this submission passes; Hypothesis must shrink it instead (and the paths that do fit are followed)."""
    source = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8").read()
    line = "return s * (1 - s)  # sigmoid derivative"
    assert source.count(line) == 1
    wider = write_submission(str(tmp_path / "subs"), "wider",
                             source.replace(line, "return s if np.size(s) > 1 else s * (1 - s)  # sigmoid derivative"))
    _, expected, log = graded(wider, tmp_path, str(tmp_path / "fresh"), "fresh")
    assert FOLLOWED not in log
    cache = str(tmp_path / "cache")
    graded(write_mistake("backprop", MISTAKE, str(tmp_path / "subs")), tmp_path, cache, "sigmoid")
    known = shrinks_in(cache)
    results, got, log = graded(wider, tmp_path, cache, "with-paths")
    assert got == expected  # as Hypothesis alone shrinks it
    followed = {line.split(":")[0] for line in log.splitlines() if FOLLOWED in line}
    lost = {t["extra_data"]["test"] for t in failed(results)}
    assert {"test_sigmoid_grad", "test_backprop_one_layer"} <= lost & {n.rsplit("-", 1)[0] for n in known}
    assert not followed & {"test_sigmoid_grad", "test_backprop_one_layer"}  # their paths end on a 1-by-1 layer
    assert "test_backprop_equal_widths" in followed  # no layer is 1 by 1 there: both mistakes fail alike


def test_a_path_is_not_followed_past_a_check_that_turns_out_otherwise(tmp_path):
    """The sigmoid mistake, and also linear_grad wrong where z is (2, 1): it fails every check the sigmoid
    mistake's shrink of test_backprop_one_layer failed, its last one included, but also one that shrink
    passed (a linear (2, 1) layer), where Hypothesis turns to a linear layer. Only Hypothesis may shrink it."""
    source = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8").read()
    twice = write_submission(str(tmp_path / "subs"), "twice", source.replace(
        "return s * (1 - s)  # sigmoid derivative", "return s  # sigmoid derivative").replace(
        "return np.ones_like(z, dtype=float)  # linear derivative",
        "return np.ones_like(z, dtype=float) * (2.0 if np.shape(z) == (2, 1) else 1.0)  # linear derivative"))
    _, expected, _ = graded(twice, tmp_path, str(tmp_path / "fresh"), "fresh")
    cache = str(tmp_path / "cache")
    graded(write_mistake("backprop", MISTAKE, str(tmp_path / "subs")), tmp_path, cache, "sigmoid")
    assert "test_backprop_one_layer" in {n.rsplit("-", 1)[0] for n in shrinks_in(cache)}
    results, got, log = graded(twice, tmp_path, cache, "with-paths")
    assert "test_backprop_one_layer" in {t["extra_data"]["test"] for t in failed(results)}
    assert "test_backprop_one_layer: failed; " + FOLLOWED not in log
    assert got == expected


def test_the_zip_carries_the_shrinks_of_the_corpus_and_gradescope_follows_them(autograder_zip, tmp_path):
    from autograder.shrinks import hypothesis_version
    with zipfile.ZipFile(autograder_zip) as z:
        kept = json.loads(z.read("assignments/backprop/shrinks.json"))
        record = json.loads(z.read("assignments/backprop/record.json"))
    assert kept["hypothesis"] == hypothesis_version() and kept["digest"] == record["digest"]
    assert "test_sigmoid_grad" in {p["test"] for p in kept["paths"]}  # the proof graded the corpus's mistake
    submission = write_mistake("backprop", MISTAKE, str(tmp_path / "subs"))
    results, log = run_gradescope(autograder_zip, submission, str(tmp_path / "root"),
                                  env={"XDG_CACHE_HOME": str(tmp_path / "empty-cache")})
    assert "test_sigmoid_grad: failed; " + FOLLOWED in log, log
    assert "sigmoid_grad" in {t["extra_data"]["quantity"] for t in failed(results)}


def test_a_failure_that_met_a_limit_is_not_written_down(tmp_path):
    """A time limit depends on the machine: a run that met one says nothing about the next machine.
    square_loss (which no other function calls) loops forever on a batch: its batch test times out."""
    slow = write_submission(str(tmp_path / "subs"), "slow", in_square_loss("while np.shape(a)[1] > 1:\n    pass"))
    cache = str(tmp_path / "cache")
    results, _, _ = graded(slow, tmp_path, cache, "slow")
    timed_out = {t["extra_data"]["test"] for t in failed(results) if t["extra_data"].get("error") == "timeout"}
    assert timed_out == {"test_square_loss_batch"}, timed_out
    assert shrinks_in(cache) == []  # it failed nothing else, and its own run met the limit
