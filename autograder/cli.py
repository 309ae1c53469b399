"""The command line: python -m autograder COMMAND.

    grade ASSIGNMENT SUBMISSION [--json OUT] [--log FILE]   grade one submission, print a table
    build ASSIGNMENT --out DIR                       write DIR/autograder.zip (Gradescope) and DIR/handout.zip (students)
    gradescope [ASSIGNMENT]                          what run_autograder calls on Gradescope
    batch ASSIGNMENT SUBMISSIONS --out DIR [--jobs N] grade a whole class (a folder or a Gradescope export)
    compare OLD_DIR NEW_DIR                          what changed between two gradings of a class
    check ASSIGNMENT [SUBMISSION]                    run the public tests as a student would
    new NAME [--style function|module]               write a small working assignment to grow (never overwrites)
    validate ASSIGNMENT [--jobs N] [--json OUT]      prove an assignment before students see it

Each command returns an ExitStatus. A UsageError (or a course's ConfigError) anywhere in a
command is printed once, here, as `error: ...` on stderr, with status USAGE.
"""
import argparse
import enum
import os
import sys


class ExitStatus(enum.IntEnum):
    OK = 0              # the command did its work (grades are right, whatever the student scored)
    FAILED = 1          # the public tests ran and some failed (check), as pytest says; validate found problems
    USAGE = 2           # a wrong argument, a missing file, a broken course file: nothing was graded
    NOT_GRADED = 2      # the grader, the course's files or the machine failed: the grades are not right
    INTERRUPTED = 130   # Ctrl-C: what was done is kept


class UsageError(Exception):
    """A command cannot start: the message says what to give it instead."""


def existing(path):
    if not os.path.exists(path):
        raise UsageError(f"no such file or folder: {path}")
    return path


def sandboxed(command):
    """A command that runs student code: refused, with what to do instead, where it cannot be confined."""
    def run(args):
        from .sandbox import platform
        if platform.system() == "windows":
            raise UsageError(platform.WSL_HINT)
        return command(args)
    run.__name__, run.__doc__ = command.__name__, command.__doc__
    return run


def report_faults(results, where=""):
    """Exit status NOT_GRADED, with the causes on stderr, when the grader rather than the student failed."""
    from .results import grader_faults
    faults = grader_faults(results)
    for fault in faults:
        print(f"error: not graded{where}: {fault}", file=sys.stderr)
    return ExitStatus.NOT_GRADED if faults else ExitStatus.OK


# ---- the commands -----------------------------------------------------------------

@sandboxed
def grade(args):
    from .core import grade as grade_one
    from .results import table
    existing(args.submission)
    log = open(args.log, "w") if args.log else None
    try:
        results = grade_one(args.assignment, args.submission, out=args.json, log=log)
    finally:
        if log:
            log.close()
    print(table(results))
    return report_faults(results)


def build(args):
    from .authoring.release import NotProved
    from .authoring.release import build as build_both
    try:
        path, handout = build_both(args.assignment, args.out)
    except NotProved as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    print(f"wrote {handout}: give it to students (the stub, public tests and a README; no solution)")
    return ExitStatus.OK


@sandboxed
def gradescope(args):
    from .gradescope import run
    return report_faults(run(args.assignment))


@sandboxed
def batch(args):
    from .classroom.run import run_batch
    return run_batch(args.assignment, args.submissions, args.out, jobs=args.jobs, force=args.force)


def compare(args):
    from .classroom.compare import compare_gradings
    return compare_gradings(args.old, args.new)


def check(args):
    from .handout.as_student import check as check_public
    return check_public(args.assignment, args.submission)


def new(args):
    from .authoring.scaffold import ScaffoldError
    from .authoring.scaffold import new as scaffold
    try:
        written = scaffold(args.name, args.style)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    print("\n".join(f"wrote {path}" for path in written))
    print(f"next: python -m autograder validate {args.name}   (docs/authoring.md says how to grow it)")
    return ExitStatus.OK


@sandboxed
def validate(args):
    from .authoring.validate import as_json, validate as prove
    proof = prove(args.assignment, jobs=args.jobs)
    if args.json:
        from .results import write_json
        write_json(args.json, as_json(proof))
    return ExitStatus.OK if proof.ok else ExitStatus.FAILED


COMMANDS = {  # name: (function, help, [(argument, options)])
    "grade": (grade, "grade one submission (a file or a folder)", [
        ("assignment", dict(help="a folder name under assignments/, or a path")),
        ("submission", {}),
        ("--json", dict(metavar="OUT", help="write results.json here")),
        ("--log", dict(metavar="FILE", help="write pytest's own output here"))]),
    "build": (build, "write autograder.zip for Gradescope and handout.zip for students", [
        ("assignment", {}), ("--out", dict(required=True, metavar="DIR"))]),
    "gradescope": (gradescope, "grade $AUTOGRADER_ROOT/submission (run_autograder calls this)", [
        ("assignment", dict(nargs="?", default=None))]),
    "batch": (batch, "grade a whole class: a folder of submissions or a Gradescope export", [
        ("assignment", {}),
        ("submissions", dict(help="a folder with one subfolder or file per student, or an export (.zip or folder)")),
        ("--out", dict(required=True, metavar="DIR")),
        ("--jobs", dict(type=int, default=os.cpu_count() or 1, metavar="N")),
        ("--force", dict(action="store_true", help="grade again what is already graded"))]),
    "compare": (compare, "what changed between two batch gradings of the same class", [
        ("old", {}), ("new", {})]),
    "check": (check, "run an assignment's public tests on a submission, as a student would", [
        ("assignment", {}), ("submission", dict(nargs="?", default=None))]),
    "new": (new, "write a small working assignment to grow from (assignments/NAME, reference/NAME.py, "
                 "tests/submissions/NAME)", [
        ("name", {}), ("--style", dict(choices=("function", "module"), default="function"))]),
    "validate": (validate, "prove an assignment before students see it (exit status 1 when it is not proved)", [
        ("assignment", dict(help="a folder name under assignments/, or a path")),
        ("--jobs", dict(type=int, default=os.cpu_count() or 1, metavar="N")),
        ("--json", dict(metavar="OUT", help="write the proof here: its problems, and every grading's "
                                             "results.json and public-test run"))]),
}


def parser():
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    for name, (run, text, arguments) in COMMANDS.items():
        command = commands.add_parser(name, help=text)
        for argument, options in arguments:
            command.add_argument(argument, **options)
        command.set_defaults(run=run)
    return p


def main(argv=None):
    from .config import ConfigError
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (UsageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
