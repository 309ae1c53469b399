"""The course's policies: the submission limit and the late penalty (autograder/policies/).

Through the Gradescope path as root (build, unzip, run_autograder), with submission_metadata.json
fixtures in Gradescope's documented format (autograder_samples docs/submission_metadata.md):
timestamps with offsets, late_due_date null or set, previous_submissions empty or long, and
results only on the latest previous submission. Then the rules themselves, without grading.
"""
import io
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import SUBMISSIONS, copied_assignment, run_gradescope, validate
from autograder import config, policies

CORRECT = os.path.join(SUBMISSIONS, "backprop", "correct")
POLICIES = "submissions: {limit: 5, per: 24h}\nlate: {penalty_per_day: 0.1, cap: 0.5, grace_minutes: 15}\n"
EST = timezone(timedelta(hours=-5))
DUE = datetime(2025, 2, 4, 23, 0, tzinfo=EST)
BEFORE_DUE = datetime(2025, 2, 3, 12, 0, 0, 123456, tzinfo=EST)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the Gradescope path runs student code as another user: root only")


def stamp(t, utc=False):
    """Gradescope's format: 2018-07-01T14:22:32.365935-07:00 (here and there in UTC, as an offset may be)."""
    return (t.astimezone(timezone.utc) if utc else t).isoformat(timespec="microseconds")


def metadata(created_at, previous=(), late_due_date=None, due_date=DUE):
    """submission_metadata.json as Gradescope documents it; previous: [(time, score)], oldest first;
    the latest previous submission alone has `results`."""
    entries = [{"submission_time": stamp(t, utc=i % 2 == 1), "score": score, "autograder_error": False}
               for i, (t, score) in enumerate(previous)]
    if entries:
        entries[-1]["results"] = {"score": previous[-1][1], "tests": [], "output": "earlier"}
    return {
        "id": 123456, "created_at": stamp(created_at),
        "assignment": {"due_date": stamp(due_date) if due_date else None, "group_size": None,
                       "group_submission": False, "id": 25828, "course_id": 1234,
                       "late_due_date": stamp(late_due_date) if late_due_date else None,
                       "release_date": "2025-01-28T00:00:00.000000-05:00", "title": "Backpropagation",
                       "total_points": "49.0"},
        "submission_method": "upload",
        "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
        "previous_submissions": list(reversed(entries)) if len(entries) > 2 else entries,  # any order
    }


def gradescope(tmp_path, autograder_zip, meta, submission=CORRECT, policy=POLICIES):
    results, log = run_gradescope(autograder_zip, submission, str(tmp_path / "root"), metadata=meta,
                                  assignment_yaml=policy)
    validate(results)
    return results, log


def full(results):
    return sum(t["max_score"] for t in results["tests"])


# ---- through the Gradescope path -------------------------------------------------------

@needs_root
def test_a_first_submission_is_graded_and_told_how_many_are_left(tmp_path, autograder_zip):
    results, log = gradescope(tmp_path, autograder_zip, metadata(BEFORE_DUE))
    assert results["score"] == full(results) == 49, log
    assert results["output_format"] == "md"  # its **bold** reads as bold
    assert results["output"].startswith("**Submissions:** this is graded submission 1 of the 5 allowed in any "
                                        "24 hours; 4 more can be graded now.")
    assert "stops counting at Tue 4 Feb 2025, 12:00 (UTC-05:00)" in results["output"]
    assert "Late penalty" not in results["output"] and "late" in results["extra_data"]
    assert results["extra_data"]["submissions"]["graded"] == [stamp(BEFORE_DUE)]


@needs_root
def test_within_the_limit_counts_only_the_window(tmp_path, autograder_zip):
    previous = [(BEFORE_DUE - timedelta(hours=30), 10.0),   # outside the 24 hours: does not count
                (BEFORE_DUE - timedelta(hours=23), 20.0), (BEFORE_DUE - timedelta(hours=5), 30.0),
                (BEFORE_DUE - timedelta(minutes=1), 40.0)]
    results, log = gradescope(tmp_path, autograder_zip, metadata(BEFORE_DUE, previous))
    assert results["score"] == 49, log
    assert "this is graded submission 4 of the 5 allowed in any 24 hours; 1 more can be graded now" in results["output"]
    assert "your earliest in the window, of Sun 2 Feb 2025, 13:00 (UTC-05:00), stops counting at " \
           "Mon 3 Feb 2025, 13:00 (UTC-05:00)" in results["output"]


@needs_root
def test_the_sixth_in_a_window_is_not_graded_and_the_best_earlier_score_stands(tmp_path, autograder_zip):
    hours = [20, 15, 9, 4, 1]
    scores = [12.0, 45.0, 30.0, 20.0, 25.0]
    previous = [(BEFORE_DUE - timedelta(hours=h), s) for h, s in zip(hours, scores)]
    results, log = gradescope(tmp_path, autograder_zip, metadata(BEFORE_DUE, previous))
    assert results["score"] == 45.0 and results["tests"] == [], log
    assert results["output"] == (
        "**Not graded:** you have used the 5 graded submissions allowed in any 24 hours. Your best score "
        "among them, 45, from your submission of Sun 2 Feb 2025, 21:00 (UTC-05:00), stands as this "
        "submission's score. Your next submission can be graded from Mon 3 Feb 2025, 16:00 (UTC-05:00).")
    assert results["extra_data"]["submissions"]["not_graded"] is True and results["output_format"] == "md"
    assert "every earlier submission in the window counts" in log
    assert "pytest" not in log and "passed" not in log  # nothing was graded


@needs_root
def test_a_submission_that_was_not_graded_does_not_use_up_the_window(tmp_path, autograder_zip):
    hours = [20, 15, 9, 4, 1]
    previous = [(BEFORE_DUE - timedelta(hours=h), 30.0) for h in hours]
    meta = metadata(BEFORE_DUE, previous)
    latest = max(meta["previous_submissions"], key=lambda p: policies.parse_time(p["submission_time"]))
    graded = [stamp(t) for t, _ in previous[:3]] + [stamp(previous[4][0])]  # the one of 4 h ago was over a limit
    latest["results"]["extra_data"] = {"submissions": {"limit": 5, "per_seconds": 86400.0, "graded": graded}}
    results, log = gradescope(tmp_path, autograder_zip, meta)
    assert results["score"] == 49, log
    assert results["output"].startswith(
        "**Submissions:** this is graded submission 5 of the 5 allowed in any 24 hours: a submission made "
        "before Mon 3 Feb 2025, 16:00 (UTC-05:00) will not be graded, and your best score in the window will "
        "stand for it.")
    assert len(results["extra_data"]["submissions"]["graded"]) == 5


@needs_root
def test_a_day_and_a_half_late_loses_15_percent_with_the_arithmetic(tmp_path, autograder_zip):
    late = DUE + timedelta(days=1.5)
    results, log = gradescope(tmp_path, autograder_zip, metadata(late))
    assert full(results) == 49 and sum(t["score"] for t in results["tests"]) == 49, log
    assert results["score"] == 41.65
    assert results["output"].startswith(
        "**Late penalty: 15%.** This submission was made Thu 6 Feb 2025, 11:00 (UTC-05:00), 1.5 days after the "
        "due date (Tue 4 Feb 2025, 23:00 (UTC-05:00)). At 10% a day, at most 50%: 1.5 days × 10% = 15%. "
        "Your score: 49 before the penalty, 49 × (1 − 0.15) = **41.65** after it.")
    assert "**Submissions:** this is graded submission 1" in results["output"].split("\n\n")[1]
    assert results["extra_data"]["late"] == {"created_at": late.isoformat(), "due_date": DUE.isoformat(), "days_late": 1.5,
                                             "penalty": 0.15, "before": 49.0, "after": 41.65}


@needs_root
def test_past_the_late_due_date_the_penalty_is_capped_and_staff_are_told(tmp_path, autograder_zip):
    created = DUE + timedelta(days=7)
    results, log = gradescope(tmp_path, autograder_zip, metadata(created, late_due_date=DUE + timedelta(days=3)),
                              policy="late: {penalty_per_day: 0.1, cap: 0.5}\n")
    assert results["score"] == 24.5, log
    assert "7 days × 10% = 70%, capped at 50%" in results["output"]
    assert "after the late due date (Fri 7 Feb 2025, 23:00 (UTC-05:00))" in results["output"]
    assert "after the late due date" in log and "Adjust the score by hand if an extension applies" in log
    assert "Submissions" not in results["output"]  # no limit configured


@needs_root
@pytest.mark.parametrize("meta", ["{not json", json.dumps({"created_at": "yesterday", "assignment": {}}), None])
def test_malformed_or_missing_metadata_grades_normally_and_says_why_to_staff(tmp_path, autograder_zip, meta):
    late = metadata(DUE + timedelta(days=3))
    if meta and meta.startswith("{\"created_at"):
        late["created_at"] = "2025-02-07 23:00:00"  # no offset: which time is that?
        meta = json.dumps(late)
    results, log = gradescope(tmp_path, autograder_zip, meta)
    assert results["score"] == 49 and "Late" not in results["output"] and "Submissions" not in results["output"]
    assert "Graded without the submission limit and the late penalty" in log
    assert ("no " if meta is None else "submission_metadata.json") in log


# ---- the rules ---------------------------------------------------------------------

def meta_of(created, previous=(), **kw):
    return policies.metadata_of(metadata(created, previous, **kw))


def test_timestamps_with_any_offset_are_the_same_instant():
    for text in ("2025-02-04T23:00:00.000000-05:00", "2025-02-05T04:00:00Z", "2025-02-05 04:00:00.000000000 +00:00",
                 "2025-02-04T20:00:00-0800", "2025-02-05T04:00:00.5+00:00"):
        found = policies.parse_time(text)
        assert found is not None and abs((found - DUE).total_seconds()) < 1, text
    for text in ("2025-02-04T23:00:00", "yesterday", "", None, 12):
        assert policies.parse_time(text) is None, text


def test_grace_minutes_are_on_time_and_said_so():
    rule = policies.LatePolicy(0.1, 0.5, 15)
    late = policies.lateness(rule, DUE + timedelta(minutes=10), DUE)
    assert late.penalty == 0 and late.in_grace
    results = policies.apply_late({"score": 49.0, "output": "x"}, late)
    assert results["score"] == 49.0 and results["output"].startswith(
        "**On time:** this submission was made 10 minutes after the due date, within the 15-minute grace period")
    beyond = policies.lateness(rule, DUE + timedelta(minutes=16), DUE)  # counted from the due date itself
    assert beyond.days == round(16 / 1440, 3) and beyond.penalty == pytest.approx(0.1 * beyond.days)
    on_time = policies.apply_late({"score": 49.0, "output": "x"}, policies.lateness(rule, DUE - timedelta(hours=1), DUE))
    assert on_time["output"] == "x" and on_time["extra_data"]["late"]["penalty"] == 0


def test_the_late_due_date_may_be_null_and_the_due_date_comes_from_gradescope_first():
    rule = policies.LatePolicy(0.1, due_date=DUE - timedelta(days=1))
    m = meta_of(DUE + timedelta(days=1))
    assert m.late_due_date is None
    assert policies.lateness(rule, m.created_at, m.due_date, m.late_due_date).days == 1  # Gradescope's due date
    assert policies.lateness(rule, m.created_at, None).days == 2                          # else assignment.yaml's
    assert policies.lateness(policies.LatePolicy(0.1), m.created_at, None) is None       # else none


def test_a_long_history_counts_only_the_window_and_reads_the_record():
    rule = policies.SubmissionLimit(5, timedelta(hours=24))
    previous = [(BEFORE_DUE - timedelta(hours=h), float(h)) for h in range(200, 0, -1)]  # one an hour
    w = policies.window(rule, meta_of(BEFORE_DUE, previous))
    assert len(w.earlier) == 23 and len(w.graded) == 23 and w.over and not w.known
    assert policies.best_earlier(w).score == 23.0
    assert w.opens(list(w.graded)) == BEFORE_DUE - timedelta(hours=5) + timedelta(hours=24)


def test_beyond_the_limit_the_latest_results_stand_when_asked_and_are_shown():
    rule = policies.SubmissionLimit(2, timedelta(hours=24), beyond="latest")
    previous = [(BEFORE_DUE - timedelta(hours=3), 40.0), (BEFORE_DUE - timedelta(hours=2), 10.0)]
    m = policies.metadata_of(metadata(BEFORE_DUE, previous))
    standing = policies.not_graded(policies.window(rule, m))
    assert standing["score"] == 10.0 and standing["tests"] == []
    assert "The score of your latest submission, 10, from Mon 3 Feb 2025, 10:00 (UTC-05:00), stands" in standing["output"]
    assert standing["output"].endswith("Below are the results of that submission.")
    best = policies.not_graded(policies.window(policies.SubmissionLimit(2, timedelta(hours=24)), m))
    assert best["score"] == 40.0 and "Below are" not in best["output"]  # not the latest: its tests are unknown


def test_a_grader_failure_does_not_use_up_a_submission():
    rule = policies.SubmissionLimit(5, timedelta(hours=24))
    on = policies.OnGradescope(window=policies.window(rule, meta_of(BEFORE_DUE)))
    results = on.apply({"score": 0.0, "tests": [], "output": "broken", "extra_data": {"error": "grader"}})
    assert results["extra_data"]["submissions"]["graded"] == []
    assert "does not count toward the 5 allowed" in results["output"]


def test_malformed_metadata_is_named():
    for broken, says in (({"created_at": stamp(BEFORE_DUE)}, "`assignment` is not an object"),
                         ({**metadata(BEFORE_DUE), "previous_submissions": {}}, "not a list"),
                         ({**metadata(BEFORE_DUE), "previous_submissions": [{"submission_time": "x", "score": 1}]},
                          "previous_submissions[0].submission_time"),
                         ({**metadata(BEFORE_DUE), "previous_submissions": [{"submission_time": stamp(DUE), "score": "a"}]},
                          "score is not a number"),
                         ([], "expected a JSON object")):
        with pytest.raises(policies.MetadataError, match=re.escape(says)):
            policies.metadata_of(broken)
    assert policies.metadata_of({**metadata(BEFORE_DUE), "previous_submissions": None}).previous == ()


def test_no_policy_reads_no_metadata():
    a = config.find("backprop")
    log = io.StringIO()
    assert a.submissions is None and a.late is None
    assert policies.for_gradescope(a, "/nonexistent/submission_metadata.json", log) is None and log.getvalue() == ""


@pytest.mark.parametrize("text, says", [
    ("submissions: {limit: 5}", "key `submissions.per`: is required"),
    ("submissions: {limit: 0, per: 24h}", "key `submissions.limit`: expected a whole number"),
    ("submissions: {limit: 5, per: 24}", "key `submissions.per`: expected a duration such as 24h"),
    ("submissions: {limit: 5, per: 1d, beyond: worst}", "key `submissions.beyond`: expected one of best, latest"),
    ("submissions: {limit: 5, per: 1d, window: 2}", "key `submissions.window`: unknown key"),
    ("late: {cap: 0.5}", "key `late.penalty_per_day`: is required"),
    ("late: {penalty_per_day: 10}", "key `late.penalty_per_day`: expected a fraction"),
    ("late: {penalty_per_day: 0.1, grace_minutes: -1}", "key `late.grace_minutes`: expected minutes >= 0"),
    ("late: {penalty_per_day: 0.1, due_date: 2025-02-04 23:00:00}", "key `late.due_date`: expected a date and time with its UTC offset"),
    ("late: {penalty_per_day: 0.1, penalty: 2}", "key `late.penalty`: unknown key (did you mean `late.penalty_per_day`?)"),
])
def test_policy_keys_are_checked_with_file_and_key(tmp_path, text, says):
    folder = copied_assignment(tmp_path, text)
    with pytest.raises(config.ConfigError, match=re.escape("assignment.yaml: " + says)):
        config.find(folder)


def test_policies_read_as_typed_values(tmp_path):
    a = config.find(copied_assignment(tmp_path, "submissions: {limit: 5, per: 24h}\n"
                                    "late: {penalty_per_day: 0.1, cap: 0.5, grace_minutes: 15, "
                                    "due_date: 2025-02-04T23:00:00-05:00}\n"))
    assert a.submissions == policies.SubmissionLimit(5, timedelta(hours=24), "best")
    assert a.late == policies.LatePolicy(0.1, 0.5, 15, due_date=DUE)
