"""Shared fixtures: grade a submission as a user would (the CLI, in its own process), and the corpora.

The team's mistake corpora are kept as one-line substitutions on a correct solution
(tests/submissions/ASSIGNMENT/corpus.yaml); `mistake` writes one out as a submission.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBMISSIONS = os.path.join(ROOT, "tests", "submissions")
SCHEMA = os.path.join(ROOT, "autograder", "results.schema.json")


class _StudentFiles(dict):
    def __missing__(self, assignment):  # an assignment a course added: its assignment.yaml says
        from autograder import config
        return self.setdefault(assignment, config.find(assignment).student_file)


STUDENT_FILE = _StudentFiles(backprop="backprop.py", nn_modules="nn_modules.py")


def assignments(with_corpus=False):
    """Every assignment under assignments/ (a folder with assignment.yaml and tests/), as a course adds them;
    with_corpus: only those with a corpus (tests/submissions/NAME/corpus.yaml)."""
    folder = os.path.join(ROOT, "assignments")
    return sorted(n for n in os.listdir(folder)
                  if os.path.isfile(os.path.join(folder, n, "assignment.yaml"))
                  and os.path.isdir(os.path.join(folder, n, "tests"))
                  and (not with_corpus or os.path.isfile(os.path.join(SUBMISSIONS, n, "corpus.yaml"))))


def corpus(assignment):
    with open(os.path.join(SUBMISSIONS, assignment, "corpus.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def write_mistake(assignment, name, folder):
    """The corpus mistake `name` as a submission folder; returns its path."""
    c = corpus(assignment)
    with open(os.path.join(SUBMISSIONS, assignment, c["base"]), encoding="utf-8") as f:
        text = f.read()
    for old, new in c["mistakes"][name]["replace"]:
        assert text.count(old) == 1, f"{name}: {old!r} must occur exactly once in the base"
        text = text.replace(old, new)
    path = os.path.join(folder, name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, STUDENT_FILE[assignment]), "w", encoding="utf-8") as f:
        f.write(text)
    return path


SQUARE_LOSS = "    return float(np.sum((a - y) ** 2))  # square loss"


def in_square_loss(code, keep_answer=True):
    """The correct backprop.py with `code` run inside square_loss (which no other function calls), then
    its right answer (unless keep_answer is False)."""
    with open(os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py"), encoding="utf-8") as f:
        correct = f.read()
    body = textwrap.indent(textwrap.dedent(code).strip(), "    ")
    return correct.replace(SQUARE_LOSS, body + ("\n" + SQUARE_LOSS if keep_answer else ""))


def copied_assignment(tmp_path, extra="", name="backprop", record=False, files=None):
    """Assignment `name` copied into tmp_path, `extra` appended to its assignment.yaml (a later key replaces
    the first); files: more files, relative to its folder; record: make its record beforehand."""
    from autograder import config
    from autograder import record as recording
    folder = tmp_path / name
    shutil.copytree(config.find(name).folder, folder, ignore=shutil.ignore_patterns(*recording.KEPT_BESIDE,
                                                                                     "__pycache__"))
    with open(folder / "assignment.yaml", "a", encoding="utf-8") as f:
        f.write("\n" + extra + "\n")
    for rel, text in (files or {}).items():
        (folder / rel).write_text(text, encoding="utf-8")
    if record:
        with open(folder / recording.FILE, "w", encoding="utf-8") as f:
            json.dump(recording.make(config.find(str(folder))), f)
    return str(folder)


def write_submission(folder, name, text, assignment="backprop"):
    path = os.path.join(folder, name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, STUDENT_FILE[assignment]), "w", encoding="utf-8") as f:
        f.write(text)
    return path


def grade(assignment, submission, out, status=0, env=None, log=None):
    """`python -m autograder grade` in its own process; returns (results dict, printed table).

    status: the exit status it must end with (2 when the grader, the course or the machine failed:
    then stderr must say why). env: more environment, e.g. AUTOGRADER_SIMULATE to play another machine.
    log: a file for the staff log (--log)."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, submission, "--json", out]
                          + (["--log", log] if log else []),
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert done.returncode == status, done.stderr
    assert ("error: not graded" in done.stderr) == (status == 2), done.stderr
    with open(out, encoding="utf-8") as f:
        return json.load(f), done.stdout


def grade_many(assignment, submissions, folder):
    """Grades several submissions, two at a time (this machine has two cores)."""
    def one(numbered):  # numbered: two submissions may share a folder name (a .py and its notebook)
        index, path = numbered
        return grade(assignment, path, os.path.join(folder, f"{index}-{os.path.basename(path)}.json"))[0]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(submissions, pool.map(one, enumerate(submissions))))


def failed(results):
    return [t for t in results["tests"] if t["status"] == "failed"]


def validate(results):
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA, encoding="utf-8") as f:
        jsonschema.validate(results, json.load(f))


@dataclass(frozen=True)
class Proved:
    """What `python -m autograder validate NAME --json OUT` gave: its exit status, its output, its proof."""
    status: int
    output: str
    proof: dict

    def runs(self, kind, role):
        return [r for r in self.proof["runs"] if r["kind"] == kind and r["role"] == role]


def once_per_run(tmp_path_factory, name, make):
    """A folder that `make(folder)` fills once for the whole test run, however many pytest-xdist workers
    ask for it: the first to ask makes it, the others wait on its lock and then read what it wrote.
    Returns the folder. A `make` that raises leaves nothing behind, so the next to ask tries again."""
    from filelock import FileLock
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this run's folder, above every worker's own
    folder, done = shared / f"once-{name}", shared / f"once-{name}.done"
    with FileLock(str(shared / f"once-{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(str(folder))
            done.touch()
    return str(folder)


def prove(name, folder):
    done = subprocess.run([sys.executable, "-m", "autograder", "validate", name, "--json",
                           os.path.join(folder, "proof.json")], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    with open(os.path.join(folder, "validate.txt"), "w", encoding="utf-8") as f:
        json.dump({"status": done.returncode, "output": done.stdout + done.stderr}, f)


def proof_folder(tmp_path_factory, name):
    """Assignment `name` proved once for the whole test run: its folder (validate's proof.json and output)."""
    return once_per_run(tmp_path_factory, f"proof-{name}", lambda folder: prove(name, folder))


def pytest_collection_modifyitems(items):
    """The test files that need no proof run first: while they run, the proofs are made in the background
    (proving_ahead), and the files that need them find them made."""
    needing = {item.module.__name__ for item in items if "proofs" in item.fixturenames}
    items.sort(key=lambda item: item.module.__name__ in needing)  # stable: each file keeps its order


@pytest.fixture(scope="session", autouse=True)
def proving_ahead(request, tmp_path_factory):
    """The proofs begin with the run, in the background of one worker, when some test needs them: they are
    the run's longest part, and the tests that need none run meanwhile. Whoever asks first proves."""
    tmp_path_factory.getbasetemp()  # made here, not in the threads
    ahead = []
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0" and \
            any("proofs" in item.fixturenames for item in request.session.items):
        # every assignment at once: each proof's steps before and after its gradings run on one core
        ahead = [threading.Thread(target=proof_folder, args=(tmp_path_factory, name), name=f"proving {name}",
                                  daemon=True) for name in assignments()]
        for thread in ahead:
            thread.start()
    yield
    for thread in ahead:
        thread.join()


@pytest.fixture(scope="session")
def proofs(tmp_path_factory):
    """Every assignment proved once for the whole test run, as staff prove it before a term. The proof
    grades the whole corpus (`python -m autograder grade` on each file, as a TA runs it) and runs the
    handout's public tests on each; the corpus tests read those runs rather than grading it all again."""
    proved = {}
    for name in assignments():
        folder = proof_folder(tmp_path_factory, name)
        with open(os.path.join(folder, "validate.txt"), encoding="utf-8") as f:
            ran = json.load(f)
        out = os.path.join(folder, "proof.json")
        assert os.path.isfile(out), f"validate {name} wrote no proof:\n{ran['output']}"
        with open(out, encoding="utf-8") as f:
            proved[name] = Proved(ran["status"], ran["output"], json.load(f))
    return proved


@pytest.fixture(scope="session")
def graded_corpus(proofs):
    """Every mistake of every corpus, graded once for the whole test session (by its proof)."""
    graded = {}
    for assignment in assignments(with_corpus=True):
        runs = {r["mistake"]: r for r in proofs[assignment].runs("grade", "mistake")}
        assert set(runs) == set(corpus(assignment)["mistakes"])
        assert {m: r["error"] for m, r in runs.items() if r["error"]} == {}
        graded[assignment] = {m: r["results"] for m, r in runs.items()}
    return graded


@pytest.fixture(scope="session")
def graded_by_proof(proofs):
    """What each proof graded besides its mistakes, once for the whole test run:
    {assignment: {"reference" | "stub" | a correct folder's name: results.json}}."""
    graded = {}
    for name, proved in proofs.items():
        runs = [r for r in proved.proof["runs"] if r["kind"] == "grade" and r["role"] != "mistake"]
        assert {r["label"]: r["error"] for r in runs if r["error"]} == {}
        graded[name] = {r["label"].rstrip("/") if r["role"] == "correct" else r["role"]: r["results"] for r in runs}
    return graded


# ---- the Gradescope path: build, unzip into ROOT/source, run_autograder --------------

@pytest.fixture(scope="session")
def builds(tmp_path_factory, proofs):
    """`python -m autograder build NAME` for every assignment, once for the whole test run: {name: its
    folder, with autograder.zip and handout.zip}. After the proofs, so that build uses them (as it uses a
    proof staff made on the same machine) rather than proving the same files again."""
    def build(name, folder):
        done = subprocess.run([sys.executable, "-m", "autograder", "build", name, "--out", folder],
                              cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr
    return {name: once_per_run(tmp_path_factory, f"build-{name}", lambda f, n=name: build(n, f))
            for name in assignments()}


@pytest.fixture(scope="session")
def autograder_zip(builds):
    """backprop's autograder.zip, as `python -m autograder build backprop` writes it."""
    return os.path.join(builds["backprop"], "autograder.zip")


# parallel gradings on the Gradescope path must not share a uid (each kills every process of its own):
# each pytest-xdist worker draws from a range of its own
_first_uid = 210000 + 2000 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
_uids = iter(range(_first_uid, _first_uid + 2000))


def run_gradescope(zip_path, submission, root, metadata=None, assignment_yaml="", env=None):
    """As Gradescope does it: unzip into ROOT/source, the submission in ROOT/submission, run_autograder.

    metadata: ROOT/submission_metadata.json (a dict, or a str written as it is); assignment_yaml:
    text appended to the zip's assignment.yaml (the course's policies); env: more environment.
    """
    import shutil
    import zipfile
    os.makedirs(os.path.join(root, "results"), exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(os.path.join(root, "source"))
    if assignment_yaml:
        with open(os.path.join(root, "source", "assignments", "backprop", "assignment.yaml"), "a") as f:
            f.write("\n" + assignment_yaml)
    if metadata is not None:
        with open(os.path.join(root, "submission_metadata.json"), "w") as f:
            f.write(metadata if isinstance(metadata, str) else json.dumps(metadata))
    for name in ("setup.sh", "run_autograder"):  # zipfile does not restore modes
        os.chmod(os.path.join(root, "source", name), 0o755)
    shutil.copytree(submission, os.path.join(root, "submission"))
    env = dict(os.environ, AUTOGRADER_ROOT=root, AUTOGRADER_PYTHON=sys.executable,
               AUTOGRADER_SANDBOX_USER=str(next(_uids)), **(env or {}))  # parallel test runs must not share a uid
    done = subprocess.run(["bash", os.path.join(root, "source", "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=900)
    with open(os.path.join(root, "results", "results.json"), encoding="utf-8") as f:
        return json.load(f), done.stdout + done.stderr
