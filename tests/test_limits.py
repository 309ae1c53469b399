"""Each limit of the README's table, hit by its own mechanism and named in the feedback with the
README's words; none of them waits for another limit to trip first.

Each submission is the correct solution with `square_loss` changed (no other function calls it), so a
limit must cost exactly square_loss's tests. Limits smaller than the defaults come from a copy of the
assignment whose assignment.yaml says so; its record is made beforehand, so that grading spends its
time on the student's code alone.
"""
import json
import os
import re

from conftest import (ROOT, SUBMISSIONS, copied_assignment, failed, grade, in_square_loss, validate, write_mistake,
                      write_submission)

from autograder import config

CORRECT = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8").read()
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def lost_and_said(results):
    validate(results)
    return {t["extra_data"]["quantity"] for t in failed(results)}, "\n".join(t["output"] for t in failed(results))


def test_the_readme_quotes_the_default_limits_and_their_messages():
    limits = config.DEFAULT_LIMITS
    assert f"| `memory_mb` (RLIMIT_AS) | {limits['memory_mb']:g} MB |" in README
    assert f"| `cpu_seconds` (RLIMIT_CPU) | {limits['cpu_seconds']:g} s per worker |" in README
    assert f"| `output_bytes` | {limits['output_bytes']:g} per call |" in README
    assert f"| `submission_seconds` | {limits['submission_seconds']:g} s |" in README
    for message in ("timed out after 2 s", "exceeded the memory limit of 512 MB", "used more than 120 s of CPU time",
                    "more characters of output cut", "used up its time budget of 420 s"):
        assert message in README


def test_a_gigabyte_array_fails_on_the_memory_limit_not_a_time_out(tmp_path):
    # np.zeros asks for 1 GiB of address space at once and touches none of it: without RLIMIT_AS it
    # is granted at once, so only the memory limit can fail this call, and nothing waits for a clock.
    source = in_square_loss("big = np.zeros(2**27)")
    results, _ = grade("backprop", write_submission(str(tmp_path), "gigabyte", source), str(tmp_path / "r.json"))
    lost, said = lost_and_said(results)
    assert lost == {"square_loss"}
    assert "exceeded the memory limit of 512 MB" in said and "timed out" not in said


def test_a_busy_loop_fails_on_the_cpu_limit_and_the_next_tests_get_a_fresh_worker(tmp_path):
    folder = copied_assignment(tmp_path, "limits: {cpu_seconds: 1, call_seconds: 15}", record=True)
    source = in_square_loss("while True:\n    pass")
    results, _ = grade(folder, write_submission(str(tmp_path), "busy", source), str(tmp_path / "r.json"))
    lost, said = lost_and_said(results)
    assert lost == {"square_loss"}  # the worker was killed, and the tests after it passed in a new one
    assert "used more than 1 s of CPU time" in said and "timed out" not in said


def test_a_slow_submission_stops_at_the_submission_budget(tmp_path):
    folder = copied_assignment(tmp_path, "limits: {submission_seconds: 4}", record=True)
    # every function sleeps a little on each call: about half a second a test, 33 tests
    source = re.sub(r"^(def .*:\n)", r"\1    time.sleep(0.005)\n", CORRECT.replace("import numpy", "import time, numpy"),
                    flags=re.M)
    assert source.count("time.sleep") > 20
    results, _ = grade(folder, write_submission(str(tmp_path), "slow", source), str(tmp_path / "r.json"))
    validate(results)
    tests = results["tests"]
    assert tests[0]["status"] == "passed"  # the budget lets the first tests run...
    budget = [t for t in tests if "used up its time budget of 4 s" in t["output"]]
    assert budget and tests[-1] in budget  # ...and says, on the ones it cut, why they were not graded
    assert all(t in budget or "timed out" in t["output"] for t in failed(results))  # one may be cut mid-call
    assert results["score"] == sum(t["score"] for t in tests) < sum(t["max_score"] for t in tests)


def test_batch_stops_a_hung_grader_after_the_assignments_limits_and_the_slack(tmp_path, monkeypatch):
    """Batch's default wall limit is submission + import + start seconds + a slack (SLACK_SECONDS, two
    minutes; made two seconds here): a grader that hangs in the course's own tests is stopped then."""
    from autograder.classroom import run
    folder = copied_assignment(tmp_path, "limits: {submission_seconds: 1, import_seconds: 1, start_seconds: 1}",
                               files={"tests/test_hangs.py": "import time\ntime.sleep(3600)\n"})
    write_mistake("backprop", "link-term-transposed", str(tmp_path / "class"))
    monkeypatch.setattr(run, "SLACK_SECONDS", 2)
    out = str(tmp_path / "out")
    assert run.run_batch(folder, str(tmp_path / "class"), out, jobs=1, progress=False) == 0
    with open(os.path.join(out, "link-term-transposed", "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    assert results["extra_data"]["error"] == "timeout"
    assert "did not finish within 5 s" in results["output"]  # 1 + 1 + 1 + 2
