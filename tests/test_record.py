"""The record (autograder/record.py): a submission that passes is graded from the recorded regimes
and instances, in one round trip per test, without pytest or Hypothesis; a test it fails goes to
Hypothesis, whose feedback is the one students read. The corpora (test_corpora.py) hold that the
verdicts and feedback are the same as Hypothesis alone would give."""
import json
import os
import shutil


from conftest import ROOT, SUBMISSIONS, failed, grade, run_gradescope, validate, write_mistake, write_submission

CORRECT = os.path.join(SUBMISSIONS, "backprop", "correct")
PYTEST = "import pytest, Hypothesis and the grader"
MAKE = "record: make (Hypothesis and the reference, once)"


def spans(tmp_path, submission, name="t.json", cache=None):
    out = str(tmp_path / name)
    env = {"AUTOGRADER_TIMING": out, **({"XDG_CACHE_HOME": cache} if cache else {})}
    results, _ = grade("backprop", submission, str(tmp_path / (name + ".results")), env=env)
    with open(out) as f:
        return results, json.load(f)


def test_a_correct_submission_is_graded_without_pytest_or_hypothesis(tmp_path):
    spans(tmp_path, CORRECT, "first.json")  # makes the record, if the cache has none yet
    results, timing = spans(tmp_path, CORRECT)
    assert results["score"] == 49
    assert PYTEST not in timing and MAKE not in timing
    assert timing["record: replay a test"]["count"] == 33
    assert timing.get("worker: computing (the worker's own account)", {}).get("count") == 33  # one round trip a test


def test_a_mistake_goes_to_hypothesis_for_its_own_tests_only(tmp_path):
    """...and once Hypothesis has shrunk them, the same mistake graded again follows their shrinks (shrinks.py)."""
    mistake = write_mistake("backprop", "link-term-transposed", str(tmp_path))
    cache = str(tmp_path / "cache")  # no shrink of this mistake known yet
    results, timing = spans(tmp_path, mistake, cache=cache)
    assert {t["extra_data"]["quantity"] for t in failed(results)} == {"link_term"}
    assert timing[PYTEST]["count"] == 1
    assert timing["test call (Hypothesis and its checks)"]["count"] == 2  # link_term's two tests, nothing else
    again, timing = spans(tmp_path, mistake, "again.json", cache=cache)
    assert PYTEST not in timing and "shrinks: follow known paths" in timing
    assert again["tests"] == results["tests"]


def test_answers_that_change_between_calls_are_named(tmp_path):
    """Wrong on the record's first calls, right when Hypothesis calls again: the record's failure stands."""
    source = open(os.path.join(CORRECT, "backprop.py")).read().replace(
        "    return W  # link term",
        "    global CALLS\n    CALLS = globals().get('CALLS', 0) + 1\n"
        "    return W * 2 if CALLS <= 100 else W  # link term")
    results, _ = grade("backprop", write_submission(str(tmp_path), "stateful", source), str(tmp_path / "r.json"))
    validate(results)
    lost = failed(results)
    assert [t["extra_data"]["test"] for t in lost] == ["test_link_term_rectangular"]  # calls 101 on: right
    assert "different answers to the same inputs" in lost[0]["output"]


def test_the_gradescope_zip_carries_the_record_and_grading_uses_it(tmp_path, autograder_zip):
    import zipfile
    assert "assignments/backprop/record.json" in zipfile.ZipFile(autograder_zip).namelist()
    out = str(tmp_path / "t.json")
    results, log = run_gradescope(autograder_zip, CORRECT, str(tmp_path / "root"), env={"AUTOGRADER_TIMING": out})
    assert results["score"] == 49, log
    timing = json.load(open(out))
    assert MAKE not in timing and PYTEST not in timing


def test_a_stale_record_is_not_used(tmp_path):
    folder = str(tmp_path / "backprop")
    shutil.copytree(os.path.join(ROOT, "assignments", "backprop"), folder,
                    ignore=shutil.ignore_patterns("record.json", "__pycache__"))
    from autograder import config, record
    data = record.make(config.find(folder))
    data["tests"][0]["answers"] = [[o, 12345.0] for o, _ in data["tests"][0]["answers"]]  # a record of wrong values
    with open(os.path.join(folder, "record.json"), "w") as f:
        json.dump(data, f)
    results, _ = grade(folder, CORRECT, str(tmp_path / "r.json"))
    assert failed(results) and results["score"] < 49  # the record is believed while its digest matches...
    with open(os.path.join(folder, "assignment.yaml"), "a") as f:
        f.write("\n# changed\n")
    results, _ = grade(folder, CORRECT, str(tmp_path / "r.json"))
    assert results["score"] == 49  # ...and not once the assignment changed


def test_judging_a_check_together_never_passes_what_judge_fails():
    """The pass path judges a check's instances stacked (judge.all_right); it must pass only where the
    one judge passes every instance: values near the tolerance, NaN, transposed, shifted by atol."""
    import io

    import numpy as np

    from autograder import config, record, replay
    from autograder.judging import protocol
    from autograder.judging.judge import Failure, all_right, judge
    from autograder.judging.programs import Calls
    rng, a = np.random.default_rng(6390), config.find("backprop")
    changes = [lambda x: x, lambda x: x * (1 + 0.9e-4), lambda x: x * (1 + 1.1e-4), lambda x: x + 2e-6,
               lambda x: x.T if x.ndim == 2 else x, lambda x: np.where(x == x.flat[0], np.nan, x) if x.size else x]

    def changed(x, change):
        if isinstance(x, dict):
            return {k: changed(v, change) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(changed(v, change) for v in x)
        return change(np.asarray(x, dtype=np.float64))
    both = {True: 0, False: 0}
    for t in record.find(a, io.StringIO()).tests:
        start = 0
        for regime in t.regimes[:3]:
            for check in regime["checks"]:
                how, end = replay.options(check["options"], a), start + check["instances"]
                answers, start = t.answers[start:end], end
                expected = [protocol.untag(e) for _, e in answers]
                for change in changes:
                    picks = rng.integers(0, 2, len(expected))  # some instances changed, some not
                    results = [{"outputs": [protocol.plain(changed(full, change) if pick else full)]}
                               for full, pick in zip(expected, picks)]
                    fast = all_right(answers[0][0], expected, results, how)
                    try:
                        slow = all(judge("", Calls([], "", o), {}, full, r, how).failure is None
                                   for (o, _), full, r in zip(answers, expected, results))
                    except Failure:
                        slow = False
                    assert not (fast and not slow), (t.function, changes.index(change))
                    both[fast] += 1
    assert both[True] > 100 and both[False] > 100  # it confirms most right checks, and refuses wrong ones
