"""The machines graders run on: macOS, Linux without namespaces, native Windows, a rootless
container, and a TA's own account. Each is played on Linux behind the one seam
(AUTOGRADER_SIMULATE, autograder/sandbox/platform.py), or really (a user namespace for the
rootless container; CI runs this whole suite once as root and once as a normal user).

What must hold everywhere: a correct submission gets full marks, a mistake loses only its own
points, a misbehaving function only its own tests, nothing is left running, and what was not in
force is said, never claimed. Where student code cannot run at all, grading exits 2 and names why.
"""
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from conftest import ROOT, SUBMISSIONS, failed, grade, in_square_loss, validate, write_mistake, write_submission

AS_ROOT = os.geteuid() == 0
MARK = uuid.uuid4().hex[:8]


def lost(results):
    return {t["extra_data"]["quantity"] for t in failed(results)}


def protections(results):
    return results["extra_data"]["protections"]


def interpreter_is_private():
    """Whether some folder on the way to this interpreter, numpy or /tmp is closed to other users."""
    import numpy
    for path in (os.path.realpath(sys.executable), os.path.realpath(numpy.__file__)):
        parts = path.split(os.sep)
        for i in range(2, len(parts)):
            if not os.stat(os.sep.join(parts[:i])).st_mode & 0o001:
                return os.sep.join(parts[:i])
    return None


# ---- macOS, played: RLIMIT_AS refused, no prctl, no namespaces ---------------------------------

MACOS = {"AUTOGRADER_SIMULATE": "macos"}
AS_A_TA = pytest.mark.skipif(AS_ROOT, reason="macOS is a TA's laptop, played as a normal user: the suite's "
                                            "normal-user run (.ci/run runs both) plays it")


@pytest.fixture(scope="module")
def macos(tmp_path_factory):
    """Gradings as on macOS: a correct file, a transposed link term, a loop, a memory hog, daemons."""
    folder = str(tmp_path_factory.mktemp("macos"))
    subs = {
        "correct": os.path.join(SUBMISSIONS, "backprop", "correct"),
        "transposed": write_mistake("backprop", "link-term-transposed", folder),
        "loop": write_submission(folder, "loop", in_square_loss("while True:\n    pass")),
        "hog": write_submission(folder, "hog", in_square_loss("""
            hog = []
            while True:
                hog.append(bytearray(20 * 2**20))
                hog[-1][::4096] = b"x" * len(hog[-1][::4096])  # resident, not only reserved""")),
        "daemon": write_submission(folder, "daemon", in_square_loss(f"""
            import os, sys, subprocess
            if not globals().get("SPAWNED"):
                globals()["SPAWNED"] = True  # a daemon that leaves the process group and the folder
                subprocess.Popen([sys.executable, "-c", "import os, time; os.chdir('/'); time.sleep(4245)  # {MARK}"],
                                 start_new_session=True)""")),
    }
    return {name: grade("backprop", path, os.path.join(folder, name + ".json"), env=MACOS)[0]
            for name, path in subs.items()}


@AS_A_TA
def test_on_macos_a_correct_submission_gets_full_marks(macos):
    results = macos["correct"]
    validate(results)
    assert results["score"] == 49 and not failed(results)
    assert protections(results)["memory limit"].startswith("in force: polled by the grader")
    assert "RLIMIT_AS refused" in protections(results)["memory limit"]


@AS_A_TA
def test_on_macos_a_transposed_link_term_loses_only_link_term_points(macos):
    assert lost(macos["transposed"]) == {"link_term"}


@AS_A_TA
def test_on_macos_an_infinite_loop_loses_only_its_functions_tests(macos):
    results = macos["loop"]
    assert lost(results) == {"square_loss"}
    assert all("timed out after 2 s" in t["output"] for t in failed(results))


@AS_A_TA
def test_on_macos_memory_is_limited_by_polling(macos):
    results = macos["hog"]
    assert lost(results) == {"square_loss"}
    assert all("exceeded the memory limit of 512 MB" in t["output"] for t in failed(results))


@AS_A_TA
def test_on_macos_nothing_is_left_running(macos):
    assert macos["daemon"]["score"] == 49
    import psutil
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if MARK in " ".join(p.info["cmdline"] or [])]
    assert left == []


@AS_A_TA
def test_on_macos_batch_starts_every_grader_afresh_and_grades_alike(macos, tmp_path, monkeypatch):
    """macOS's system libraries are not safe to fork once numpy is loaded: there batch starts a new
    interpreter for each grader (classroom/warm.py), and each grades as `grade` does."""
    from autograder.classroom import run, warm
    monkeypatch.setenv("AUTOGRADER_SIMULATE", "macos")
    assert not warm.Graders().warm
    shutil.copytree(os.path.join(SUBMISSIONS, "backprop", "correct"), str(tmp_path / "class" / "correct"))
    write_mistake("backprop", "link-term-transposed", str(tmp_path / "class"))
    out = str(tmp_path / "out")
    assert run.run_batch("backprop", str(tmp_path / "class"), out, jobs=2, progress=False) == 0
    got = {}
    for name in ("correct", "link-term-transposed"):
        with open(os.path.join(out, name, "results.json"), encoding="utf-8") as f:
            got[name] = json.load(f)
    assert [t["score"] for t in got["correct"]["tests"]] == [t["score"] for t in macos["correct"]["tests"]]
    assert [t["score"] for t in got["link-term-transposed"]["tests"]] == [t["score"] for t in macos["transposed"]["tests"]]


@AS_A_TA
def test_on_macos_what_is_missing_is_said(tmp_path):
    """No namespace hides the network or the files on macOS (played): each protection is said to be in
    force by what, or missing and why, in results.json and in the table's closing line."""
    results, table = grade("backprop", os.path.join(SUBMISSIONS, "backprop", "correct"), str(tmp_path / "r.json"),
                           env=MACOS)
    said = protections(results)
    assert all(v.split(": ", 1)[0] in ("in force", "missing") and len(v.split(": ", 1)[1]) > 5 for v in said.values())
    assert "namespaces" not in said["no network"] and "namespaces" not in said["grader's files hidden"]
    assert "Protections:" in table.splitlines()[-1]


# ---- Linux where the kernel refuses namespaces ------------------------------------------------------

def test_without_namespaces_grading_is_right_or_stops_naming_the_folder(tmp_path):
    env = {"AUTOGRADER_SIMULATE": "no-namespaces,no-bwrap"}
    private = interpreter_is_private()
    if AS_ROOT and private:
        results, _ = grade("backprop", os.path.join(SUBMISSIONS, "backprop", "correct"), str(tmp_path / "r.json"),
                           status=2, env=env)
        validate(results)
        assert results["extra_data"]["error"] == "machine" and private in results["extra_data"]["cause"]
        assert "not a problem with your code" in results["output"]
    else:
        results, table = grade("backprop", os.path.join(SUBMISSIONS, "backprop", "correct"), str(tmp_path / "r.json"),
                               env=env)
        assert results["score"] == 49
        assert protections(results)["no network"].startswith("missing")
        assert "EPERM" in protections(results)["no network"]
        assert "Protections:" in table and "missing: " in table


def test_without_namespaces_bubblewrap_confines_a_normal_user(tmp_path):
    if AS_ROOT:
        pytest.skip("bubblewrap is used only without root (root confines with namespaces, or drops its uid)")
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed here (apt-get install bubblewrap)")
    results, _ = grade("backprop", os.path.join(SUBMISSIONS, "backprop", "correct"), str(tmp_path / "r.json"),
                       env={"AUTOGRADER_SIMULATE": "no-namespaces"})
    assert results["score"] == 49
    assert protections(results)["no network"] == "in force: bubblewrap: no network"


# ---- native Windows ----------------------------------------------------------------------------------

WINDOWS_BOOT = """
import sys
class NotOnWindows:
    def find_spec(self, name, path=None, target=None):
        if name in ("resource", "grp", "pwd", "fcntl", "termios"):
            raise ModuleNotFoundError(f"No module named {name!r} (native Windows)", name=name)
sys.meta_path.insert(0, NotOnWindows())
from autograder.cli import main
sys.exit(main(sys.argv[1:]))
"""


def on_windows(*args):
    return subprocess.run([sys.executable, "-c", WINDOWS_BOOT, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "AUTOGRADER_SIMULATE": "windows"}, timeout=300)


@pytest.mark.parametrize("command", [["grade", "backprop", "tests/submissions/backprop/correct"],
                                     ["batch", "backprop", "tests/submissions/backprop", "--out", "/tmp/unused"],
                                     ["gradescope"]])
def test_on_windows_grading_stops_and_says_to_use_wsl2(command):
    done = on_windows(*command)
    assert done.returncode == 2 and "WSL2" in done.stderr, done.stderr


def test_on_windows_build_and_check_work(tmp_path, proofs):  # proofs: build uses them, as it uses staff's
    done = on_windows("build", "backprop", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    done = on_windows("check", "backprop", "tests/submissions/backprop/correct")
    assert done.returncode == 0, done.stdout + done.stderr


# ---- a rootless container: root, in a user namespace that maps only itself -----------------------------

def test_in_a_rootless_container_grading_is_right_and_says_who_runs_the_code(tmp_path):
    if not shutil.which("unshare") or subprocess.run(["unshare", "--user", "--map-root-user", "true"]).returncode:
        pytest.skip("this machine cannot make a user namespace (unshare --user --map-root-user)")
    out = str(tmp_path / "r.json")
    done = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-m", "autograder", "grade",
                           "backprop", os.path.join(SUBMISSIONS, "backprop", "correct"), "--json", out],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.load(open(out))
    assert results["score"] == 49
    assert "not mapped in this user namespace" in protections(results)["another user"]
    assert os.listdir(str(tmp_path)) == ["r.json"]


# ---- hostile submissions on a TA's own machine, as whoever runs the suite ---------------------------------

SECRET = f"the TA's own secret {MARK}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Each attack in square_loss returns a wrong answer when it succeeds, the right one when it fails."""
    folder = str(tmp_path_factory.mktemp("hostile"))
    secret = os.path.join(os.path.expanduser("~"), f".autograder-test-secret-{MARK}")
    with open(secret, "w") as f:
        f.write(SECRET)
    reference = os.path.join(ROOT, "reference", "backprop.py")
    attacks = {
        "reads-the-reference": f"""
            try:
                exec(open({reference!r}).read(), {{}})
                return 0.0  # wrong, as the reference would have let it cheat
            except Exception:
                pass""",
        "reads-the-tas-files": f"""
            try:
                print(open({secret!r}).read())
                return 0.0
            except Exception:
                pass""",
        "reaches-the-network": """
            import socket
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.connect(("192.0.2.1", 9))
                return 0.0
            except OSError:
                pass""",
        "kills-the-grader": """
            import os, signal
            for pid in [os.getppid()] + [int(p) for p in (os.listdir("/proc") if os.path.isdir("/proc") else [])
                                         if p.isdigit()]:
                try:
                    if pid != os.getpid() and b"autograder" in open(f"/proc/{pid}/cmdline", "rb").read():
                        os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass""",
    }
    try:
        return {name: grade("backprop", write_submission(folder, name, in_square_loss(code)),
                            os.path.join(folder, name + ".json"))[0] for name, code in attacks.items()}
    finally:
        os.remove(secret)


@pytest.mark.parametrize("name", ["reads-the-reference", "reads-the-tas-files", "reaches-the-network"])
def test_a_hostile_submission_cannot_reach_what_it_should_not(hostile, name):
    results = hostile[name]
    validate(results)
    assert results["score"] == 49, [t["output"][:300] for t in failed(results)]
    assert SECRET not in json.dumps(results)


def test_a_submission_cannot_kill_the_grading(hostile):
    results = hostile["kills-the-grader"]
    validate(results)
    assert lost(results) <= {"square_loss"}  # at most its own function, whatever it killed
