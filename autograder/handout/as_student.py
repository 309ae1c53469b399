"""Running the public tests as a student would: `python -m autograder check` and the project's tests.

    check(assignment, submission=None)   builds the handout, puts the submission's file in it, runs pytest

A student's machine has numpy, pytest and Hypothesis, and none of this project: the tests
run in isolated mode with this project's packages (and what only the grader needs) made
unimportable.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from .. import config as configuration
from .build import build_handout

# What a student's machine does not have: the project, and what only the grader needs.
NOT_ON_A_STUDENTS_MACHINE = ("autograder", "reference", "gradescope_utils", "yaml", "tqdm", "jsonschema",
                             "psutil")
BOOT = f"""\
import sys

class _NotOnAStudentsMachine:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {NOT_ON_A_STUDENTS_MACHINE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not on a student's machine)", name=name)
        return None

sys.meta_path.insert(0, _NotOnAStudentsMachine())
import pytest
raise SystemExit(int(pytest.main(sys.argv[1:])))
"""


def student_command(args=()):
    """`pytest ARGS` as on a student's machine: isolated mode, and this project's packages unimportable."""
    return [sys.executable, "-I", "-c", BOOT, *args]


def run_public_tests(folder, args=(), **kwargs):
    """Runs the public tests of an unpacked handout in `folder`; a CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    return subprocess.run(student_command(args), cwd=folder, env=env, **kwargs)


def outcomes(zip_path, folder, student=None, timeout=300):
    """The public tests of a handout on one student file, as a student runs them.

    Unpacks the zip into `folder`, puts `student` (a file) in as the student file, runs pytest;
    returns {test function: (outcome, message)}, outcome one of passed, failure, error, skipped.
    """
    import json
    import xml.etree.ElementTree as ET
    unpack(zip_path, folder)
    with open(os.path.join(folder, "tests", "support", "cases.json"), encoding="utf-8") as f:
        student_file = json.load(f)["student_file"]
    if student:
        shutil.copyfile(student, os.path.join(folder, student_file))
    xml = folder.rstrip(os.sep) + ".xml"
    done = run_public_tests(folder, ["-p", "no:cacheprovider", "-q", "--junitxml", xml],
                            capture_output=True, text=True, timeout=timeout)
    if not os.path.isfile(xml):
        raise RuntimeError(f"the public tests did not run: {(done.stdout + done.stderr)[-2000:]}")
    found = {}
    for case in ET.parse(xml).iter("testcase"):
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None), "passed")
        element = case.find(kind) if kind != "passed" else None
        found[case.get("name")] = (kind, "" if element is None else
                                   (element.get("message", "") + "\n" + (element.text or "")))
    return found


def unpack(zip_path, folder):
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder)
    return folder


def check(assignment_name, submission=None):
    """Builds the handout, puts the submission's student file in it, runs its public tests: pytest's exit code."""
    from ..cli import UsageError, existing
    from ..uploads import Upload, prepare
    a = configuration.find(assignment_name)
    upload = prepare(existing(submission), a) if submission is not None else Upload()
    if upload.problem:
        raise UsageError(upload.problem)
    student = upload.path  # a copy's name, a zip, a notebook: made the student file, as for grading
    with upload, tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        zip_path = build_handout(a, os.path.join(tmp, "dist"))
        folder = unpack(zip_path, os.path.join(tmp, "handout"))
        if student:
            shutil.copyfile(student, os.path.join(folder, a.student_file))
        what = (os.path.relpath(student) if not upload.folders else os.path.relpath(submission)) if student \
            else f"the stub {a.student_file}"
        print(f"public tests of {a.name} on {what}, as a student runs them (pytest in the unpacked handout.zip)",
              flush=True)
        done = run_public_tests(folder, ["-p", "no:cacheprovider"])
    return done.returncode
