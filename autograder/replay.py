"""The pass path: a graded test's record run in one round trip to the worker, judged, no Hypothesis.

`passes` says whether the submission is right on every recorded instance of a test. A test
that is not (or that could not be recorded) is graded by pytest and Hypothesis instead, which
shrink its failure to the smallest example (core.py). `failure` is for the rare test that the
record fails and Hypothesis does not (another Hypothesis version, a submission whose answers
change from call to call): it judges the recorded regime that failed, in full, for feedback.
"""
from .judging import protocol
from .judging.judge import ACCEPT_HOOKS, Failure, JudgeOptions, all_right, judge
from .judging.programs import Calls
from .session import Batch
from .testing import Graded


def options(stored, a):
    """A recorded check's JudgeOptions, with the tolerance recorded for it (check()'s, graded()'s or
    assignment.yaml's)."""
    accept = stored.get("accept")
    return JudgeOptions.of(stored["quantity"], stored.get("rtol", a.rtol), stored.get("atol", a.atol),
                           stored.get("output"), stored.get("requires") or (),
                           ACCEPT_HOOKS[accept] if accept else None, stored.get("parts") or ())


def label(t):
    extra = t.entry["extra_data"]
    return Graded(extra["quantity"], extra["factor"], t.regime)


def batch(t):
    """Test `t`'s whole record as one batch of programs, under the id its calls' limits are kept by."""
    return f"record::{t.function}", Batch(t.programs, len(t.answers), t.steps)


def passes(t, results, a):
    """Whether the worker's results are right on every recorded instance of test `t`; the index of the
    first regime that is not.

    A check's instances are judged together first (judge.all_right, which only ever confirms); where
    that cannot confirm them, each is judged alone, as the graded test's check judges it."""
    start = 0
    for index, regime in enumerate(t.regimes):
        for check in regime["checks"]:
            how, end = options(check["options"], a), start + check["instances"]
            answers, got = t.answers[start:end], results[start:end]
            start = end
            expected = [None if r.get("error") else protocol.untag(e) for (_, e), r in zip(answers, got)]
            if all_right(answers[0][0], expected, got, how):
                continue
            for (outputs, _), full, result in zip(answers, expected, got):
                try:
                    if judge("", Calls([], "", outputs), {}, full, result, how).failure:
                        return False, index
                except Failure:
                    return False, index
    return True, None


def failure(test_function, t, regime_index, session, tolerance=None):
    """The Failure of a recorded regime, judged in full (inputs, every instance) as a graded test's check is,
    with the test's tolerance (collect.tolerance)."""
    from .record import case_of, checks_of
    session.begin(f"record-again::{t.function}", label(t), tolerance)
    try:
        for c in checks_of(test_function, case_of(t.regimes[regime_index]["case"])):
            session.check(c)
    except Failure as exc:
        return exc
    return None
