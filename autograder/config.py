"""An assignment is data: assignments/NAME/assignment.yaml, read and checked here.

Every mistake in a course's configuration is reported with the file, the key and what
is wrong with it, never as a traceback: `ConfigError` carries that sentence.
"""
import contextlib
import difflib
import fnmatch
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field

from . import policies, yamlfile
from .judging.feedback import FACTORS
from .yamlfile import ConfigError  # noqa: F401 (what the rest of the engine catches)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = os.path.join(ROOT, "assignments")
ASSIGNMENT_MODULES = ("inputs",)  # what an assignment's tests (graded and public) may import from its folder
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

DEFAULT_LIMITS = {
    "call_seconds": 2.0,        # wall time of one call into student code
    "import_seconds": 10.0,     # wall time of importing the student's file
    "start_seconds": 20.0,      # starting Python and numpy in the worker (Gradescope's CPUs are slow)
    "cpu_seconds": 120,         # CPU time of one worker process
    "memory_mb": 512,           # address space of the worker (Gradescope's container has 768 MB)
    "processes": 32,            # processes the sandbox user may run (as root only)
    "output_bytes": 4096,       # what a student prints per call, kept for feedback
    "submission_seconds": 420.0,  # all of one submission's grading (Gradescope's default limit is 600 s)
}


@dataclass
class Assignment:
    name: str
    folder: str
    title: str
    student_file: str
    also_accept: list
    tests: str
    reference: str
    misconceptions: str
    rtol: float
    atol: float
    examples: int
    instances: int
    seed: int
    limits: dict
    forbidden_imports: list
    show_student_output: bool
    points: dict = field(default_factory=dict)   # test-name pattern -> {points, visibility}
    default_points: float = 1.0
    default_visibility: str = "visible"
    submissions: policies.SubmissionLimit = None   # `submissions:` (applied on Gradescope only)
    late: policies.LatePolicy = None               # `late:` (on Gradescope and in batch)
    factors: dict = field(default_factory=lambda: dict(FACTORS))  # factor kind -> what students read
    tolerances: dict = field(default_factory=dict)  # `tolerance.tests`: test-name pattern -> {rtol, atol}
    optional_tests: list = field(default_factory=list)  # patterns: the optional tests this course runs
    optional_tests_line: int = 0                         # its line in assignment.yaml, for messages

    def runs(self, test_name, optional):
        """Whether a test is graded: every test that is not optional, and the optional ones named."""
        return not optional or any(fnmatch.fnmatchcase(test_name, p) for p in self.optional_tests)

    def check_optional(self, tests):
        """Each `optional_tests` pattern must name an optional test: tests is [(name, optional)]."""
        for pattern in self.optional_tests:
            matched = [name for name, optional in tests if fnmatch.fnmatchcase(name, pattern)]
            if not matched or not all(optional for name, optional in tests if name in matched):
                known = sorted(name for name, optional in tests if optional)
                what = "names no test" if not matched else "names a test that is not optional (it always runs)"
                line = f" (line {self.optional_tests_line})" if self.optional_tests_line else ""
                raise ConfigError(f"{where_of(os.path.join(self.folder, 'assignment.yaml'))}: "
                                  f"key `optional_tests`: {pattern!r} {what}; the optional tests of "
                                  f"{self.name}: {', '.join(known) or 'none'}{line}")

    def test_settings(self, test_name):
        """Points and visibility of one test: the last matching pattern wins over the defaults."""
        found = {"points": self.default_points, "visibility": self.default_visibility}
        for pattern, settings in self.points.items():
            if fnmatch.fnmatchcase(test_name, pattern):
                found.update(settings)
        return found

    def tolerance(self, test_name):
        """(rtol, atol) of one test, from assignment.yaml: the last matching pattern of `tolerance.tests`
        wins over `tolerance.rtol` and `tolerance.atol` (graded() and check() may set their own)."""
        found = {"rtol": self.rtol, "atol": self.atol}
        for pattern, settings in self.tolerances.items():
            if fnmatch.fnmatchcase(test_name, pattern):
                found.update(settings)
        return found["rtol"], found["atol"]

    @contextlib.contextmanager
    def importable(self):
        """The assignment's own modules (inputs.py) importable by its tests, for the length of the block.

        Every assignment calls its input builders `inputs`: the one imported is this one's.
        """
        own = [name for name in ASSIGNMENT_MODULES if os.path.isfile(os.path.join(self.folder, name + ".py"))]
        for name in own:
            sys.modules.pop(name, None)
        sys.path.insert(0, self.folder)
        try:
            yield
        finally:
            sys.path.remove(self.folder)
            for name in own:
                sys.modules.pop(name, None)

    def load_reference(self):
        spec = importlib.util.spec_from_file_location(f"reference.{self.name}", self.reference)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def find(name_or_path):
    """An assignment by folder name under assignments/, or by path."""
    folder = name_or_path if os.path.isdir(name_or_path) else os.path.join(ASSIGNMENTS, name_or_path)
    if not os.path.isfile(os.path.join(folder, "assignment.yaml")):
        known = sorted(d for d in os.listdir(ASSIGNMENTS) if os.path.isfile(os.path.join(ASSIGNMENTS, d, "assignment.yaml")))
        raise ConfigError(f"no assignment {name_or_path!r}: expected a folder with assignment.yaml "
                          f"(known assignments: {', '.join(known)})")
    return load(os.path.join(folder, "assignment.yaml"))


KEYS = {"name", "title", "student_file", "also_accept", "tests", "reference", "misconceptions",
        "tolerance", "examples", "seed", "limits", "forbidden_imports", "show_student_output",
        "defaults", "points", "submissions", "late", "factors",
        "optional_tests"}
FACTOR_KIND = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")  # loss-unit, shift-term: what graded() names


def where_of(path):
    """A course file as messages name it: relative to the checkout when it is inside it."""
    return os.path.relpath(path, ROOT) if os.path.abspath(path).startswith(ROOT + os.sep) else path


def load(path):
    where = where_of(path)
    doc = yamlfile.read(path, where)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values at the top level")
    read = Reader(where, data, doc)
    read.unknown(data, KEYS, "")
    folder = os.path.dirname(os.path.abspath(path))
    tolerance = read.mapping("tolerance", {"rtol", "atol", "tests"})
    examples = read.mapping("examples", {"hypothesis", "instances"})
    defaults = read.mapping("defaults", {"points", "visibility"})
    limits = dict(DEFAULT_LIMITS)
    for key, value in read.mapping("limits", set(DEFAULT_LIMITS)).items():
        limits[key] = read.positive(f"limits.{key}", value)
    points = {}
    for pattern, settings in read.mapping("points", None).items():
        if not isinstance(settings, dict):
            settings = {"points": settings}
        read.unknown(settings, {"points", "visibility"}, f"points.{pattern}.")
        points[str(pattern)] = read.test_settings(f"points.{pattern}", settings)
    name = read.text("name", os.path.basename(folder))
    reference = os.path.join(ROOT, "reference", read.text("reference", name) + ".py")
    if not os.path.isfile(reference):
        read.fail("reference", f"no file {os.path.relpath(reference, ROOT)}")
    tests = os.path.join(folder, read.text("tests", "tests"))
    if not os.path.isdir(tests):
        read.fail("tests", f"no folder {os.path.relpath(tests, ROOT)}")
    default = read.test_settings("defaults", defaults)
    submissions, late = policies.read(read)
    return Assignment(
        name=name, folder=folder, title=read.text("title", name),
        student_file=read.text("student_file", None),
        also_accept=read.texts("also_accept"), tests=tests, reference=reference,
        misconceptions=os.path.join(folder, read.text("misconceptions", "misconceptions.yaml")),
        rtol=read.positive("tolerance.rtol", tolerance.get("rtol", 1e-4)),
        atol=read.positive("tolerance.atol", tolerance.get("atol", 1e-6)),
        examples=int(read.positive("examples.hypothesis", examples.get("hypothesis", 10))),
        instances=int(read.positive("examples.instances", examples.get("instances", 10))),
        seed=int(read.number("seed", data.get("seed", 6390))),
        limits=limits, forbidden_imports=read.texts("forbidden_imports"),
        show_student_output=bool(data.get("show_student_output", True)),
        points=points, default_points=default.get("points", 1.0),
        default_visibility=default.get("visibility", "visible"), submissions=submissions, late=late,
        factors={**FACTORS, **read.factors()}, tolerances=read.tolerances(tolerance.get("tests")),
        optional_tests=read.texts("optional_tests"), optional_tests_line=doc.line("optional_tests") or 0)


class Reader:
    """Type checks that name the file and the key."""

    def __init__(self, where, data, doc=None):
        self.where, self.data, self.doc = where, data, doc

    def fail(self, key, what):
        line = self.doc.line(*key.split(".")) if self.doc else None
        raise ConfigError(f"{self.where}: key `{key}`: {what}" + (f" (line {line})" if line else ""))

    def unknown(self, data, known, prefix):
        if known is None:
            return
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f" (did you mean `{prefix}{close[0]}`?)" if close else f" (known: {', '.join(sorted(known))})"
                self.fail(f"{prefix}{key}", f"unknown key{hint}")

    def mapping(self, key, known):
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, got {value!r}")
        self.unknown(value, known, f"{key}.")
        return value

    def text(self, key, default):
        value = self.data.get(key, default)
        if value is None:
            self.fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def texts(self, key):
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"expected a list of names, got {value!r}")
        return value

    def number(self, key, value):
        try:
            # PyYAML reads 1e-4 (no dot) as a string: accept what a person would write
            return float(value)
        except (TypeError, ValueError):
            self.fail(key, f"expected a number, got {value!r}")

    def positive(self, key, value):
        number = self.number(key, value)
        if not number > 0:
            self.fail(key, f"expected a positive number, got {value!r}")
        return number

    def factors(self):
        """`factors:`: the assignment's own factor kinds (or its own words for a built-in one)."""
        found = {}
        for kind, sentence in self.mapping("factors", None).items():
            if not isinstance(kind, str) or not FACTOR_KIND.fullmatch(kind):
                self.fail(f"factors.{kind}", "a factor kind is lowercase words joined by hyphens "
                                             "(`shift-term`), as graded() names it")
            if not isinstance(sentence, str) or not sentence.strip():
                self.fail(f"factors.{kind}", "expected the sentence students read after \"This test checks "
                                             "`quantity`:\", e.g. \"the shift term ∂y/∂β, one per feature\"")
            found[kind] = " ".join(sentence.split())
        return found

    def tolerances(self, patterns):
        """`tolerance.tests`: test-name pattern -> {rtol, atol}, each checked."""
        if patterns is None:
            return {}
        if not isinstance(patterns, dict):
            self.fail("tolerance.tests", f"expected a mapping of test-name patterns to {{rtol, atol}}, got {patterns!r}")
        out = {}
        for pattern, settings in patterns.items():
            key = f"tolerance.tests.{pattern}"
            if not isinstance(settings, dict) or not settings:
                self.fail(key, f"expected {{rtol: ..., atol: ...}} (either or both), got {settings!r}")
            self.unknown(settings, {"rtol", "atol"}, f"{key}.")
            out[str(pattern)] = {k: self.positive(f"{key}.{k}", v) for k, v in settings.items()}
        return out

    def test_settings(self, key, settings):
        out = {}
        if "points" in settings:
            points = self.number(f"{key}.points", settings["points"])
            if points < 0:
                self.fail(f"{key}.points", f"expected points >= 0, got {settings['points']!r}")
            out["points"] = points
        if "visibility" in settings:
            if settings["visibility"] not in VISIBILITIES:
                self.fail(f"{key}.visibility",
                          f"expected one of {', '.join(VISIBILITIES)}, got {settings['visibility']!r}")
            out["visibility"] = settings["visibility"]
        return out
