"""Where one grading's time goes, from the engine's own timing spans (autograder/timing.py).

    python benchmarks/stages.py [--quick] [--runs N] [--assignment NAME] [--cprofile] [SUBMISSION | mistake:NAME ...]

Each submission (default: the assignment's correct one; mistake:NAME is a corpus mistake) is
graded --runs times with AUTOGRADER_TIMING=FILE python -m autograder grade ..., which writes
{span: {count, seconds}} at the end. The table is the run of median wall time: the spans, nested
as the engine nests them, and lines derived from them (marked =), such as Hypothesis's engine
= test call - worker round trip - reference and judge - draw inputs - build calls. Nothing of
the engine is patched or imported. --cprofile grades once more under cProfile (the grader
process only) and prints its own time by where the code lives and the top functions.
"""
import json
import os
import shutil
import statistics
import tempfile

import common

# (depth, label, terms): a row is the sum of its terms, each (sign, a span's name up to " (" or WALL)
WALL = "wall"
TREE = [
    (0, "the whole process (wall, measured from outside)", [(1, WALL)]),
    (1, "= outside the spans: interpreter start, CLI, configuration, reference, catalogue, results.json",
     [(1, WALL), (-1, "import pytest, Hypothesis and the grader"), (-1, "worker: prepare"), (-1, "pytest"),
      (-1, "worker: close")]),
    (1, "import pytest, Hypothesis and the grader", None),
    (1, "worker: prepare", None),
    (1, "pytest", None),
    (2, "worker: start", None),
    (2, "test call", None),
    (3, "check: draw inputs", None),
    (3, "check: build calls", None),
    (3, "check: worker round trip", None),
    (4, "worker: computing", None),
    (4, "= the boundary: JSON, pipes, context switches (round trip - computing)",
     [(1, "check: worker round trip"), (-1, "worker: computing")]),
    (3, "check: reference and judge", None),
    (4, "check: reference", None),
    (4, "= judge (reference and judge - reference)", [(1, "check: reference and judge"), (-1, "check: reference")]),
    (3, "= Hypothesis's engine ~ test call - round trip - reference and judge - draw inputs - build calls",
     [(1, "test call"), (-1, "check: worker round trip"), (-1, "check: reference and judge"),
      (-1, "check: draw inputs"), (-1, "check: build calls")]),
    (2, "feedback", None),
    (2, "= pytest itself: collection, session, setup, reports (pytest - worker start - test call - feedback)",
     [(1, "pytest"), (-1, "worker: start"), (-1, "test call"), (-1, "feedback")]),
    (1, "worker: close", None),
]
SUMMARY = [
    ("= the checking proper, as the peer does it: draw inputs + build calls + computing + reference and judge",
     [(1, "check: draw inputs"), (1, "check: build calls"), (1, "worker: computing"), (1, "check: reference and judge")]),
    ("= the second process: prepare + start + the boundary + close",
     [(1, "worker: prepare"), (1, "worker: start"), (1, "check: worker round trip"), (-1, "worker: computing"),
      (1, "worker: close")]),
]


def find(spans, name):
    """The span called name, or name followed by its explanation in parentheses: (key, entry) or (None, None)."""
    for key, entry in spans.items():
        if key == name or key.startswith(name + " ("):
            return key, entry
    return None, None


def rows(spans, wall):
    """The table: (depth, label, seconds, count); spans the tree does not know come last, at depth 1."""
    known, out, missing = set(), [], set()

    def value(terms):
        total = 0.0
        for sign, name in terms:
            key, entry = (WALL, {"seconds": wall}) if name == WALL else find(spans, name)
            if key is None:
                missing.add(name)
                continue
            total += sign * entry["seconds"]
        return total

    for depth, label, terms in TREE:
        if terms is None:
            key, entry = find(spans, label)
            if key is None:
                missing.add(label)
                continue
            known.add(key)
            out.append((depth, key, entry["seconds"], entry["count"]))
        else:
            out.append((depth, label, value(terms), None))
    out += [(1, k, e["seconds"], e["count"]) for k, e in spans.items() if k not in known]
    out += [(0, label, value(terms), None) for label, terms in SUMMARY]
    return out, sorted(missing)


def print_table(table, wall):
    print("| stage | seconds | calls | ms per call | share |\n|---|---:|---:|---:|---:|")
    for depth, label, seconds, count in table:
        per = f"{1000 * seconds / count:.3f}" if count else ""
        print(f"| {'. ' * depth}{label} | {seconds:.3f} | {count or ''} | {per} | {100 * seconds / wall:.0f} % |")


GROUPS = [  # (group, test on (file, function)), first match wins
    ("waiting for the worker (select, read)", lambda f, fn: "select" in fn or "posix.read" in fn),
    ("hypothesis", lambda f, fn: "/hypothesis/" in f),
    ("pytest, pluggy", lambda f, fn: "/_pytest/" in f or "/pluggy/" in f or "/pytest/" in f),
    ("numpy", lambda f, fn: "/numpy/" in f or "numpy" in fn),
    ("autograder (engine)", lambda f, fn: "/autograder/" in f),
    ("reference", lambda f, fn: "/reference/" in f),
    ("graded tests, inputs.py", lambda f, fn: "/assignments/" in f),
    ("json", lambda f, fn: "json" in f or "json" in fn),
    ("imports", lambda f, fn: "importlib" in f or "<frozen" in f or fn in ("<built-in method marshal.loads>",
                                                                             "<built-in method builtins.exec>")),
    ("processes (fork, exec, wait, kill)", lambda f, fn: "subprocess" in f or "fork_exec" in fn or "posix" in fn),
]


def cprofile_summary(path, top):
    import pstats
    groups, functions = {}, []
    for (file, line, fn), (_, calls, own, cumulative, _) in pstats.Stats(path).stats.items():
        group = next((g for g, test in GROUPS if test(file, fn)), "other (stdlib, builtins)")
        groups[group] = groups.get(group, 0.0) + own
        where = common.shown(file) if file.startswith(common.ROOT) else file.split("site-packages/")[-1]
        functions.append((own, cumulative, calls, f"{where}:{line}({fn})"))
    total = sum(groups.values())
    print(f"cProfile: {total:.3f} s of own time in the grader (profiling overhead included; read shares, not seconds)\n")
    print("| where the code lives | own time (s) | share |\n|---|---:|---:|")
    for g, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"| {g} | {t:.3f} | {100 * t / total:.0f} % |")
    print(f"\ntop {top} functions by own time:\n\n| own (s) | cumulative (s) | calls | function |\n|---:|---:|---:|---|")
    for own, cumulative, calls, name in sorted(functions, reverse=True)[:top]:
        print(f"| {own:.3f} | {cumulative:.3f} | {calls} | `{name}` |")
    return {g: round(t, 4) for g, t in groups.items()}


def profile(args, spec, workdir):
    submission = common.resolve(spec, args.assignment, workdir)
    out, timing = os.path.join(workdir, "results.json"), os.path.join(workdir, "timing.json")
    command = common.grade_command(args.assignment, submission, out, env=common.env_with(AUTOGRADER_TIMING=timing))
    runs = []
    for _ in range(args.runs):
        r = common.measure(**command)
        with open(timing, encoding="utf-8") as f:
            runs.append({"wall": r["wall"], "cpu": r["cpu"], "spans": json.load(f), "score": r["json"]["score"],
                         "failed": sum(t["status"] == "failed" for t in r["json"]["tests"])})
    runs.sort(key=lambda c: c["wall"])
    median = runs[len(runs) // 2]
    walls = ", ".join(f"{c['wall']:.2f}" for c in runs)
    print(f"\n== {common.shown(spec)}: score {median['score']:g}, {median['failed']} failed tests; the median of "
          f"{len(runs)} run(s) (walls {walls}), CPU {median['cpu']:.2f} s\n")
    table, missing = rows(median["spans"], median["wall"])
    print_table(table, median["wall"])
    if missing:
        print(f"\nnot recorded in this grading (counted as 0; feedback, for one, runs only on a failure): {', '.join(missing)}")
    found = {"submission": spec, "walls": [round(c["wall"], 4) for c in runs], "wall": median["wall"],
             "cpu": median["cpu"], "score": median["score"], "failed_tests": median["failed"],
             "spans": median["spans"], "rows": [{"label": label, "seconds": round(s, 4), "count": n}
                                                for _, label, s, n in table], "missing_spans": missing}
    if args.cprofile:
        prof = os.path.join(workdir, "grade.prof")
        common.measure([common.PY, "-m", "cProfile", "-o", prof] + command["cmd"][1:])
        print()
        found["cprofile_groups"] = cprofile_summary(prof, args.top)
    return found


def run(args):
    info = common.machine()
    floor = statistics.median(common.measure(common.FLOOR)["wall"] for _ in range(1 if args.quick else 5))
    print(f"floor, python -c 'import numpy': {floor:.3f} s")
    workdir = tempfile.mkdtemp(prefix="autograder-bench-profile-")
    try:
        found = [profile(args, spec, workdir) for spec in args.submissions]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"machine": info, "assignment": args.assignment, "runs": args.runs, "floor_seconds": floor,
            "submissions": found, "notes": common.busy_notes(info)}


def main():
    p = common.parser(__doc__)
    common.submission_arguments(p, "*", None, "submissions (by default the assignment's correct one)")
    p.add_argument("--runs", type=int, help="gradings of each submission, the median shown (default 5, quick 1)")
    p.add_argument("--cprofile", action="store_true", help="also a cProfile run of the grader")
    p.add_argument("--top", type=int, default=25, help="with --cprofile: how many functions (default %(default)s)")
    args = common.parse(p, runs=(5, 1))
    args.submissions = args.submissions or [os.path.join(common.SUBMISSIONS, args.assignment, "correct")]
    common.finish(args, run)


if __name__ == "__main__":
    main()
