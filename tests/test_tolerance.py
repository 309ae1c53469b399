"""The tolerance, held from both sides for every bundled assignment: the reference's answers moved by a
tenth of the tolerance pass every test, and moved by ten times it fail every test a tolerance decides.

The submission is the assignment's reference with a wrapper appended: every value the grader reads
(what a function or method returns to it, an attribute it reads) is moved entry by entry by
K × (atol + rtol·|x|), while the code's own calls and reads inside the file see the true values. The
tolerance comes from assignment.yaml itself, not through the engine, so a tolerance loosened anywhere
in the engine shows here.
"""
import os

import pytest
import yaml

from conftest import ROOT, assignments, failed, grade, validate, write_submission
from facts import FACTS

ASSIGNMENTS = assignments()

WRAPPER = '''
# ---- appended by tests/test_tolerance.py: every answer the grader reads, moved by K times its tolerance ----
import sys as _sys
import types as _types

import numpy as _np

_RTOL, _ATOL, _K, _HERE = {rtol!r}, {atol!r}, {k!r}, __file__


def _moved(value):
    if isinstance(value, (bool, int, _np.integer)):
        return value  # class indices and counts: no tolerance applies
    if isinstance(value, (float, _np.floating)):
        return float(value) + _K * (_ATOL + _RTOL * abs(float(value)))
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f":
        return value + _K * (_ATOL + _RTOL * _np.abs(value))
    if isinstance(value, dict):
        return {{key: _moved(v) for key, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(v) for v in value)
    return value


def _by_grader():
    """Whether the code that called our caller is the grader's (not this file's own)."""
    return _sys._getframe(2).f_code.co_filename != _HERE


def _wrap(function):
    def wrapped(*args, **kwargs):
        value = function(*args, **kwargs)
        return _moved(value) if _by_grader() else value
    wrapped.__name__, wrapped.__qualname__ = function.__name__, function.__qualname__
    return wrapped


def _getattribute(self, name):
    value = object.__getattribute__(self, name)
    return _moved(value) if not name.startswith("__") and _by_grader() else value


for _name, _value in list(globals().items()):
    if _name.startswith("_") or getattr(_value, "__module__", None) != __name__:
        continue
    if isinstance(_value, _types.FunctionType):
        globals()[_name] = _wrap(_value)
    elif isinstance(_value, type):
        for _attr, _method in list(vars(_value).items()):
            if isinstance(_method, _types.FunctionType) and not _attr.startswith("__"):
                setattr(_value, _attr, _wrap(_method))
        _value.__getattribute__ = _getattribute
'''


def near_miss(name, k, folder):
    """The reference of assignment `name`, every answer moved by k times the tolerance, as a submission."""
    with open(os.path.join(ROOT, "assignments", name, "assignment.yaml"), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    tolerance = data["tolerance"]
    reference = os.path.join(ROOT, "reference", data.get("reference", name) + ".py")
    with open(reference, encoding="utf-8") as f:
        source = f.read()
    wrapper = WRAPPER.format(rtol=float(tolerance["rtol"]), atol=float(tolerance["atol"]), k=float(k))
    return write_submission(folder, f"{name}-{k}", source + wrapper, assignment=name)


def test_every_bundled_assignment_has_its_facts():
    assert {"backprop", "nn_modules"} <= set(FACTS) <= set(ASSIGNMENTS)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_tenth_of_the_tolerance_away_passes_every_test(name, tmp_path):
    results, _ = grade(name, near_miss(name, 0.1, str(tmp_path)), str(tmp_path / "r.json"))
    validate(results)
    assert [t["name"] for t in failed(results)] == []
    assert results["score"] == sum(t["max_score"] for t in results["tests"])
    if name in FACTS:
        assert results["score"] == FACTS[name].points


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_ten_times_the_tolerance_away_fails_every_test_a_tolerance_decides(name, tmp_path):
    if name not in FACTS:
        pytest.skip(f"which of {name}'s tests no tolerance decides is pinned only in tests/facts.yaml "
                    "(tolerance_free): add its facts there")
    results, _ = grade(name, near_miss(name, 10, str(tmp_path)), str(tmp_path / "r.json"))
    validate(results)
    passed = sorted(t["extra_data"]["test"] for t in results["tests"] if t["status"] == "passed")
    assert passed == sorted(FACTS[name].tolerance_free)
    assert all("**Wrong value:**" in t["output"] for t in failed(results))  # a wrong value, not a crash
