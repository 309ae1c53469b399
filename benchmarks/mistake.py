"""A submission with one mistake (failing tests, shrinking, feedback) against a correct one.

    python benchmarks/mistake.py [--quick] [--runs N] [--assignment NAME] [SUBMISSION | mistake:NAME]
                                 [--examples R --instances I] [--json OUT]

All are graded with `python -m autograder grade`, alternated round by round in one run
(median, min, max of --runs; wall and CPU time). The default mistake is the corpus entry
sigmoid-grad-is-sigmoid (tests/submissions/backprop/corpus.yaml): 8 failing tests. The mistake
is graded twice each round: "mistake" with its shrinks known (as on Gradescope for a mistake the
corpus holds, and for a TA once one student made it: autograder/shrinks.py), and "new mistake"
with no shrink known, so that Hypothesis shrinks every failing test (a cache of its own whose
shrinks are removed before each run). Prints the mistake's score, its failing tests and the
ratios to the correct submission. --examples R --instances I
grade a copy of the assignment with those values (fewer regimes can miss the mistake: see the score).
"""
import os
import shutil
import tempfile

import common


def run(args):
    spec = args.submissions  # one: nargs="?"
    info = common.machine()
    notes = common.busy_notes(info)
    workdir = tempfile.mkdtemp(prefix="autograder-bench-mistake-")
    try:
        graded, regimes, instances = common.graded_assignment(args, args.assignment, workdir)
        submission = common.resolve(spec, args.assignment, workdir)
        correct = os.path.join(common.SUBMISSIONS, args.assignment, "correct")
        fresh = os.path.join(workdir, "cache")  # its record made once (the warm-up round); shrinks never kept
        commands = {"correct": common.grade_command(graded, correct, os.path.join(workdir, "correct.json")),
                    "mistake": common.grade_command(graded, submission, os.path.join(workdir, "mistake.json")),
                    "new mistake": {**common.grade_command(graded, submission, os.path.join(workdir, "new.json"),
                                                           env=common.env_with(XDG_CACHE_HOME=fresh)),
                                    "before": lambda: shutil.rmtree(os.path.join(fresh, "backprop-autograder",
                                                                                 "shrinks"), ignore_errors=True)}}
        common.measure(**commands["mistake"])  # its shrinks known, as after the corpus's proof
        print(f"{args.assignment} ({regimes} regimes x {instances} instances per test): "
              f"{spec} against the correct submission; {args.runs} runs each, alternated")
        seen = {}

        def check(key, r):
            if key == "correct":
                common.full_marks(r["json"], "the correct submission")
            seen[key] = r["json"]

        done = common.alternate(commands, args.runs, check)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    got = seen["mistake"]
    if got["tests"] != seen["new mistake"]["tests"]:
        raise RuntimeError("the mistake's results differ with and without its shrinks known")
    possible = sum(t.get("max_score", 0) for t in got["tests"])
    failed = [t.get("extra_data", {}).get("test") or t.get("name") for t in got["tests"] if t.get("status") == "failed"]
    if not failed:
        notes.append(f"{spec}: no test failed, so nothing was shrunk")
    t = common.times(done)
    m = {k: v["median"] for k, v in t["seconds"].items()}
    c = {k: v["median"] for k, v in t["cpu_seconds"].items()}
    return {"machine": info, "runs": args.runs, "assignment": args.assignment, "submission": spec,
            "regimes_per_test": regimes, "instances_per_regime": instances,
            "score": got["score"], "possible": possible, "failed_tests": failed, **t,
            "in_grader_seconds": common.stat(r["json"]["execution_time"] for r in done["mistake"]),
            "ratios": {"mistake_over_correct": m["mistake"] / m["correct"],
                       "cpu_mistake_over_correct": c["mistake"] / c["correct"],
                       "new_mistake_over_correct": m["new mistake"] / m["correct"],
                       "cpu_new_mistake_over_correct": c["new mistake"] / c["correct"],
                       "seconds_per_failed_test": (m["mistake"] - m["correct"]) / len(failed) if failed else None,
                       "seconds_per_failed_test_new": (m["new mistake"] - m["correct"]) / len(failed)
                       if failed else None},
            "notes": notes,
            "targets": [{"name": "a submission with one mistake <= 2 x a correct one (its shrinks known)",
                         "target": 2.0, "reached": m["mistake"] / m["correct"],
                         "reached_cpu": c["mistake"] / c["correct"], "met": m["mistake"] / m["correct"] <= 2.0},
                        {"name": "a submission with a new mistake <= 2 x a correct one (Hypothesis shrinks)",
                         "target": 2.0, "reached": m["new mistake"] / m["correct"],
                         "reached_cpu": c["new mistake"] / c["correct"],
                         "met": m["new mistake"] / m["correct"] <= 2.0}]}


def report(r):
    print(f"\n{r['submission']}: score {r['score']:g} / {r['possible']:g}, {len(r['failed_tests'])} failed tests"
          + (f": {', '.join(r['failed_tests'])}" if r["failed_tests"] else ""))
    print(f"\ntime (wall, seconds; median [min, max] of {r['runs']} runs; CPU median)")
    common.show_times(r)
    print()
    for k, v in r["ratios"].items():
        if v is not None:
            print(f"  {k:<40} {v:7.3f}")
    common.print_targets(r["targets"])


def main():
    p = common.parser(__doc__)
    common.submission_arguments(p, "?", "mistake:sigmoid-grad-is-sigmoid", "a submission")
    p.add_argument("--runs", type=int, help="timed rounds (default 7, quick 2)")
    common.examples_arguments(p)
    args = common.parse(p, runs=(7, 2))
    common.finish(args, run, report)


if __name__ == "__main__":
    main()
