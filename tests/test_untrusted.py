"""Student code is untrusted: each class of misbehaviour, tried as a student would, must leave a
valid results.json with the honest score, and cost points only on the function that misbehaves.

Every attack below is the correct solution with one function, `square_loss` (which no other
function of the correct solution calls), or the module's top level changed. It is graded
through the Gradescope path (build, unzip, run_autograder) when the tests run as root, as
Gradescope runs it, and always through `python -m autograder grade`.
"""
import json
import os
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SQUARE_LOSS, SUBMISSIONS, failed, grade, in_square_loss, run_gradescope, validate, write_submission

AS_ROOT = os.geteuid() == 0
CORRECT = open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8").read()
LINE = SQUARE_LOSS.strip()
MARK = uuid.uuid4().hex[:8]  # names this run's leftovers and markers


def at_import(code):
    return CORRECT + "\n" + textwrap.dedent(code)


ATTACKS = {
    # name: (source, the quantities that must lose points; None = every test)
    "loop-at-import": (at_import("while True:\n    pass\n"), None),
    "loop-in-function": (in_square_loss("while True:\n    pass"), {"square_loss"}),
    "sys-exit-in-function": (in_square_loss("import sys\nsys.exit(0)"), {"square_loss"}),
    "os-exit-in-function": (in_square_loss("import os\nos._exit(0)"), {"square_loss"}),
    "sys-exit-at-import": (at_import("import sys\nsys.exit(3)\n"), None),
    "memory-exhaustion": (in_square_loss("""
        hog = []
        while True:
            hog.append(bytearray(50 * 2**20))"""), {"square_loss"}),
    "huge-array": (in_square_loss("np.ones((2**17, 2**17))"), {"square_loss"}),
    "deep-recursion": (in_square_loss("""
        import sys
        sys.setrecursionlimit(10**7)
        def down(n):
            return down(n + 1) + 1
        down(0)"""), {"square_loss"}),
    "background-processes": (in_square_loss(f"""
        import subprocess, sys
        if not globals().get("SPAWNED"):  # once: square_loss itself stays correct
            globals()["SPAWNED"] = True
            # a child that ignores TERM and HUP, and a grandchild of it in a session of its own
            # (the reduced file system has no shell or sleep: Python it is)
            stay = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                    "signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(4242)  # ")
            spawn = (f"import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', {{stay + '4242{MARK[:2]}'!r}}], "
                     f"start_new_session=True); os.execv(sys.executable, [sys.executable, '-c', {{stay + '4243{MARK[:2]}'!r}}])")
            subprocess.Popen([sys.executable, "-c", spawn], start_new_session=True)"""), set()),
    "fork-and-ignore-sigterm": (in_square_loss(f"""
        import os, signal, sys, time
        if not globals().get("FORKED"):
            globals()["FORKED"] = True
            if os.fork() == 0:
                os.setsid()
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(4244)  # 4244{MARK[:2]}"])"""), set()),
    "fork-bomb": (in_square_loss("""
        import os
        while True:
            os.fork()"""), {"square_loss"}),
    "prints-megabytes": (in_square_loss("print('x' * 10**7)"), set()),
    "prints-megabytes-and-is-wrong": (in_square_loss("print('x' * 10**7)\nreturn 12345.0", keep_answer=False),
                                      {"square_loss"}),
    "fake-results-json": (in_square_loss("""
        import json, os
        fake = {"score": 1000, "tests": []}
        for path in ("results.json", "../results.json", "/autograder/results/results.json",
                     os.path.join(os.environ.get("AUTOGRADER_ROOT", "/nonexistent"), "results", "results.json")):
            try:
                with open(path, "w") as f:
                    json.dump(fake, f)
            except OSError:
                pass
        return 12345.0""", keep_answer=False), {"square_loss"}),
    "monkey-patch-comparisons": (at_import("""
        np.allclose = lambda *a, **k: True
        np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)
        np.testing.assert_allclose = lambda *a, **k: None
        np.array_equal = lambda *a, **k: True
        try:
            import pytest
            pytest.approx = lambda expected, *a, **k: expected
        except Exception:
            pass
        import builtins
        builtins.abs = lambda x: 0
        """).replace("    " + LINE, "    return 12345.0  # square loss"), {"square_loss"}),
    "code-in-returned-object": (in_square_loss(f"""
        import os, sys
        class Sly(float):
            def __array__(self, dtype=None, copy=None):
                with open("/tmp/autograder-sly-{MARK}", "a") as f:
                    f.write(f"{{os.getuid()}} {{sys.argv[0]}}\\n")
                return np.array(12345.0)
            def __reduce__(self):
                return (os.system, ("touch /tmp/autograder-pickled-{MARK}",))
            def __eq__(self, other):
                return True
            __ne__ = lambda self, other: False
            __sub__ = __rsub__ = lambda self, other: 0.0
            __abs__ = lambda self: 0.0
        return Sly(12345.0)""", keep_answer=False), {"square_loss"}),
    "submission-ships-grader-files": (None, {"square_loss"}),  # built in `submission()`
}


def submission(name, folder):
    source, _ = ATTACKS[name]
    if name != "submission-ships-grader-files":
        return write_submission(folder, name, source)
    # conftest.py, sitecustomize.py, and modules named like the grader's, beside a wrong square_loss
    path = write_submission(folder, name, CORRECT.replace(LINE, "return 12345.0  # square loss"))
    hook = "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n" \
           "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    files = {"conftest.py": hook, "sitecustomize.py": "raise SystemExit('sitecustomize ran')\n",
             "usercustomize.py": "raise SystemExit('usercustomize ran')\n",
             "autograder/__init__.py": "raise SystemExit('fake autograder')\n",
             "reference/__init__.py": "", "reference/backprop.py": "def square_loss(a, y):\n    return 12345.0\n",
             "hypothesis.py": "raise SystemExit('fake hypothesis')\n", "yaml.py": "raise SystemExit('fake yaml')\n",
             "pytest.py": "raise SystemExit('fake pytest')\n"}
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(path, rel)), exist_ok=True)
        with open(os.path.join(path, rel), "w") as f:
            f.write(text)
    return path


def leftovers():
    """Processes whose command line carries this run's markers."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(f"{n}{MARK[:2]}" in cmd for n in (4242, 4243, 4244)):
            found.append(cmd)
    return found


PATHS = ["grade", "gradescope"]


def cannot_run(name, path):
    """Why this machine does not try attack `name` through `path` (its tests then skip, saying so), or None."""
    if path == "gradescope" and not AS_ROOT:
        return ("the Gradescope path runs as root (run_autograder); as a normal user, tests/test_platforms.py "
                "tries the attacks that matter there through `grade`")
    if name == "fork-bomb" and not AS_ROOT:
        return ("a fork bomb is tried as root only: a normal user's sandbox has no process limit of its own "
                "(RLIMIT_NPROC would count all of the user's processes)")
    return None


@pytest.fixture(scope="module")
def graded_attacks(tmp_path_factory, autograder_zip):
    folder = str(tmp_path_factory.mktemp("attacks"))

    def one(key):
        name, path = key
        sub = submission(name, os.path.join(folder, path))
        if path == "grade":
            results, _ = grade("backprop", sub, os.path.join(folder, f"{name}.json"))
        else:
            results, _ = run_gradescope(autograder_zip, sub, os.path.join(folder, f"root-{name}"))
        return key, results
    keys = [(name, path) for name in ATTACKS for path in PATHS if not cannot_run(name, path)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, keys))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_leaves_an_honest_valid_result(graded_attacks, name, path):
    if cannot_run(name, path):
        pytest.skip(cannot_run(name, path))
    results = graded_attacks[(name, path)]
    validate(results)
    lost = {t["extra_data"]["quantity"] for t in failed(results)}
    expected = ATTACKS[name][1]
    if expected is None:  # the whole file is unusable: every test fails, with the reason
        assert results["score"] == 0 and lost == {t["extra_data"]["quantity"] for t in results["tests"]}
    else:
        assert lost == expected, sorted({(t["extra_data"]["quantity"], t["output"].split("\n")[2][:200])
                                         for t in failed(results)})
    total = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == sum(t["score"] for t in results["tests"]) <= total


def test_limits_are_named_in_the_feedback(graded_attacks):
    def text(name):
        return "\n".join(t["output"] for t in failed(graded_attacks[(name, "grade")]))
    assert "timed out after 2 s" in text("loop-in-function")
    assert "timed out" in graded_attacks[("loop-at-import", "grade")]["output"]
    assert "memory limit of 512 MB" in text("memory-exhaustion")
    assert "memory limit of 512 MB" in text("huge-array")
    assert "called sys.exit(0)" in text("sys-exit-in-function")
    assert "exit code 0" in text("os-exit-in-function")
    assert "sys.exit(3)" in graded_attacks[("sys-exit-at-import", "grade")]["output"]
    if ("fork-bomb", "grade") in graded_attacks:  # the forks' own answers never reach the grader
        assert "raised BlockingIOError" in text("fork-bomb")
    # Python 3.10 overflows the C stack (a signal) or stops at the limit; 3.11 and later keep Python
    # frames off the C stack, so the raised limit runs into the time or memory limit instead.
    assert any(limit in text("deep-recursion") for limit in ("signal", "RecursionError", "timed out after 2 s",
                                                             "memory limit of 512 MB"))


def test_no_process_of_a_submission_outlives_its_grading(graded_attacks):
    assert leftovers() == []


@pytest.mark.parametrize("path", PATHS)
def test_printing_megabytes_keeps_results_small(graded_attacks, path):
    """A failed test shows what the student printed, cut to output_bytes with a note; passed tests show none."""
    if cannot_run("prints-megabytes-and-is-wrong", path):
        pytest.skip(cannot_run("prints-megabytes-and-is-wrong", path))
    results = graded_attacks[("prints-megabytes-and-is-wrong", path)]
    shown = [t["output"] for t in failed(results)]
    assert shown and all("**Your code printed:**" in o and "more characters of output cut]" in o for o in shown)
    assert len(json.dumps(results)) < 100_000  # 10 MB printed on each of 100 calls


def test_code_in_returned_objects_runs_only_in_the_worker(graded_attacks):
    marker = f"/tmp/autograder-sly-{MARK}"
    assert not os.path.exists(f"/tmp/autograder-pickled-{MARK}")  # nothing was ever unpickled
    if os.path.exists(marker):
        for line in open(marker).read().split("\n"):
            if line:
                uid, program = line.split(" ", 1)
                assert program.endswith("worker.py")
                if AS_ROOT:
                    assert uid != "0"
        os.remove(marker)


@pytest.mark.skipif(not AS_ROOT, reason="the Gradescope path runs as root (run_autograder); as a normal user, "
                                        "tests/test_platforms.py tries the same through `grade`")
def test_the_reference_cannot_be_read_or_imported(tmp_path, autograder_zip):
    root = str(tmp_path / "root")
    cheat = in_square_loss(f"""
        import os, sys
        attempts = [
            lambda: __import__("reference.backprop", fromlist=["square_loss"]),
            lambda: run_file("{root}/source/reference/backprop.py"),
            lambda: run_file(f"/proc/{{os.getppid()}}/cwd/reference/backprop.py"),
            lambda: run_file(f"/proc/{{os.getppid()}}/root{root}/source/reference/backprop.py"),
        ]
        def run_file(path):
            namespace = {{}}
            exec(open(path).read(), namespace)
            return type("M", (), namespace)
        for attempt in attempts:
            try:
                return attempt().square_loss(a, y)
            except Exception:
                pass
        return -1.0""", keep_answer=False)
    results, log = run_gradescope(autograder_zip, write_submission(str(tmp_path), "cheat", cheat), root)
    validate(results)
    assert {t["extra_data"]["quantity"] for t in failed(results)} == {"square_loss"}, log


def test_forbidden_imports_fail_with_the_course_rule(tmp_path):
    source = in_square_loss("import torch")
    results, _ = grade("backprop", write_submission(str(tmp_path), "torch", source), str(tmp_path / "r.json"))
    validate(results)
    outputs = [t["output"] for t in failed(results)]
    assert {t["extra_data"]["quantity"] for t in failed(results)} == {"square_loss"}
    assert all("importing torch is not allowed" in o for o in outputs)


def test_student_code_has_no_network_as_root(tmp_path, autograder_zip):
    if not AS_ROOT:
        pytest.skip("the Gradescope path runs as root (run_autograder); as a normal user, "
                    "tests/test_platforms.py tries the network through `grade`")
    probe = in_square_loss("""
        import socket
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        except OSError as exc:
            if "unreachable" in str(exc).lower():
                return 777.0
        return 12345.0""", keep_answer=False)
    results, _ = run_gradescope(autograder_zip, write_submission(str(tmp_path), "net", probe), str(tmp_path / "root"))
    outputs = "\n".join(t["output"] for t in failed(results))
    assert "777" in outputs  # the connection failed as in an empty network namespace, not refused


def test_worker_runs_without_privileges_as_root(tmp_path, autograder_zip):
    if not AS_ROOT:
        pytest.skip("only root has privileges to drop")
    probe = in_square_loss("import os\nreturn float(os.getuid())", keep_answer=False)
    results, _ = run_gradescope(autograder_zip, write_submission(str(tmp_path), "uid", probe), str(tmp_path / "root"))
    returned = [t["output"] for t in failed(results)]
    assert returned and "returned = 0.0" not in returned[0] and "it is 0," not in returned[0]
