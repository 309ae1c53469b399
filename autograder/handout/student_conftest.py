"""pytest's hooks for the public tests: the handout ships this file as tests/conftest.py.

- Hypothesis runs deterministically, without an example database, in the grader's phases.
- After each public test's own checks pass, its fixed cases run (support/cases.json).
- A failed test reads as the Gradescope test of the same name reads: the message is
  written by the same feedback module (support/feedback.py), under the test's Gradescope name.
- At the end, a table of the public tests by their Gradescope names, and the hidden ones.
"""
import pytest
from hypothesis import settings

from support import public, strategies

settings.register_profile("public", strategies.profile(public.SETTINGS["examples"], derandomize=True))
settings.load_profile("public")

RESULTS = {}  # Gradescope name -> (PASS or FAIL, the failure's first line)


def pytest_runtest_setup(item):
    public.current.clear()
    public.current.update(public.TESTS.get(item.name, {}))


@pytest.hookimpl(trylast=True)
def pytest_runtest_call(item):
    public.fixed_cases(item.name)  # after the test's own checks passed (pytest ran them just before)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.when != "call":
        return
    entry = public.TESTS.get(item.name, {})
    name = entry.get("name", item.name)
    if report.passed:
        RESULTS[name] = ("PASS", "")
        return
    failure = public.find_failure(call.excinfo.value if call.excinfo else None)
    if failure is None:
        RESULTS[name] = ("FAIL", "the test itself crashed (see its traceback above)")
        return
    text = public.explain(failure, entry)
    report.longrepr = f"{name}\n\n{text}"
    report.sections = [s for s in report.sections if "Hypothesis" not in s[0]]
    RESULTS[name] = ("FAIL", public.first_line(text))


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    tr = terminalreporter
    passed = sum(mark == "PASS" for mark, _ in RESULTS.values())
    tr.section(f"public tests: {passed} of {len(RESULTS)} pass (named as on Gradescope)")
    for name, (mark, line) in RESULTS.items():
        tr.write_line(f"{mark}  {name}")
        if line:
            tr.write_line(f"      {line[:150]}")
    hidden = public.DATA.get("hidden", [])
    if hidden:
        tr.write_line("")
        tr.write_line(f"Gradescope also runs {len(hidden)} hidden test(s), not in this handout "
                      f"(README.md says what they cover):")
        for h in hidden:
            tr.write_line(f"      {h['name']}")
