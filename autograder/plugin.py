"""The pytest plugin: small hooks, each with one job, that turn graded tests into Gradescope results.

Its state is one `Grading` record on pytest's `config.stash` (core.py makes it and reads
the results back from it):

- `pytest_configure`: Hypothesis settings from assignment.yaml (deterministic, no database).
- `pytest_collection_modifyitems`: the optional tests assignment.yaml does not name left out;
  points, visibility, number and seed on each test, with gradescope-utils' decorators.
- `pytest_runtest_setup`: tells the session which test runs (for its limits, and to write down its shrink).
- `pytest_runtest_call`: puts the session in the slot `check` reads.
- `pytest_runtest_makereport`: one Gradescope test result per graded test.
The results themselves are written by `results.write_results`, the only results writer.
"""
import pytest
from gradescope_utils.autograder_utils.decorators import number, visibility, weight
from hypothesis import seed, settings

from . import results, strategies, timing
from .collect import tolerance
from .config import ConfigError
from .failures import Grading, failure_entry
from .judging.judge import Failure, FailureReport, find_failure
from .shrinks import Walk
from .testing import graded_info, using


GRADING = pytest.StashKey[Grading]()


class GradingPlugin:
    def __init__(self, grading):
        self.grading = grading

    def pytest_configure(self, config):
        config.stash[GRADING] = self.grading
        settings.register_profile("grading", strategies.profile(self.grading.assignment.examples))
        settings.load_profile("grading")

    def pytest_collection_modifyitems(self, config, items):
        grading = config.stash[GRADING]
        a = grading.assignment
        try:
            a.check_optional([(item.name, graded_info(item.obj, item.name).optional) for item in items])
        except ConfigError as exc:  # staff's to fix (`build` refuses it); the other tests still grade
            grading.internal_errors.append(str(exc))
        off = [item for item in items if not a.runs(item.name, graded_info(item.obj, item.name).optional)]
        if off:  # optional tests this course did not ask for: not graded, not numbered
            config.hook.pytest_deselected(items=off)
            items[:] = [item for item in items if item not in off]
        for index, item in enumerate(items, start=1):
            chosen = grading.assignment.test_settings(item.name)
            test = item.obj
            weight(chosen["points"])(test)
            visibility(chosen["visibility"])(test)
            if not hasattr(test, "__number__"):
                number(index)(test)  # counted over every test, run or not: numbers never move
            seed(grading.assignment.seed)(test)  # every student, every regrade: the same examples
        if grading.only is not None:
            config.hook.pytest_deselected(items=[i for i in items if i.name not in grading.only])
            items[:] = [i for i in items if i.name in grading.only]

    def pytest_runtest_setup(self, item):
        grading = item.config.stash[GRADING]
        session, info = grading.session, graded_info(item.obj, item.name)
        session.begin(item.nodeid, info, tolerance(grading.assignment, item.name, info), walk=Walk(item.name))
        broken = session.ensure_started().get("import_error")
        if session.machine_error:  # no test can be graded here: stop, core.py says why
            pytest.exit(str(session.machine_error), returncode=pytest.ExitCode.INTERRUPTED)
        if broken:  # every example would fail the same way: say so without running any
            raise Failure(FailureReport("error", "", "", {}, broken.get("message", ""),
                                        error={**broken, "during_import": True}))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        with using(item.config.stash[GRADING].session), timing.span("test call (Hypothesis and its checks)"):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            grading = item.config.stash[GRADING]
            grading.tests.append(result(grading, item, call, report))


def result(grading, item, call, report):
    """One Gradescope test result."""
    a, test = grading.assignment, item.obj
    info = graded_info(test, item.name)
    tags = getattr(test, "__tags__", ())
    entry = results.test_entry(info.name(), test.__number__, float(test.__weight__), tags, test.__visibility__,
                               {"test": item.name, "quantity": info.quantity, "factor": info.factor})
    if report.passed:
        return results.passed(entry, a.examples * a.instances)
    failure = find_failure(call.excinfo.value if call.excinfo else None)
    if failure is None:
        grading.internal_errors.append(f"{item.name}: {report.longreprtext[-3000:]}")
        return results.failed(entry, "This test could not be run because of a problem in the autograder "
                                     "itself, not in your code. Course staff can see the details.", error="grader")
    return failure_entry(grading, entry, info, failure)
