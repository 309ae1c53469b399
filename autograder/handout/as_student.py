"""Running the public tests as a student would: `python -m autograder check` and the project's tests.

    check(assignment, submission=None)   builds the handout, puts the submission's file in it, runs pytest

A student's machine has numpy, pytest and Hypothesis, and none of this project: the tests
run in isolated mode with this project's packages (and what only the grader needs) made
unimportable.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile

from .. import config as configuration
from .build import build_handout

# What a student's machine does not have: the project, and what only the grader needs.
NOT_ON_A_STUDENTS_MACHINE = ("autograder", "reference", "gradescope_utils", "yaml", "tqdm", "jsonschema",
                             "psutil")
BLOCK = f"""\
import sys

class _NotOnAStudentsMachine:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {NOT_ON_A_STUDENTS_MACHINE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not on a student's machine)", name=name)
        return None

sys.meta_path.insert(0, _NotOnAStudentsMachine())
"""
BOOT = BLOCK + """\
import pytest
raise SystemExit(int(pytest.main(sys.argv[1:])))
"""
# Many runs of the public tests, each forked from one interpreter that set itself up as BOOT does and
# imported what every run imports first (what a student's machine has): each run is still a process of
# its own, in its folder, under its own environment, and imports the tests and the student's file afresh.
SERVE = BLOCK + """\
import json, os
import numpy, pytest, hypothesis, hypothesis.strategies, hypothesis.extra.pytestplugin

for line in sys.stdin:
    run = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.chdir(run["folder"])
            os.environ.clear()
            os.environ.update(run["env"])
            out = os.open(run["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            nothing = os.open(os.devnull, os.O_RDONLY)
            for fd, to in ((nothing, 0), (out, 1), (out, 2)):
                os.dup2(fd, to)
            sys.argv = ["-c", *run["args"]]
            code = int(pytest.main(run["args"]))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    print(json.dumps({"status": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}), flush=True)
"""


def student_command(args=()):
    """`pytest ARGS` as on a student's machine: isolated mode, and this project's packages unimportable."""
    return [sys.executable, "-I", "-c", BOOT, *args]


def student_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}


def run_public_tests(folder, args=(), **kwargs):
    """Runs the public tests of an unpacked handout in `folder`; a CompletedProcess."""
    return subprocess.run(student_command(args), cwd=folder, env=student_env(), **kwargs)


class Students:
    """Runs of the public tests, one after the other, each as `run_public_tests` runs them. On Linux each run
    is forked from a server (SERVE) that spares it the interpreter's start and the imports every run makes
    (about a third of a run); elsewhere (macOS's libraries are not safe to fork once numpy is loaded) each
    is a new interpreter. One per thread; close() ends the server."""

    def __init__(self):
        from ..sandbox import platform
        self.server = self.start() if platform.system() == "linux" else None

    @staticmethod
    def start():
        return subprocess.Popen([sys.executable, "-I", "-c", SERVE], env=student_env(), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def run(self, folder, args, output, timeout):
        """pytest ARGS in `folder`, as a student runs it, its output in the file `output`; its exit code.
        Raises subprocess.TimeoutExpired past `timeout` seconds (the run is killed)."""
        if self.server is None:
            with open(output, "w", encoding="utf-8") as out:
                return run_public_tests(folder, args, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=timeout).returncode
        if self.server.poll() is not None:  # an earlier run's file killed it: the next run gets a new one
            self.server = self.start()
        self.server.stdin.write(json.dumps({"folder": os.path.abspath(folder), "args": list(args),
                                            "output": os.path.abspath(output), "env": student_env()}) + "\n")
        self.server.stdin.flush()
        pid = self.answer()["pid"]
        killed = []

        def kill():
            killed.append(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        overran = threading.Timer(timeout, kill)
        overran.start()
        try:
            status = self.answer()["status"]
        finally:
            overran.cancel()
        if killed:
            raise subprocess.TimeoutExpired(student_command(args), timeout)
        return status

    def answer(self):
        line = self.server.stdout.readline()
        if not line:
            raise RuntimeError(f"the server of public-test runs ended (exit status {self.server.wait()})")
        return json.loads(line)

    def close(self):
        if self.server is not None:
            try:
                self.server.stdin.close()
            except OSError:  # it had ended
                pass
            self.server.wait()


def outcomes(zip_path, folder, student=None, timeout=300, students=None):
    """The public tests of a handout on one student file, as a student runs them.

    Unpacks the zip into `folder`, puts `student` (a file) in as the student file, runs pytest (through
    `students`, a Students, when given); returns {test function: (outcome, message)}, outcome one of
    passed, failure, error, skipped.
    """
    import xml.etree.ElementTree as ET
    unpack(zip_path, folder)
    with open(os.path.join(folder, "tests", "support", "cases.json"), encoding="utf-8") as f:
        student_file = json.load(f)["student_file"]
    if student:
        shutil.copyfile(student, os.path.join(folder, student_file))
    xml = folder.rstrip(os.sep) + ".xml"
    args = ["-p", "no:cacheprovider", "-q", "--junitxml", xml]
    if students is None:
        done = run_public_tests(folder, args, capture_output=True, text=True, timeout=timeout)
        printed = done.stdout + done.stderr
    else:
        output = folder.rstrip(os.sep) + ".txt"
        status = students.run(folder, args, output, timeout)
        try:
            with open(output, encoding="utf-8", errors="replace") as f:
                printed = f.read()
        except FileNotFoundError:  # the run ended before pytest started
            printed = f"exit status {status}"
    if not os.path.isfile(xml):
        raise RuntimeError(f"the public tests did not run: {printed[-2000:]}")
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
