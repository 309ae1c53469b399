"""Grading a whole class on one machine: `python -m autograder batch` and `compare`.

    python -m autograder batch ASSIGNMENT SUBMISSIONS --out DIR [--jobs N] [--force]
    python -m autograder compare OLD_DIR NEW_DIR

SUBMISSIONS is a folder with one subfolder (or one file: `.py`, graded as the student
file, or `.zip`) per student, or a Gradescope "Export Submissions" zip or its unpacked
folder (`submission_metadata.yml` beside one `submission_<id>` folder per submission).

One grading core: every submission is graded by its own `python -m autograder grade`
process, exactly as a TA grades one submission (same code, same worker, same limits), so
a submission that hangs, crashes or attacks the grader costs only its own row. Nothing
here compares answers or writes feedback; it only runs graders and reads results.json.

What DIR holds:

    DIR/<submission>/results.json   Gradescope's format, written atomically (also when the
                                    grader died or overran: then extra_data.error says so)
    DIR/<submission>/grade.txt      what `grade` printed (the per-test table)
    DIR/<submission>/pytest.log     the grader's own log
    DIR/scores.csv                  one row per student (see below)
    DIR/report.md, DIR/report.html  the class at a glance
    DIR/.batch.json                 the class: submission ids and their submitters
    DIR/.export/, DIR/.staged/      an extracted export zip; single-file submissions as folders

scores.csv, UTF-8, one row per submitter (a group submission gives each member a row;
a submission without metadata gives one row with empty name, email and SID):

    Name, Email, SID, Submission ID, Total, then one column per test ("<number> <name>
    (<points>)") holding the points earned; empty where the test did not run.

For a gradebook import only the identity columns and Total matter. Gradescope's score
import for an assignment matches students by Email (or SID) and reads the column you pick
as the score (choose Total). Canvas's gradebook import matches students by its own
columns (ID, SIS User ID or SIS Login ID): rename SID to "SIS User ID" (if your SIDs are
Canvas's SIS ids) and Total to the assignment's column title, and drop the per-test
columns or let Canvas ignore them. Rows are sorted by submission id and the file is
byte-identical whenever the same class is graded again.

Resumable: a submission whose results.json exists (and whose files have not changed since)
is not graded again unless --force. Ctrl-C stops every grader and keeps what is done.
"""
import base64
import csv
import hashlib
import html
import io
import json
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, deque
from dataclasses import dataclass, field

import yaml

from . import config as configuration
from .config import ROOT, ConfigError
from .results import failed_run, write_results

METADATA = "submission_metadata.yml"
MANIFEST = ".batch.json"
FINGERPRINT = ".fingerprint.json"
RESERVED = {"scores.csv", "report.md", "report.html"}
ZIP_MAX_ENTRIES = 200_000
ZIP_MAX_ENTRY_BYTES = 256 * 2**20
ZIP_MAX_TOTAL_BYTES = 4 * 2**30
SLACK_SECONDS = 120  # beyond the assignment's own limits before a grader process is stopped
POLL_SECONDS = 0.05
REPORT_HINT = 'pip install -e ".[report]"'


class BatchError(Exception):
    """The class cannot be read (no such folder, an unsafe zip...): the message says why."""


@dataclass
class Submission:
    id: str
    path: str                       # what `grade` is given
    submitters: list = field(default_factory=list)  # [{"name", "email", "sid"}]
    missing: str = None             # the export lists it but has no files for it
    digest: str = None              # its files' fingerprint, taken once before grading


# ---- the command -------------------------------------------------------------------

def run_batch(assignment, submissions, out, jobs=None, force=False, *, wall_seconds=None, progress=True):
    """Grades every submission of a class into `out`; returns the exit status (0, 2, or 130 on Ctrl-C).

    wall_seconds: how long one grader process may run before it is stopped (default: the
    assignment's submission_seconds + import_seconds + start_seconds + 2 minutes).
    """
    try:
        a = configuration.find(assignment)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assignment_arg = os.path.abspath(assignment) if os.path.isdir(assignment) else assignment
    out = os.path.abspath(out)
    try:
        os.makedirs(out, exist_ok=True)
        subs = discover(submissions, out, a)
    except (BatchError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not subs:
        print(f"error: no submissions found in {submissions}", file=sys.stderr)
        return 2
    write_manifest(out, a, subs)

    grader = grader_fingerprint(a)
    todo, stale = [], []
    for s in subs:
        done = previous(out, s)
        s.digest = fingerprint(s)
        if force or done is None or done.get("submission") != s.digest:
            todo.append(s)
        elif done.get("grader") != grader:
            stale.append(s.id)
    skipped = len(subs) - len(todo)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    wall = wall_seconds or (a.limits["submission_seconds"] + a.limits["import_seconds"]
                            + a.limits["start_seconds"] + SLACK_SECONDS)
    print(f"{len(subs)} submissions in {submissions}: grading {len(todo)}"
          + (f", {skipped} already graded (--force grades them again)" if skipped else "")
          + f", {jobs} at a time", file=sys.stderr)
    started = time.monotonic()
    interrupted, failures = grade_all(todo, out, assignment_arg, jobs, wall, grader, progress)
    elapsed = time.monotonic() - started

    results = load_all(out, subs)
    write_scores(out, subs, results)
    charts = write_reports(out, a, subs, results)
    graded = len(todo) - sum(1 for s in todo if s.id not in results)
    print(f"graded {graded} in {elapsed:.1f} s" + (f" ({graded / elapsed:.2f} submissions/s)" if graded and elapsed else "")
          + (f"; {failures} could not be graded (see report.md)" if failures else ""), file=sys.stderr)
    if stale:
        print(f"note: {len(stale)} submissions were graded by a different version of the tests or the "
              f"grader; run again with --force to grade them again", file=sys.stderr)
    print(f"wrote {os.path.join(out, 'scores.csv')}, report.md and report.html"
          + ("" if charts else f" (without charts: {REPORT_HINT})"), file=sys.stderr)
    if interrupted:
        print(f"interrupted: {len(results)} of {len(subs)} submissions are graded; "
              "run the same command again to grade the rest", file=sys.stderr)
        return 130
    return 0


# ---- finding the submissions -------------------------------------------------------

def discover(source, out, a):
    """The class's submissions, sorted by id."""
    if not os.path.exists(source):
        raise BatchError(f"no such file or folder: {source}")
    source = os.path.abspath(source)
    if os.path.isfile(source):
        if not zipfile.is_zipfile(source):
            raise BatchError(f"{source} is neither a folder nor a zip file")
        root = extract_export(source, os.path.join(out, ".export"))
    else:
        root = source
    if os.path.realpath(root) == os.path.realpath(out):
        raise BatchError("--out must be a folder of its own, not the folder of submissions")
    export = find_export_root(root)
    if export:
        return export_submissions(export, out, a)
    return folder_submissions(root, out, a)


def find_export_root(folder):
    """The folder holding submission_metadata.yml: `folder` itself or one just below it."""
    if os.path.isfile(os.path.join(folder, METADATA)):
        return folder
    for depth in (1, 2):
        found = sorted(os.path.dirname(p) for p in _glob_depth(folder, depth, METADATA))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise BatchError(f"more than one {METADATA} in {folder}: give one export at a time")
    return None


def _glob_depth(folder, depth, name):
    level = [folder]
    for _ in range(depth):
        level = [os.path.join(f, d) for f in level for d in sorted(os.listdir(f))
                 if not d.startswith(".") and os.path.isdir(os.path.join(f, d))]
    return [os.path.join(f, name) for f in level if os.path.isfile(os.path.join(f, name))]


def export_submissions(root, out, a):
    """A Gradescope export: one `submission_<id>` entry per key of submission_metadata.yml."""
    metadata = load_metadata(os.path.join(root, METADATA))
    names = set(metadata) | {n for n in os.listdir(root) if n.startswith("submission_") and n != METADATA}
    subs = []
    for name in names:
        if not is_safe_id(name):
            continue
        submitters = metadata.get(name, {}).get("submitters", [])
        path = os.path.join(root, name)
        if os.path.isdir(path):
            subs.append(Submission(name, path, submitters))
        elif os.path.isfile(path):
            subs.append(Submission(name, stage(path, name, out, a), submitters))
        else:
            subs.append(Submission(name, path, submitters,
                                   missing=f"the export lists {name} but has no files for it"))
    return sorted(subs, key=lambda s: natural(s.id))


def folder_submissions(root, out, a):
    """A folder with one subfolder, .py or .zip per student; the id is its name (a file's without .py/.zip)."""
    entries = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not is_safe_id(name) or is_within(out, path):
            continue  # the output folder (or a folder holding it) is not a submission
        if os.path.isdir(path):
            entries.append((name, path, False))
        elif os.path.isfile(path) and name.endswith((".py", ".zip")):
            entries.append((os.path.splitext(name)[0], path, True))
    counts = Counter(i for i, _, _ in entries)
    subs = []
    for sub_id, path, is_file in entries:
        if counts[sub_id] > 1 or sub_id in RESERVED or not is_safe_id(sub_id):
            sub_id = os.path.basename(path)  # alice/ and alice.py: keep both, by full name
        subs.append(Submission(sub_id, stage(path, sub_id, out, a) if is_file else path))
    return sorted(subs, key=lambda s: natural(s.id))


def is_safe_id(name):
    return (bool(name) and not name.startswith((".", "__")) and "/" not in name and "\0" not in name
            and name not in RESERVED)


def is_within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder + os.sep)


def stage(path, sub_id, out, a):
    """A single-file submission as a folder: a .py as the student file, a .zip safely extracted."""
    folder = os.path.join(out, ".staged", sub_id)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if path.endswith(".zip") and zipfile.is_zipfile(path):
        try:
            safe_extract(path, folder)
        except BatchError:
            pass  # graded as it is: the student is told the file is missing
    else:
        shutil.copyfile(path, os.path.join(folder, a.student_file if path.endswith(".py")
                                           else os.path.basename(path)))
    return folder


def natural(text):
    """Sort key: submission_9 before submission_10."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]


# ---- Gradescope's metadata ---------------------------------------------------------

class _MetadataLoader(yaml.SafeLoader):
    """Safe YAML that keeps Ruby-tagged values (!ruby/object:BigDecimal...) and dates as plain values."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _untagged)
_MetadataLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def load_metadata(path):
    """{folder name: {"submitters": [{"name", "email", "sid"}], ...}} from submission_metadata.yml.

    Gradescope writes Ruby-symbol keys (`:submitters:`, `:name:`); keys without the colon are
    read the same way.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_MetadataLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BatchError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise BatchError(f"{path}: expected a mapping of submission folders to their metadata")
    found = {}
    for name, record in data.items():
        record = plain_keys(record) if isinstance(record, dict) else {}
        people = record.get("submitters") or []
        record["submitters"] = [
            {k: "" if p.get(k) is None else str(p.get(k)) for k in ("name", "email", "sid")}
            for p in (plain_keys(p) for p in people if isinstance(p, dict))]
        found[str(name)] = record
    return found


def plain_keys(record):
    return {str(k).lstrip(":"): v for k, v in record.items()}


# ---- safe zip extraction -----------------------------------------------------------

def extract_export(path, target):
    """Extracts an export zip into `target` once (kept, and reused while the zip is the same)."""
    digest = file_digest(path)
    marker = os.path.join(target, ".complete")
    if os.path.isfile(marker):
        with open(marker) as f:
            if f.read().strip() == digest:
                return target
    shutil.rmtree(target, ignore_errors=True)
    partial = target + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    safe_extract(path, partial)
    with open(os.path.join(partial, ".complete"), "w") as f:
        f.write(digest + "\n")
    os.replace(partial, target)
    return target


def safe_extract(path, target):
    """Extracts regular files and folders only: no absolute or `..` paths, no links, bounded sizes."""
    target = os.path.realpath(target)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BatchError(f"{path}: not a readable zip: {exc}") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > ZIP_MAX_ENTRIES:
            raise BatchError(f"{path}: {len(entries)} entries, more than the {ZIP_MAX_ENTRIES} allowed")
        total = 0
        for info in entries:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise BatchError(f"{path}: unsafe path in the zip: {info.filename!r}")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode) or not parts:
                continue  # links are never extracted
            dest = os.path.join(target, *parts)
            if not os.path.realpath(dest).startswith(target + os.sep):
                raise BatchError(f"{path}: unsafe path in the zip: {info.filename!r}")
            if info.is_dir():
                os.makedirs(dest, exist_ok=True)
                continue
            if info.file_size > ZIP_MAX_ENTRY_BYTES:
                raise BatchError(f"{path}: {info.filename} is larger than {ZIP_MAX_ENTRY_BYTES >> 20} MB")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            written = 0
            with archive.open(info) as src, open(dest, "wb") as dst:
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    written += len(chunk)
                    total += len(chunk)
                    if written > ZIP_MAX_ENTRY_BYTES or total > ZIP_MAX_TOTAL_BYTES:
                        raise BatchError(f"{path}: the zip unpacks to more than the sizes allowed "
                                         f"({ZIP_MAX_ENTRY_BYTES >> 20} MB a file, {ZIP_MAX_TOTAL_BYTES >> 30} GB in all)")
                    dst.write(chunk)
            os.chmod(dest, 0o644)


# ---- resumability ------------------------------------------------------------------

def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(paths):
    """One digest over files and folders (their regular files, by relative path), links not followed."""
    h = hashlib.sha256()
    for top in paths:
        if os.path.isfile(top):
            h.update(b"F" + file_digest(top).encode())
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
            for name in sorted(files):
                full = os.path.join(root, name)
                if os.path.islink(full) or not os.path.isfile(full) or name.endswith(".pyc"):
                    continue
                h.update(os.path.relpath(full, top).encode() + b"\0" + file_digest(full).encode())
    return h.hexdigest()


def fingerprint(s):
    if s.digest is None:
        s.digest = "missing" if s.missing else tree_digest([s.path])
    return s.digest


def grader_fingerprint(a):
    """The tests, configuration, reference and engine: what a grade depends on besides the submission."""
    engine = sorted(os.path.join(ROOT, "autograder", f) for f in os.listdir(os.path.join(ROOT, "autograder"))
                    if f.endswith((".py", ".ini", ".json")) and f != "batch.py")
    return tree_digest([a.folder, a.reference] + engine)


def previous(out, s):
    """The fingerprint of an earlier grading of `s` whose results.json is intact, else None."""
    folder = os.path.join(out, s.id)
    try:
        with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
            json.load(f)
        with open(os.path.join(folder, FINGERPRINT), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_manifest(out, a, subs):
    data = {"assignment": a.name, "submissions": [{"id": s.id, "submitters": s.submitters} for s in subs]}
    write_json(os.path.join(out, MANIFEST), data)


def write_json(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


# ---- grading in parallel -----------------------------------------------------------

@dataclass
class Job:
    sub: Submission
    proc: subprocess.Popen
    log: object
    tmpdir: str
    started: float


def grade_all(todo, out, assignment_arg, jobs, wall, grader, progress):
    """Runs one `grade` process per submission, `jobs` at a time; returns (interrupted, failures)."""
    from tqdm import tqdm

    queue, running, failures = deque(todo), [], 0
    bar = tqdm(total=len(todo), desc="grading", unit="sub", disable=not progress or not todo,
               file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
    bar.set_postfix_str("failed 0")
    old_term = _on_sigterm_interrupt()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                s = queue.popleft()
                if s.missing:
                    failures += 1
                    finish_failed(out, s, f"Not graded: {s.missing}.", "missing", 0.0, grader)
                    bar.update(1)
                    continue
                running.append(start(out, s, assignment_arg))
            time.sleep(POLL_SECONDS)
            for job in list(running):
                overran = time.monotonic() - job.started > wall
                if job.proc.poll() is None and not overran:
                    continue
                running.remove(job)
                failures += not finish(out, job, wall if overran else None, grader)
                bar.update(1)
                bar.set_postfix_str(f"failed {failures}")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for job in running:
            stop(job)
            remove(os.path.join(out, job.sub.id, "results.json.tmp"))
        return True, failures
    finally:
        bar.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return False, failures


def _on_sigterm_interrupt():
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        return None


def start(out, s, assignment_arg):
    folder = os.path.join(out, s.id)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, "results.json.tmp")
    remove(tmp)
    # The grader's temporary files (its sandbox folder, Hypothesis' storage) go to a folder
    # of ours, so they are removed even when the grader is killed. 0o755: as root the
    # worker runs as another user who must reach its sandbox folder inside.
    tmpdir = tempfile.mkdtemp(prefix="autograder-batch-")
    os.chmod(tmpdir, 0o755)
    log = open(os.path.join(folder, "grade.txt"), "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", assignment_arg, s.path, "--json", tmp,
         "--log", os.path.join(folder, "pytest.log")],
        cwd=ROOT, env={**os.environ, "TMPDIR": tmpdir}, stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)  # Ctrl-C reaches us, not the graders
    return Job(s, proc, log, tmpdir, time.monotonic())


def finish(out, job, overran, grader):
    """Moves a finished grader's results into place (or records why there are none); True if graded."""
    folder = os.path.join(out, job.sub.id)
    tmp = os.path.join(folder, "results.json.tmp")
    if overran:
        stop(job)
    job.proc.wait()
    job.log.close()
    elapsed = time.monotonic() - job.started
    code = job.proc.returncode
    if code != 0:
        kill_stragglers(job.tmpdir)  # a worker the dead grader could not stop
    shutil.rmtree(job.tmpdir, ignore_errors=True)
    results = None
    if not overran and code == 0:
        try:
            with open(tmp, encoding="utf-8") as f:
                results = json.load(f)
        except (OSError, ValueError):
            results = None
    if isinstance(results, dict) and isinstance(results.get("tests"), list):
        write_json(os.path.join(folder, FINGERPRINT), {"submission": fingerprint(job.sub), "grader": grader})
        os.replace(tmp, os.path.join(folder, "results.json"))
        return not (results.get("extra_data") or {}).get("error")  # the core's own "could not grade"
    remove(tmp)
    if overran:
        message = (f"Not graded: grading this submission did not finish within {overran:g} s, so it was "
                   "stopped. Course staff can see the details.")
        kind = "timeout"
    else:
        how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
        message = (f"Not graded: the autograder's process {how} before writing results "
                   "(see grade.txt). This is not necessarily a problem with your code; course staff have been told.")
        kind = "grader"
    finish_failed(out, job.sub, message, kind, elapsed, grader)
    return False


def finish_failed(out, s, message, kind, elapsed, grader):
    results = failed_run(message, kind)
    results["execution_time"] = round(elapsed, 3)
    results["stdout_visibility"] = "hidden"
    folder = os.path.join(out, s.id)
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, FINGERPRINT), {"submission": fingerprint(s), "grader": grader})
    write_results(results, os.path.join(folder, "results.json"))


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def stop(job):
    """Kills a grader and everything under it (its worker and what the student's code started)."""
    kill_tree(job.proc.pid)
    job.proc.wait()
    kill_stragglers(job.tmpdir)
    if not job.log.closed:
        job.log.close()
    shutil.rmtree(job.tmpdir, ignore_errors=True)


def process_table():
    """{pid: (parent pid, state)} from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                table[int(entry)] = (int(fields[1]), fields[0])
            except (OSError, IndexError, ValueError):
                continue
    return table


def descendants(pid, table):
    found, grew = {pid}, True
    while grew:
        more = {p for p, (parent, _) in table.items() if parent in found and p not in found}
        found |= more
        grew = bool(more)
    return found - {pid}


def kill_tree(pid):
    """Stops `pid` first (so nothing under it is re-parented away), kills its descendants, then it."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for _ in range(50):  # a fork bomb keeps forking while we kill: repeat until none is left
        table = process_table()
        victims = [p for p in descendants(pid, table) if table[p][1] != "Z"]
        if not victims:
            break
        for p in victims:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_stragglers(folder):
    """Kills any process still working inside a grader's temporary folder (its worker, orphaned)."""
    for _ in range(5):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    cwd = os.readlink(f"/proc/{entry}/cwd")
                except OSError:
                    continue
                if cwd == folder or cwd.startswith(folder + os.sep):
                    found.append(int(entry))
        if not found:
            return
        for p in found:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


# ---- reading results back ----------------------------------------------------------

def load_all(out, subs):
    """{submission id: results dict} for the submissions of `subs` graded in `out`."""
    found = {}
    for s in subs:
        try:
            with open(os.path.join(out, s.id, "results.json"), encoding="utf-8") as f:
                found[s.id] = json.load(f)
        except (OSError, ValueError):
            continue
    return found


def test_key(t):
    return (t.get("extra_data") or {}).get("test") or t.get("name", "")


def test_columns(results):
    """[(key, number, name, max points)] of every test seen in the class, by number."""
    seen = {}
    for sub_id in sorted(results, key=natural):
        for t in results[sub_id].get("tests", []):
            seen.setdefault(test_key(t), (str(t.get("number", "")), t.get("name", ""), float(t.get("max_score", 0))))
    return sorted(((k, *v) for k, v in seen.items()), key=lambda c: (natural(c[1]), c[0]))


def points(x):
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else repr(x)


def factor_of(t):
    tags = t.get("tags") or []
    return (t.get("extra_data") or {}).get("factor") or (tags[1] if len(tags) > 1 else "")


# ---- scores.csv --------------------------------------------------------------------

def write_scores(out, subs, results):
    columns = test_columns(results)
    header = ["Name", "Email", "SID", "Submission ID", "Total"] + [
        f"{number} {name} ({points(top)})" for _, number, name, top in columns]
    rows = []
    for s in subs:
        if s.id not in results:
            continue
        r = results[s.id]
        earned = {test_key(t): t.get("score", 0) for t in r.get("tests", [])}
        cells = [points(r.get("score", 0))] + [points(earned[k]) if k in earned else "" for k, *_ in columns]
        for person in s.submitters or [{"name": "", "email": "", "sid": ""}]:
            rows.append([person["name"], person["email"], person["sid"], s.id] + cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    with open(os.path.join(out, "scores.csv.tmp"), "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())
    os.replace(os.path.join(out, "scores.csv.tmp"), os.path.join(out, "scores.csv"))


# ---- the class report --------------------------------------------------------------

def summarize(a, subs, results):
    """Everything the two reports show, as plain data."""
    from .judging.feedback import FACTORS

    ids = [s.id for s in subs if s.id in results]
    columns = test_columns(results)
    possible = max((sum(t.get("max_score", 0) for t in results[i].get("tests", [])) for i in ids), default=0)
    possible = possible or sum(c[3] for c in columns)
    scores = [float(results[i].get("score", 0)) for i in ids]
    passed = {i: {test_key(t) for t in results[i].get("tests", []) if t.get("status") == "passed"} for i in ids}

    tests = []
    factor_of_key = {}
    for i in ids:
        for t in results[i].get("tests", []):
            factor_of_key.setdefault(test_key(t), factor_of(t))
    for key, number, name, top in columns:
        n = sum(key in passed[i] for i in ids)
        tests.append({"number": number, "name": name, "points": top, "factor": factor_of_key.get(key, ""),
                      "passed": n, "share": n / len(ids) if ids else 0.0})
    order = list(FACTORS) + sorted({t["factor"] for t in tests} - set(FACTORS))
    factors = []
    for f in order:
        keys = [c[0] for c in columns if factor_of_key.get(c[0]) == f]
        if not keys:
            continue
        n = sum(all(k in passed[i] for k in keys) for i in ids)
        factors.append({"factor": f, "tests": len(keys), "passed": n, "share": n / len(ids) if ids else 0.0})

    diagnosed = {}
    for i in ids:
        for t in results[i].get("tests", []):
            d = (t.get("extra_data") or {}).get("diagnosis")
            if d and t.get("status") != "passed":
                entry = diagnosed.setdefault(d, {"id": d, "submissions": set(), "tests": 0, "quantities": set()})
                entry["submissions"].add(i)
                entry["tests"] += 1
                entry["quantities"].add((t.get("extra_data") or {}).get("quantity") or t.get("name", ""))
    misconceptions = sorted(diagnosed.values(), key=lambda e: (-len(e["submissions"]), e["id"]))
    for e in misconceptions:
        e["examples"] = sorted(e["submissions"], key=natural)[:5]
        e["submissions"] = len(e["submissions"])
        e["quantities"] = sorted(e["quantities"])

    errors = []
    for i in ids:
        r = results[i]
        top = (r.get("extra_data") or {}).get("error")
        kinds = Counter((t.get("extra_data") or {}).get("error") for t in r.get("tests", []))
        kinds.pop(None, None)
        if not top and not kinds:
            continue
        what = [f"not graded: {top}"] if top else []
        what += [f"{k} in {n} test{'s' * (n > 1)}" for k, n in sorted(kinds.items())]
        errors.append({"id": i, "score": float(r.get("score", 0)), "what": "; ".join(what),
                       "message": headline(r), "severity": (0 if top else 1, -sum(kinds.values()))})
    errors.sort(key=lambda e: (e["severity"], natural(e["id"])))

    width = max(1.0, math.ceil(possible / 10)) if possible else 1.0
    nbins = max(1, math.ceil(possible / width)) if possible else 1
    bins = [0] * nbins
    for x in scores:
        bins[min(int(x // width), nbins - 1)] += 1
    ranges = [f"[{points(k * width)}, {points(min((k + 1) * width, possible))}{']' if k == nbins - 1 else ')'}"
              for k in range(nbins)]
    students = sum(max(1, len(s.submitters)) for s in subs if s.id in results)
    ordered = sorted(scores)
    median = (ordered[len(ordered) // 2] if len(ordered) % 2 else
              (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2) if ordered else 0.0
    return {
        "title": a.title, "assignment": a.name, "submissions": len(ids), "students": students,
        "not_graded": len(subs) - len(ids), "possible": possible, "scores": scores,
        "stats": {"mean": sum(scores) / len(scores) if scores else 0.0, "median": median,
                  "min": min(scores, default=0.0), "max": max(scores, default=0.0),
                  "full": sum(x >= possible > 0 for x in scores), "zero": sum(x == 0 for x in scores)},
        "bins": list(zip(ranges, bins)), "factors": factors, "tests": tests,
        "misconceptions": misconceptions, "errors": errors}


def headline(r):
    """One line that says what went wrong: the run's own message, the import error, or the first error of a test."""
    parts = [p.strip() for p in str(r.get("output", "")).split("\n\n") if p.strip()]
    if (r.get("extra_data") or {}).get("error"):
        text = parts[0] if parts else ""
    elif len(parts) > 1 and not parts[1].startswith("Tests failed in"):
        text = parts[1]  # the submission as a whole: no file, or an import that failed
    else:
        first = next((t for t in r.get("tests", []) if (t.get("extra_data") or {}).get("error")), {})
        text = next((line for line in first.get("output", "").splitlines()
                     if line.strip() and not line.startswith("This test checks")), "")
    text = " ".join(text.replace("**", "").split())
    return text[:200] + ("…" if len(text) > 200 else "")


def percent(x):
    return f"{100 * x:.0f}%"


def md_cell(text):
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return text.replace("<", "&lt;")  # a folder name is text, never HTML, wherever the markdown is shown


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report_tables(data):
    """[(section title, intro, header, rows)] shared by report.md and report.html."""
    from .judging.feedback import FACTORS

    st = data["stats"]
    most = max((n for _, n in data["bins"]), default=0) or 1
    sections = [(
        "Score distribution",
        f"Mean {st['mean']:.1f}, median {points(st['median'])}, lowest {points(st['min'])}, "
        f"highest {points(st['max'])} of {points(data['possible'])} points; {st['full']} with full marks, "
        f"{st['zero']} with zero.",
        ["score", "submissions", ""],
        [[r, n, "█" * round(20 * n / most)] for r, n in data["bins"]])]
    sections.append((
        "Pass rate by factor",
        "The share of submissions that passed every test of each kind of factor.",
        ["factor", "what it is", "tests", "passed all", "share"],
        [[f["factor"], FACTORS.get(f["factor"], ""), f["tests"], f"{f['passed']} of {data['submissions']}",
          percent(f["share"])] for f in data["factors"]]))
    sections.append((
        "Pass rate by test", "",
        ["#", "test", "factor", "points", "passed", "share"],
        [[t["number"], t["name"], t["factor"], points(t["points"]), t["passed"], percent(t["share"])]
         for t in data["tests"]]))
    sections.append((
        "Most common misconceptions",
        "Misconceptions the grader named in failed tests (extra_data.diagnosis), by the number of "
        "submissions that show them." if data["misconceptions"] else "The grader named no misconception.",
        ["misconception", "submissions", "failed tests", "in", "for example"],
        [[m["id"], m["submissions"], m["tests"], ", ".join(m["quantities"]), ", ".join(m["examples"])]
         for m in data["misconceptions"]]))
    sections.append((
        "Errors and timeouts",
        "Submissions that could not be graded, or whose code could not be imported, raised, ran out of "
        "time or memory, or ended its process (extra_data.error)." if data["errors"] else
        "No submission errored or timed out.",
        ["submission", "score", "what happened", "message"],
        [[e["id"], points(e["score"]), e["what"], e["message"]] for e in data["errors"]]))
    return sections


def intro(data):
    text = (f"{data['submissions']} submissions ({data['students']} students) of `{data['assignment']}`, "
            f"out of {points(data['possible'])} points.")
    if data["not_graded"]:
        text += f" {data['not_graded']} more are not graded yet (the run was interrupted)."
    return text


def write_reports(out, a, subs, results):
    """Writes report.md and report.html; returns True when the HTML has its charts."""
    data = summarize(a, subs, results)
    sections = report_tables(data)
    md = [f"# {data['title']}: class report", "", intro(data), ""]
    for title, text, header, rows in sections:
        md += [f"## {title}", ""] + ([text, ""] if text else []) + ([md_table(header, rows), ""] if rows else [])
    write_text(os.path.join(out, "report.md"), "\n".join(md))
    charts = make_charts(data)
    write_text(os.path.join(out, "report.html"), render_html(data, sections, charts))
    return charts is not None


def write_text(path, text):
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def make_charts(data):
    """{"distribution": base64 PNG, "factors": base64 PNG}, or None without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None

    def png(fig):
        FigureCanvasAgg(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.add_subplot()
    labels = [r for r, _ in data["bins"]]
    ax.bar(range(len(labels)), [n for _, n in data["bins"]], color="#4c72b0")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_xlabel(f"score (of {points(data['possible'])} points)")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution")
    ax.yaxis.get_major_locator().set_params(integer=True)
    distribution = png(fig)

    factors = data["factors"]
    fig = Figure(figsize=(7, 0.45 * len(factors) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(range(len(factors)), [100 * f["share"] for f in factors], color="#55a868")
    ax.set_yticks(range(len(factors)), [f["factor"] for f in factors])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions that passed every test of the factor")
    ax.set_title("Pass rate by factor")
    for k, f in enumerate(factors):
        ax.text(min(100 * f["share"] + 1, 92), k, percent(f["share"]), va="center", fontsize=8)
    return {"distribution": distribution, "factors": png(fig)}


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 70em;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.bar { color: #4c72b0; font-family: monospace; }
img.chart { max-width: 100%; display: block; margin: 0.5em 0; }
p.note { background: #fff6d5; padding: 0.5em 1em; border-left: 4px solid #e0b000; }
code { background: #f2f2f2; padding: 0 0.2em; }
"""


def render_html(data, sections, charts):
    e = html.escape
    chart_of = {"Score distribution": "distribution", "Pass rate by factor": "factors"}
    body = [f"<h1>{e(data['title'])}: class report</h1>",
            "<p>" + e(intro(data)).replace(f"`{e(data['assignment'])}`", f"<code>{e(data['assignment'])}</code>") + "</p>"]
    if charts is None:
        body.append(f'<p class="note">The charts need matplotlib: <code>{e(REPORT_HINT)}</code>, then run '
                    "the same batch command again (graded submissions are not graded again).</p>")
    for title, text, header, rows in sections:
        body.append(f"<h2>{e(title)}</h2>")
        if text:
            body.append(f"<p>{e(text)}</p>")
        if charts and title in chart_of:
            body.append(f'<img class="chart" alt="{e(title)}" src="data:image/png;base64,{charts[chart_of[title]]}">')
        if rows:
            body.append("<table>\n<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>")
            for row in rows:
                cells = "".join(f'<td{" class=bar" if h == "" else ""}>{e(str(c))}</td>' for h, c in zip(header, row))
                body.append(f"<tr>{cells}</tr>")
            body.append("</table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{e(data['title'])}: class report</title>\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


# ---- compare -----------------------------------------------------------------------

def read_grading(folder):
    """({id: results}, {id: "names"}) of a batch output folder."""
    if not os.path.isdir(folder):
        raise BatchError(f"no such folder: {folder}")
    names, ids = {}, None
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
        ids = [s["id"] for s in manifest["submissions"]]
        for s in manifest["submissions"]:
            names[s["id"]] = ", ".join(p.get("name") or p.get("email") or p.get("sid") or "?"
                                       for p in s.get("submitters", []))
    except (OSError, ValueError, KeyError, TypeError):
        ids = [d for d in os.listdir(folder) if is_safe_id(d)]
    results = load_all(folder, [Submission(i, "") for i in ids])
    if not results:
        raise BatchError(f"{folder} has no graded submissions (DIR/<submission>/results.json)")
    return results, names


def compare_gradings(old, new):
    """Prints what changed between two gradings of a class, per student and per test; returns 0."""
    try:
        before, names_before = read_grading(old)
        after, names_after = read_grading(new)
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = {**names_before, **names_after}
    print(compare_text(before, after, names, old, new))
    return 0


def compare_text(before, after, names, old="OLD", new="NEW"):
    def label(i):
        return f"{i} ({names[i]})" if names.get(i) else i

    def tests(r):
        return {test_key(t): t for t in r.get("tests", [])}

    common = sorted(set(before) & set(after), key=natural)
    lines, changed = [], 0
    for i in common:
        b, a = before[i], after[i]
        tb, ta = tests(b), tests(a)
        notes = []
        if not tb or not ta:  # one side was not graded at all: its grading line says it all
            tb, ta = {}, {}
        for key in sorted(set(tb) | set(ta), key=lambda k: (natural(str((ta.get(k) or tb.get(k)).get("number", ""))), k)):
            x, y = tb.get(key), ta.get(key)
            t = y or x
            title = f"{t.get('number', '')} {t.get('name', key)}"
            if x is None:
                notes.append(f"    new test: {title}: {y.get('status')} ({points(y.get('score', 0))}/{points(y.get('max_score', 0))})")
            elif y is None:
                notes.append(f"    test gone: {title} (was {points(x.get('score', 0))}/{points(x.get('max_score', 0))})")
            elif x.get("status") != y.get("status"):
                word = "now passing" if y.get("status") == "passed" else "now failing"
                notes.append(f"    {word}: {title} ({points(x.get('score', 0))} -> {points(y.get('score', 0))})"
                             + diagnosis_note(x, y))
            elif float(x.get("score", 0)) != float(y.get("score", 0)) or x.get("max_score") != y.get("max_score"):
                notes.append(f"    points: {title} ({points(x.get('score', 0))}/{points(x.get('max_score', 0))} -> "
                             f"{points(y.get('score', 0))}/{points(y.get('max_score', 0))})")
            elif diagnosis_note(x, y):
                notes.append(f"    diagnosis: {title}" + diagnosis_note(x, y))
        eb, ea = (b.get("extra_data") or {}).get("error"), (a.get("extra_data") or {}).get("error")
        if eb != ea:
            notes.insert(0, f"    grading: {eb or 'graded'} -> {ea or 'graded'}")
        sb, sa = float(b.get("score", 0)), float(a.get("score", 0))
        if notes or sb != sa:
            changed += 1
            delta = sa - sb
            lines.append(f"{label(i)}: {points(sb)} -> {points(sa)} ({'+' if delta >= 0 else ''}{points(delta)})")
            lines += notes
    only_old = sorted(set(before) - set(after), key=natural)
    only_new = sorted(set(after) - set(before), key=natural)
    mean_b = sum(float(before[i].get("score", 0)) for i in common) / len(common) if common else 0.0
    mean_a = sum(float(after[i].get("score", 0)) for i in common) / len(common) if common else 0.0
    head = [f"{old} -> {new}: {len(common)} submission{'s' * (len(common) != 1)} in both, {changed} changed, "
            f"{len(common) - changed} unchanged; mean score {mean_b:.2f} -> {mean_a:.2f}"]
    if only_old:
        head.append(f"only in {old}: " + ", ".join(label(i) for i in only_old))
    if only_new:
        head.append(f"only in {new}: " + ", ".join(label(i) for i in only_new))
    return "\n".join(head + ([""] + lines if lines else []))


def diagnosis_note(x, y):
    dx, dy = (x.get("extra_data") or {}).get("diagnosis"), (y.get("extra_data") or {}).get("diagnosis")
    return "" if dx == dy else f" [diagnosis {dx or 'none'} -> {dy or 'none'}]"
