"""The graded tests of an assignment, collected and checked against its vocabulary.

    graded_tests(a)      every graded test of assignment `a` that it runs, in the order pytest collects them

What the record, the handout, grading's feedback path and `validate` all read. A test file
that cannot be imported, a test without @graded, a quantity outside the naming scheme, a
factor kind the assignment does not know or a tolerance that is not a positive number is
the course's mistake: a ConfigError naming the file, the line and the test, so that grading
says "the configuration is broken" (exit status 2), never that the grader itself failed.
"""
import dataclasses
import difflib
import importlib.util
import os
import re
import traceback

from .config import ConfigError, where_of
from .testing import graded_info

# The one naming scheme of graded(), misconceptions.yaml's `in:` and corpus.yaml's `breaks:`:
# `function`, `Class.method`, or `Class.method:quantity` (one of several things a method computes).
QUANTITY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?(:[A-Za-z_]\w*)?")


@dataclasses.dataclass
class GradedTest:
    function: str     # the test function's name, e.g. test_link_term_rectangular
    name: str         # Gradescope's name, e.g. "link_term — W^ℓ with m ≠ n"
    quantity: str
    factor: str
    regime: str
    visibility: str
    points: float
    test: object      # the test function, for recording its fixed cases
    module: object    # its module
    file: str = ""    # where its graded() is, for messages
    line: int = 0
    rtol: float = None  # graded()'s tolerance, if it sets one
    atol: float = None

    @property
    def public(self):
        return self.visibility == "visible"

    @property
    def at(self):
        return f"{self.file}, line {self.line}" if self.line else self.file

    def tolerance(self, a, options=None):
        """(rtol, atol) of one of this test's checks (see `tolerance`)."""
        return tolerance(a, self.function, self, options)


def tolerance(a, function, label, options=None):
    """(rtol, atol) of a check of test `function`: check()'s options over its graded() label's over
    assignment.yaml's (`tolerance.tests` patterns over `tolerance.rtol` and `tolerance.atol`)."""
    rtol, atol = a.tolerance(function)
    for source in ({"rtol": getattr(label, "rtol", None), "atol": getattr(label, "atol", None)}, options or {}):
        if source.get("rtol") is not None:
            rtol = source["rtol"]
        if source.get("atol") is not None:
            atol = source["atol"]
    return float(rtol), float(atol)


def graded_tests(a):
    """Every graded test of assignment `a` that it runs, in the order pytest collects them, each one
    checked (an optional test too, though only those `optional_tests` names are returned)."""
    found, everything = [], []
    with a.importable():
        for filename in sorted(os.listdir(a.tests)):
            if not (filename.startswith("test_") and filename.endswith(".py")):
                continue
            path = os.path.join(a.tests, filename)
            module = _import(path, f"_graded_{a.name}_{filename[:-3]}", a)
            for fname, fn in vars(module).items():
                if not (fname.startswith("test_") and callable(fn)) or isinstance(fn, type):
                    continue
                test = _checked(a, path, fname, fn, module)
                optional = graded_info(fn, fname).optional
                everything.append((fname, optional))
                if a.runs(fname, optional):  # else an optional test this course does not run
                    found.append(test)
    a.check_optional(everything)
    return found


def _checked(a, path, fname, fn, module):
    info = getattr(fn, "__graded__", None)
    if info is None:
        raise ConfigError(f"{where_of(path)}, line {_line(fn)}: {fname} has no @graded(quantity, factor, regime): "
                          f"every test_ function of the graded tests is a graded test")
    file, line = info.where
    at = f"{where_of(file or path)}, line {line}" if line else where_of(path)
    if not isinstance(info.quantity, str) or not QUANTITY.fullmatch(info.quantity):
        raise ConfigError(f"{at}: {fname}: the quantity {info.quantity!r} is not `function`, `Class.method` or "
                          f"`Class.method:quantity`")
    if info.factor not in a.factors:
        close = difflib.get_close_matches(str(info.factor), sorted(a.factors), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{at}: {fname}: unknown factor kind {info.factor!r}{hint}; the kinds this assignment "
                          f"knows are {', '.join(sorted(a.factors))} (declare a new one with its sentence under "
                          f"`factors:` in assignment.yaml)")
    for key in ("rtol", "atol"):
        value = getattr(info, key)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise ConfigError(f"{at}: {fname}: graded(..., {key}={value!r}): expected a positive number")
    chosen = a.test_settings(fname)
    return GradedTest(fname, graded_info(fn, fname).name(), info.quantity, info.factor, info.regime,
                      chosen["visibility"], float(chosen["points"]), fn, module, where_of(file or path), line,
                      info.rtol, info.atol)


def _line(fn):
    code = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
    return getattr(getattr(code, "__code__", None), "co_firstlineno", 0)


def _import(path, name, a):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ConfigError(f"{where_of(path)}, line {exc.lineno}: cannot be imported: SyntaxError: {exc.msg}") from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if os.path.abspath(f.filename).startswith(a.folder + os.sep)]
        place = f"{where_of(frames[-1].filename)}, line {frames[-1].lineno}" if frames else where_of(path)
        raise ConfigError(f"{place}: {os.path.basename(path)} cannot be imported: "
                          f"{type(exc).__name__}: {exc}") from None
    return module
