"""python -m autograder: grade | build | gradescope | batch | compare | check.

    grade ASSIGNMENT SUBMISSION [--json OUT]         grade one submission, print a table
    build ASSIGNMENT --out DIR                       write DIR/autograder.zip (Gradescope) and DIR/handout.zip (students)
    gradescope [ASSIGNMENT]                          what run_autograder calls on Gradescope
    batch ASSIGNMENT SUBMISSIONS --out DIR [--jobs N] grade a whole class (a folder or a Gradescope export)
    compare OLD_DIR NEW_DIR                          what changed between two gradings of a class
    check ASSIGNMENT [SUBMISSION]                    run the public tests as a student would
"""
import argparse
import os
import sys
import zipfile

from . import config as configuration
from .config import ROOT, ConfigError
from .core import grade

GRADESCOPE_ROOT = os.environ.get("AUTOGRADER_ROOT", "/autograder")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("grade", help="grade one submission (a file or a folder)")
    g.add_argument("assignment", help="a folder name under assignments/, or a path")
    g.add_argument("submission")
    g.add_argument("--json", metavar="OUT", help="write results.json here")
    g.add_argument("--log", metavar="FILE", help="write pytest's own output here")
    b = commands.add_parser("build", help="write autograder.zip for Gradescope")
    b.add_argument("assignment")
    b.add_argument("--out", required=True, metavar="DIR")
    s = commands.add_parser("gradescope", help="grade $AUTOGRADER_ROOT/submission (run_autograder calls this)")
    s.add_argument("assignment", nargs="?", default=None)
    k = commands.add_parser("batch", help="grade a whole class: a folder of submissions or a Gradescope export")
    k.add_argument("assignment")
    k.add_argument("submissions", help="a folder with one subfolder or file per student, or an export (.zip or folder)")
    k.add_argument("--out", required=True, metavar="DIR")
    k.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N")
    k.add_argument("--force", action="store_true", help="grade again what is already graded")
    c = commands.add_parser("compare", help="what changed between two batch gradings of the same class")
    c.add_argument("old")
    c.add_argument("new")
    h = commands.add_parser("check", help="run an assignment's public tests on a submission, as a student would")
    h.add_argument("assignment")
    h.add_argument("submission", nargs="?", default=None)
    args = parser.parse_args(argv)
    commands = {"grade": cmd_grade, "build": cmd_build, "gradescope": cmd_gradescope,
                "batch": cmd_batch, "compare": cmd_compare, "check": cmd_check}
    return commands[args.command](args)


def cmd_batch(args):
    from .batch import run_batch
    return run_batch(args.assignment, args.submissions, args.out, jobs=args.jobs, force=args.force)


def cmd_compare(args):
    from .batch import compare_gradings
    return compare_gradings(args.old, args.new)


def cmd_check(args):
    from .handout import check
    return check(args.assignment, args.submission)


def cmd_grade(args):
    if not os.path.exists(args.submission):
        print(f"error: no such file or folder: {args.submission}", file=sys.stderr)
        return 2
    log = open(args.log, "w") if args.log else None
    results = grade(args.assignment, args.submission, out=args.json, log=log)
    if log:
        log.close()
    print(table(results))
    return 0


def table(results):
    """A readable per-test table for a terminal, with each failure's first line."""
    rows = []
    for t in results.get("tests", []):
        mark = "PASS" if t["status"] == "passed" else "FAIL"
        rows.append(f"{t['number']:>4}  {mark}  {t['score']:>5g}/{t['max_score']:<5g} {t['name']}")
        if t["status"] == "failed":
            first = next((line for line in t["output"].splitlines()
                          if line.strip() and not line.startswith("This test checks")), "")
            rows.append(f"{'':>13}{first.replace('**', '')[:150]}")
    possible = sum(t["max_score"] for t in results.get("tests", []))
    rows.append(f"\n{results['output']}")
    rows.append(f"Total: {results['score']:g} / {possible:g}   ({results['execution_time']:.1f} s)")
    return "\n".join(rows)


def cmd_gradescope(args):
    root = GRADESCOPE_ROOT
    name = args.assignment or assignment_of_source()
    grade(name, os.path.join(root, "submission"), out=os.path.join(root, "results", "results.json"),
          log=sys.stdout, exclusive=True)
    return 0


def assignment_of_source():
    """The zip names its assignment in ASSIGNMENT; the repository's own run_autograder grades backprop."""
    path = os.path.join(ROOT, "ASSIGNMENT")
    if os.path.isfile(path):
        with open(path) as f:
            return f.read().strip()
    return "backprop"


def cmd_build(args):
    try:
        a = configuration.find(args.assignment)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "autograder.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            with open(os.path.join(ROOT, name), "rb") as f:
                z.writestr(info, f.read())
        z.writestr("ASSIGNMENT", a.name + "\n")
        for folder in ("autograder", os.path.relpath(a.folder, ROOT)):
            add_tree(z, folder)
        z.write(a.reference, os.path.relpath(a.reference, ROOT))
        z.write(os.path.join(ROOT, "reference", "__init__.py"), "reference/__init__.py")
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    from .handout import build_handout
    try:
        handout = build_handout(a, args.out)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {handout}: give it to students (the stub, public tests and a README; no solution)")
    return 0


def add_tree(z, folder):
    for root, dirs, files in os.walk(os.path.join(ROOT, folder)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            full = os.path.join(root, f)
            z.write(full, os.path.relpath(full, ROOT))


if __name__ == "__main__":
    sys.exit(main())
