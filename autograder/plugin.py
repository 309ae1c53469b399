"""The pytest plugin: small hooks, each with one job, that turn graded tests into Gradescope results.

- `pytest_configure`: Hypothesis settings from assignment.yaml (deterministic, no database).
- `pytest_collection_modifyitems`: points, visibility, number and seed on each test,
  with gradescope-utils' decorators, from assignment.yaml.
- `pytest_runtest_setup`: tells the session which test runs (for its limits).
- `pytest_runtest_makereport`: one Gradescope test result per graded test.
The results themselves are written by `core.write_results`, the only results writer.
"""
import pytest
from gradescope_utils.autograder_utils.decorators import number, visibility, weight
from hypothesis import HealthCheck, Phase, seed, settings

from . import feedback
from .calls import Failure, find_failure


class GradingPlugin:
    def __init__(self, assignment, session, catalogue, reference):
        self.assignment, self.session = assignment, session
        self.catalogue, self.reference = catalogue, reference
        self.tests = []
        self.internal_errors = []

    def pytest_configure(self, config):
        settings.register_profile(
            "grading", max_examples=self.assignment.examples, database=None, deadline=None,
            derandomize=False, print_blob=False, report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate, Phase.shrink))
        settings.load_profile("grading")

    def pytest_collection_modifyitems(self, items):
        for index, item in enumerate(items, start=1):
            chosen = self.assignment.test_settings(item.name)
            test = item.obj
            weight(chosen["points"])(test)
            visibility(chosen["visibility"])(test)
            if not hasattr(test, "__number__"):
                number(index)(test)
            seed(self.assignment.seed)(test)  # every student, every regrade: the same examples

    def pytest_runtest_setup(self, item):
        self.session.begin(item.nodeid, getattr(item.obj, "__graded__", None))
        broken = self.session.ensure_started().get("import_error")
        if broken:  # every example would fail the same way: say so without running any
            raise Failure(dict(kind="error", title="", call="", inputs={}, headline=broken.get("message", ""),
                               error={**broken, "during_import": True}))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.tests.append(self.result(item, call, report))

    # -- one Gradescope test result ---------------------------------------------------

    def result(self, item, call, report):
        test = item.obj
        info = getattr(test, "__graded__", {"quantity": item.name, "factor": "", "regime": ""})
        points = float(test.__weight__)
        entry = {
            "name": f"{info['quantity']} — {info['regime']}" if info["regime"] else item.name,
            "number": str(test.__number__), "max_score": points,
            "tags": list(getattr(test, "__tags__", ())), "visibility": test.__visibility__,
            "output_format": "md",
            "extra_data": {"test": item.name, "quantity": info["quantity"], "factor": info["factor"]},
        }
        if report.passed:
            n = self.assignment.examples * self.assignment.instances
            return {**entry, "score": points, "status": "passed",
                    "output": f"Correct on every example checked (up to {n})."}
        failure = find_failure(call.excinfo.value if call.excinfo else None)
        if failure is None:
            self.internal_errors.append(f"{item.name}: {report.longreprtext[-3000:]}")
            text = ("This test could not be run because of a problem in the autograder itself, "
                    "not in your code. Course staff can see the details.")
            return {**entry, "score": 0.0, "status": "failed", "output": text,
                    "extra_data": {**entry["extra_data"], "error": "grader"}}
        text, diagnosis = feedback.explain(failure.report, info, self.catalogue, self.reference,
                                           self.assignment)
        extra = {**entry["extra_data"], "diagnosis": diagnosis,
                 "error": failure.report.get("error", {}).get("kind")}
        return {**entry, "score": 0.0, "status": "failed", "output": text, "extra_data": extra}
