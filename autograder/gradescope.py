"""What Gradescope sees: autograder.zip, and the grading run_autograder starts in it.

    build_zip(assignment, out_dir)   writes out_dir/autograder.zip (setup.sh, run_autograder, the
                                     engine, this assignment's folder and its reference)
    run(assignment=None)             grades $AUTOGRADER_ROOT/submission into results/results.json, with the
                                     course's submission limit and late penalty (policies.py) applied
"""
import json
import os
import sys
import time
import traceback
import zipfile

from . import config as configuration
from . import policies
from .config import ROOT
from .core import grade
from .results import write_results

GRADESCOPE_ROOT = os.environ.get("AUTOGRADER_ROOT", "/autograder")
ENTRY_POINTS = ("setup.sh", "run_autograder")


def run(assignment=None):
    root = GRADESCOPE_ROOT
    name = assignment or assignment_of_source()
    submission, out = os.path.join(root, "submission"), os.path.join(root, "results", "results.json")
    try:
        a = configuration.find(name)
    except Exception:  # a broken configuration: grade() writes the results that say so
        return grade(name, submission, out=out, log=sys.stdout, exclusive=True)
    try:
        policy = policies.for_gradescope(a, os.path.join(root, "submission_metadata.json"), sys.stdout)
    except Exception:  # the policies' own bug: grade as if there were none
        traceback.print_exc(file=sys.stdout)
        policy = None
    if policy and policy.standing:  # beyond the submission limit: not graded, an earlier score stands
        write_results(policy.standing, out)
        return policy.standing
    results = grade(a, submission, log=sys.stdout, exclusive=True)
    if policy:
        try:
            results = policy.apply(results)
        except Exception:
            traceback.print_exc(file=sys.stdout)
    write_results(results, out)
    return results


def assignment_of_source():
    """The zip names its assignment in ASSIGNMENT; the repository's own run_autograder grades backprop."""
    path = os.path.join(ROOT, "ASSIGNMENT")
    if os.path.isfile(path):
        with open(path) as f:
            return f.read().strip()
    return "backprop"


def zip_contents(a):
    """{path in autograder.zip: (bytes, mode)} for assignment `a`, with the record of its tests."""
    from . import record, shrinks
    data = record.make(a)  # before anything is written: a test that cannot run writes no zip
    contents = {}
    for name in ENTRY_POINTS:
        with open(os.path.join(ROOT, name), "rb") as f:
            contents[name] = (f.read(), 0o755)
    contents["ASSIGNMENT"] = ((a.name + "\n").encode(), None)
    for folder in ("autograder", os.path.relpath(a.folder, ROOT)):
        contents.update(tree(folder))
    contents[os.path.join(os.path.relpath(a.folder, ROOT), record.FILE)] = (json.dumps(data).encode(), None)
    kept = shrinks.for_zip(a, data["digest"])  # the proof's: every corpus mistake's, read only when a test fails
    contents[os.path.join(os.path.relpath(a.folder, ROOT), shrinks.FILE)] = (json.dumps(kept).encode(), None)
    for path in (a.reference, os.path.join(ROOT, "reference", "__init__.py")):
        with open(path, "rb") as f:
            contents[os.path.relpath(path, ROOT)] = (f.read(), None)
    return contents


def build_zip(a, out_dir, contents=None):
    """Writes out_dir/autograder.zip for assignment `a` (from `contents`, zip_contents' result); its path."""
    contents = zip_contents(a) if contents is None else contents
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "autograder.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (data, mode) in contents.items():
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (mode or 0o644) << 16
            z.writestr(info, data)
    return path


def tree(folder):
    """{path: (bytes, None)} of a folder of the checkout, without caches or a record (or shrinks) left in it."""
    from .record import KEPT_BESIDE
    found = {}
    for root, dirs, files in os.walk(os.path.join(ROOT, folder)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f in KEPT_BESIDE:  # a record left in the folder: the zip gets a fresh one
                continue
            full = os.path.join(root, f)
            with open(full, "rb") as fh:
                found[os.path.relpath(full, ROOT)] = (fh.read(), None)
    return found
