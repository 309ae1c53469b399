"""Batch grading: a class with `batch --jobs 2` against `grade` on each submission, one by one.

    python benchmarks/batch.py [--quick] [--size N] [--repeats N] [--jobs J] [--json OUT]
    python benchmarks/batch.py --class 500 [--jobs J]      # a synthetic class of 500, timed once

The class is generated: the correct solutions of tests/submissions/backprop and the mistake
corpus (corpus.yaml), cycled. Also measured: batch's own work (the same command again on a
graded folder: discovery, fingerprints, scores.csv, the reports) and the machine's own ceiling
for J processes (J CPU-bound processes side by side against one alone: 2 cores that share a
physical core, or a busy neighbour, give less than J). Every submission must get the same score
from batch as from grade. Every timed run starts from a cache that holds the record but no known
shrink (autograder/shrinks.py), as for a TA who never proved the assignment: the class learns them,
each distinct mistake's first student paying for Hypothesis's shrink.
"""
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import common

SPIN = "s = 0\nfor i in range(12_000_000):\n    s += i"  # pure Python, about 0.5-1 s of one core


def parallel_capacity(jobs, repeats):
    """How many times more CPU-bound work `jobs` processes side by side get done than one alone."""
    alone, together = [], []
    for _ in range(repeats):
        alone.append(common.measure([common.PY, "-c", SPIN])["wall"])
        t0 = time.perf_counter()
        procs = [subprocess.Popen([common.PY, "-c", SPIN]) for _ in range(jobs)]
        for p in procs:
            p.wait()
        together.append(time.perf_counter() - t0)
    return {"one_seconds": common.stat(alone), "together_seconds": common.stat(together),
            "capacity": jobs * statistics.median(alone) / statistics.median(together)}


def batch_command(folder, out, jobs):
    return [common.PY, "-m", "autograder", "batch", "backprop", folder, "--out", out, "--jobs", str(jobs)]


def score(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["score"]
    except (OSError, ValueError, KeyError):
        return None


def fresh_cache(workdir):
    """A cache with the record made (one grading) and no shrink known; returns (its environment, forget),
    forget() removing the shrinks a run learned."""
    cache = os.path.join(workdir, "cache")
    env = common.env_with(XDG_CACHE_HOME=cache)
    correct = os.path.join(common.SUBMISSIONS, "backprop", "correct")
    common.measure(**common.grade_command("backprop", correct, os.path.join(workdir, "warm.json"), env=env))
    return env, lambda: shutil.rmtree(os.path.join(cache, "backprop-autograder", "shrinks"), ignore_errors=True)


def compare(workdir, folder, jobs, repeats):
    """The class graded one by one and with batch, alternated, `repeats` times each."""
    env, forget = fresh_cache(workdir)
    paths = sorted(os.path.join(folder, d) for d in os.listdir(folder))
    one_by_one, batch, own, per_submission, notes = [], [], [], [], []
    for rep in range(repeats):
        for what in (("one", "batch") if rep % 2 == 0 else ("batch", "one")):
            out = os.path.join(workdir, f"out-{rep}-{what}")
            os.makedirs(out)
            forget()
            t0 = time.perf_counter()
            if what == "one":
                for p in paths:
                    r = common.measure(**common.grade_command("backprop", p, os.path.join(out, f"{os.path.basename(p)}.json"),
                                                              env=env))
                    if rep == 0:
                        per_submission.append(r["wall"])
                one_by_one.append(time.perf_counter() - t0)
            else:
                batch.append(common.measure(batch_command(folder, out, jobs), env=env)["wall"])
                # again on the graded folder: nothing left to grade, so this is batch's own work
                own.append(common.measure(batch_command(folder, out, jobs), env=env)["wall"])
            print(f"  {what:>5}: {(one_by_one if what == 'one' else batch)[-1]:.2f} s")
    mismatched = []
    for p in paths:
        name = os.path.basename(p)
        alone = score(os.path.join(workdir, "out-0-one", name + ".json"))
        together = score(os.path.join(workdir, "out-0-batch", name, "results.json"))
        if alone is None or together != alone:
            mismatched.append(f"{name}: grade {alone}, batch {together}")
    if mismatched:
        notes.append("batch: scores differ from one-by-one grading: " + "; ".join(mismatched))
    ob, bt = common.stat(one_by_one), common.stat(batch)
    n = len(paths)
    return {"one_by_one_seconds": ob, "batch_seconds": bt, "batch_own_seconds": common.stat(own),
            "per_submission_seconds": common.stat(per_submission),
            "one_by_one_per_minute": 60 * n / ob["median"], "batch_per_minute": 60 * n / bt["median"],
            "speedup": ob["median"] / bt["median"], "notes": notes}


def timed_once(workdir, folder, jobs):
    """The class graded once with batch: seconds, throughput, and how many results were written."""
    out = os.path.join(workdir, "out-class")
    env, forget = fresh_cache(workdir)
    forget()
    r = common.measure(batch_command(folder, out, jobs), env=env)
    n = len(os.listdir(folder))
    graded = sum(1 for d in os.listdir(folder) if score(os.path.join(out, d, "results.json")) is not None)
    notes = [] if graded == n else [f"batch: {n - graded} of {n} submissions have no results.json"]
    # no CPU time: on Linux the graders are the fork server's children (classroom/warm.py), not batch's,
    # so wait4 does not count them
    print(f"  batch --jobs {jobs}: {r['wall']:.1f} s, {60 * n / r['wall']:.0f} per minute")
    return {"batch_seconds": r["wall"], "graded": graded,
            "batch_per_minute": 60 * n / r["wall"], "notes": notes}


def run(args):
    info = common.machine()
    notes = common.busy_notes(info)
    size = args.class_size or args.size
    workdir = tempfile.mkdtemp(prefix="autograder-bench-batch-")
    try:
        folder = os.path.join(workdir, "class")
        os.makedirs(folder)
        mix = common.write_class(folder, size)
        print(f"batch: a class of {size} ({mix['correct']} correct, {mix['mistakes']} with a mistake), --jobs {args.jobs}")
        capacity = parallel_capacity(args.jobs, 1 if args.quick else 3)
        print(f"  the machine's own ceiling: {args.jobs} CPU-bound processes together do "
              f"{capacity['capacity']:.2f} x the work of one")
        found = timed_once(workdir, folder, args.jobs) if args.class_size else compare(workdir, folder, args.jobs,
                                                                                        args.repeats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = {"machine": info, "submissions": size, **mix, "jobs": args.jobs, **found,
               "machine_parallel_capacity": capacity, "notes": notes + found.pop("notes"), "targets": []}
    if "speedup" in found:
        results["speedup_over_capacity"] = found["speedup"] / capacity["capacity"]
        results["targets"].append({"name": f"batch on {args.jobs} jobs >= 1.9 x one-by-one throughput",
                                   "target": 1.9, "reached": found["speedup"], "met": found["speedup"] >= 1.9})
    if args.class_size and "batch_seconds" in found:
        results["targets"].append({"name": f"a class of {size} graded in < 4 minutes", "target": 240.0,
                                   "reached": found["batch_seconds"], "met": found["batch_seconds"] < 240})
    return results


def report(r):
    if "speedup" in r:
        print(f"\n{r['submissions']} submissions: one by one {r['one_by_one_seconds']['median']:.1f} s, "
              f"--jobs {r['jobs']} {r['batch_seconds']['median']:.1f} s: {r['speedup']:.2f} x "
              f"({r['batch_per_minute']:.0f} vs {r['one_by_one_per_minute']:.0f} per minute); batch's own work "
              f"{r['batch_own_seconds']['median']:.2f} s; the machine's ceiling {r['machine_parallel_capacity']['capacity']:.2f} x")
        common.print_targets(r["targets"])


def main():
    p = common.parser(__doc__)
    p.add_argument("--size", type=int, help="submissions in the class (default 35, quick 8)")
    p.add_argument("--repeats", type=int, help="times the class is graded each way (default 2, quick 1)")
    p.add_argument("--jobs", type=int, default=2, help="batch --jobs (default %(default)s)")
    p.add_argument("--class", dest="class_size", type=int, metavar="N",
                   help="instead: a synthetic class of N, graded once with batch")
    args = common.parse(p, size=(35, 8), repeats=(2, 1))
    common.finish(args, run, report)


if __name__ == "__main__":
    main()
