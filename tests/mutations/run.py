"""The team's mutation check: deliberate bugs in the engine, each of which named tests must catch.

    python tests/mutations/run.py                  every mutant of mutants.yaml
    python tests/mutations/run.py NAME ...         only these
    options: --list, --no-baseline, --report FILE (the table, in markdown), --keep (the copy, to look at)
    pytest's output goes to $TMPDIR/autograder-mutations.log

Each mutant of mutants.yaml is a small patch (file: [[old, new], ...], each old text occurring
exactly once), the behaviour it breaks, and the tests that must then fail. In a temporary copy of
the repository (the files git tracks or would track), the unbroken copy first runs every named
test, which must pass (the baseline); then each mutant is applied alone and its tests run, with
`pytest -x`, a fresh XDG_CACHE_HOME (no record made by the unbroken engine is used) and no bytecode
written (a restored file is never read from a stale .pyc). A mutant is killed when its tests fail,
and survives when they pass.

Exit status: 0 when at least 95% of the mutants are killed (those that survive are listed, with the
`survives:` reason mutants.yaml gives), 1 below that or when the baseline fails, 2 when the list
itself is wrong (a patch that does not apply, a test that does not exist).

Opt-in, like the benchmarks: `python -m pytest` collects nothing here (no file is named test_*).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET = 0.95
TIMEOUT = 1800  # seconds for one mutant's tests; past it the mutant counts as killed, and says so
# one process (-n 0): under pytest-xdist, -x ends a run with a failure as "interrupted" (status 2), which
# would read as a kill by an error
PYTEST = ["-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider"]


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    patch: dict            # file (relative to the repository) -> [(old, new)]
    tests: tuple           # pytest node ids
    survives: str = ""     # why the suite lets it through, where it is known to


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str           # killed, survived, broken
    seconds: float
    detail: str = ""

    @property
    def killed(self):
        return self.verdict == "killed"


@dataclass
class Copy:
    """A temporary copy of the repository, with each file's original text kept for restoring."""
    root: str
    originals: dict = field(default_factory=dict)

    def apply(self, mutant):
        for rel, replacements in mutant.patch.items():
            path = os.path.join(self.root, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.originals.setdefault(rel, text)
            for old, new in replacements:
                if text.count(old) != 1:
                    raise ValueError(f"{mutant.name}: {rel}: {old!r} occurs {text.count(old)} times, not once")
                text = text.replace(old, new)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    def restore(self):
        for rel, text in self.originals.items():
            with open(os.path.join(self.root, rel), "w", encoding="utf-8") as f:
                f.write(text)
        self.originals.clear()


def load(path=os.path.join(HERE, "mutants.yaml")):
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    mutants = [Mutant(d["name"], d["breaks"], {rel: [tuple(r) for r in reps] for rel, reps in d["patch"].items()},
                      tuple(d["tests"]), d.get("survives", "")) for d in data]
    names = [m.name for m in mutants]
    if len(set(names)) != len(names):
        raise ValueError("mutants.yaml: two mutants share a name")
    return mutants


def repository_files(root):
    """What git tracks, and what it would (new files not ignored); without git, every file but caches."""
    try:
        listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, check=True).stdout.decode().split("\0")
        return sorted(f for f in listed if f and os.path.isfile(os.path.join(root, f)))
    except (OSError, subprocess.CalledProcessError):
        found = []
        for top, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".git", ".venv", "__pycache__", ".pytest_cache")]
            found += [os.path.relpath(os.path.join(top, f), root) for f in files]
        return sorted(found)


def make_copy(folder):
    target = os.path.join(folder, "repo")
    for rel in repository_files(ROOT):
        os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), os.path.join(target, rel))
    return Copy(target)


def environment(copy, cache):
    # PYTHONPATH first: an editable install of another checkout must not be what the tests import.
    return {**os.environ, "PYTHONPATH": copy.root, "XDG_CACHE_HOME": cache, "PYTHONDONTWRITEBYTECODE": "1"}


def check_imports_the_copy(copy, folder):
    done = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"], cwd=copy.root,
                          env=environment(copy, os.path.join(folder, "cache-check")), capture_output=True, text=True)
    if not done.stdout.strip().startswith(copy.root + os.sep):
        raise SystemExit(f"the copy's tests would import {done.stdout.strip() or done.stderr.strip()}, "
                         f"not the copy in {copy.root}")


def run_tests(copy, tests, cache, log):
    """pytest's exit status on `tests` in the copy (None past TIMEOUT), its output appended to `log`."""
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n==== {' '.join(tests)}\n")
        out.flush()
        try:
            return subprocess.run([sys.executable, *PYTEST, *tests], cwd=copy.root, env=environment(copy, cache),
                                  stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            return None


def verdict(status):
    """pytest's exit status as a verdict: 1 (tests failed) and 2 (an error while collecting or running,
    or interrupted) kill; 0 survives; 4 (usage: a node id that does not exist) and 5 (no tests) mean the
    list is wrong."""
    if status is None:
        return "killed", f"its tests ran past {TIMEOUT} s"
    if status in (1, 2, 3):
        return "killed", "" if status == 1 else f"by an error (pytest exit status {status})"
    if status == 0:
        return "survived", ""
    return "broken", f"pytest exit status {status}: a test it names does not exist or collects nothing"


def run_mutant(copy, mutant, folder, log):
    started = time.monotonic()
    try:
        copy.apply(mutant)
    except (OSError, ValueError) as exc:
        copy.restore()
        return Outcome(mutant, "broken", 0.0, str(exc))
    try:
        status = run_tests(copy, mutant.tests, tempfile.mkdtemp(prefix="cache-", dir=folder), log)
    finally:
        copy.restore()
    found, detail = verdict(status)
    return Outcome(mutant, found, time.monotonic() - started, detail)


def report(outcomes, baseline_seconds):
    scored = [o for o in outcomes if o.verdict != "broken"]
    killed = sum(o.killed for o in scored)
    lines = ["| mutant | what it breaks | verdict | seconds |", "|---|---|---|---:|"]
    for o in outcomes:
        said = o.verdict + (f" ({o.detail})" if o.detail else "")
        lines.append(f"| `{o.mutant.name}` | {o.mutant.breaks} | {said} | {o.seconds:.0f} |")
    rate = killed / len(scored) if scored else 0.0
    lines += ["", f"Killed {killed} of {len(scored)} ({100 * rate:.0f}%; the target is {100 * TARGET:.0f}%)"
              + (f"; the baseline took {baseline_seconds:.0f} s." if baseline_seconds is not None else ".")]
    for o in outcomes:
        if o.verdict == "survived":
            lines.append(f"- survives: `{o.mutant.name}`: {o.mutant.survives or 'no reason given in mutants.yaml'}")
        if o.verdict == "broken":
            lines.append(f"- broken: `{o.mutant.name}`: {o.detail}")
    return "\n".join(lines) + "\n", rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unbroken copy's run")
    parser.add_argument("--report", help="also write the table to this file (markdown)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args(argv)
    mutants = load()
    unknown = set(args.names) - {m.name for m in mutants}
    if unknown:
        print(f"no such mutant: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    chosen = [m for m in mutants if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.breaks}\n    " + "\n    ".join(m.tests))
        return 0
    folder = tempfile.mkdtemp(prefix="autograder-mutations-")
    log = os.path.join(tempfile.gettempdir(), "autograder-mutations.log")  # kept after the copy is gone
    open(log, "w").close()
    try:
        copy = make_copy(folder)
        check_imports_the_copy(copy, folder)
        print(f"{len(chosen)} mutants; pytest's output: {log}", file=sys.stderr)
        baseline_seconds = None
        if not args.no_baseline:
            started = time.monotonic()
            tests = sorted({t for m in chosen for t in m.tests})
            status = run_tests(copy, tests, tempfile.mkdtemp(prefix="cache-", dir=folder), log)
            baseline_seconds = time.monotonic() - started
            if status != 0:
                print(f"the unbroken copy fails its tests (pytest exit status {status}); see {log}", file=sys.stderr)
                return 1
            print(f"baseline: {len(tests)} tests pass ({baseline_seconds:.0f} s)", file=sys.stderr)
        outcomes = []
        for mutant in chosen:
            outcomes.append(run_mutant(copy, mutant, folder, log))
            o = outcomes[-1]
            print(f"{mutant.name}: {o.verdict}{f' ({o.detail})' if o.detail else ''} ({o.seconds:.0f} s)",
                  file=sys.stderr)
        text, rate = report(outcomes, baseline_seconds)
        print(text)
        if args.report:
            with open(args.report, "w", encoding="utf-8") as f:
                f.write(text)
    finally:
        if args.keep:
            print(f"kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if any(o.verdict == "broken" for o in outcomes):
        return 2
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
