"""One grading of a correct submission, against the in-process peer and the floor; and its memory.

    python benchmarks/grade.py [--quick] [--runs N] [--examples R --instances I] [--json OUT]

Alternated round by round in one run (median, min, max of --runs; wall and CPU time):

  floor       python -c "import numpy": the least any grading process costs;
  peer        benchmarks/peer/: a gradescope-utils JSONTestRunner autograder checking the same
              functions of backprop.py in-process, as many examples per test as the graded
              assignment (regimes x instances), numpy's generator, no sandbox;
  grade       python -m autograder grade NAME <correct submission>, backprop and nn_modules;
  gradescope  the built autograder.zip unzipped into ROOT/source, then
              AUTOGRADER_ROOT=ROOT bash ROOT/source/run_autograder.

Then the peak RSS (psutil, sampled) of the grader, of the worker (its largest descendant) and of
the whole tree. Prints the ratios grade/peer, grade/floor, grade/(floor + the peer's checking).

--examples R --instances I grade a temporary copy of each assignment with those values in its
assignment.yaml (and give the peer R x I examples per test), beside the assignment as it is
(grade_NAME_default); the Gradescope path is left out then (a zip is built from the repository).
"""
import json
import os
import shutil
import tempfile

import common

PEER = os.path.join(common.HERE, "peer", "run_tests.py")
ASSIGNMENTS = ("backprop", "nn_modules")


def memory(commands, runs):
    """Peak RSS (MB) of each grading's grader, worker and tree, of the Gradescope tree, the floor, the peer."""
    mem = {}
    for key, spec in commands.items():
        rs = [common.measure(sample=True, **spec) for _ in range(runs)]
        if key.startswith("grade_") and not key.endswith("_default"):
            mem[f"{key}_grader_mb"] = common.stat(r["root_peak_mb"] for r in rs)
            if all(r["largest_descendant_mb"] for r in rs):
                mem[f"{key}_worker_mb"] = common.stat(r["largest_descendant_mb"] for r in rs)
                mem[f"{key}_grader_plus_worker_mb"] = common.stat(r["root_peak_mb"] + r["largest_descendant_mb"]
                                                                  for r in rs)
        if not key.endswith("_default"):
            mem[f"{key}_tree_peak_mb"] = common.stat(r["tree_peak_mb"] for r in rs)
    return mem


def ratios(m, c, found):
    r = {"grade_over_peer": m["grade_backprop"] / m["peer"],
         "grade_over_floor": m["grade_backprop"] / m["floor"],
         "grade_over_floor_plus_peer_check": m["grade_backprop"] / (m["floor"] + m["peer_check"]),
         "peer_over_floor": m["peer"] / m["floor"],
         "cpu_grade_over_peer": c["grade_backprop"] / c["peer"],
         "cpu_grade_over_floor_plus_peer_check": c["grade_backprop"] / (c["floor"] + c["peer_check"])}
    if "gradescope_backprop" in m:
        r.update(gradescope_over_peer=m["gradescope_backprop"] / m["peer"],
                 gradescope_over_grade=m["gradescope_backprop"] / m["grade_backprop"],
                 cpu_gradescope_over_peer=c["gradescope_backprop"] / c["peer"])
    if "grade_backprop_default" in m:
        r["grade_over_default"] = m["grade_backprop"] / m["grade_backprop_default"]
    if "nn_modules" in found:
        r["grade_nn_modules_over_floor"] = m["grade_nn_modules"] / m["floor"]
    return r


def targets(r, mem):
    found = [{"name": "grade one correct backprop submission <= 1.0 x the equal-examples peer's time", "target": 1.0,
              "reached": r["grade_over_peer"], "reached_cpu": r["cpu_grade_over_peer"]}]
    for t in found:
        t["met"] = t["reached"] <= t["target"]
    if "grade_backprop_grader_plus_worker_mb" in mem:
        peak = mem["grade_backprop_grader_plus_worker_mb"]["median"]
        found.append({"name": "peak memory, grader + worker < 400 MB", "target": 400.0, "reached": peak,
                      "met": peak < 400})
    return found


def available():
    """The benchmarked assignments that exist, with a correct submission: {name: correct folder}."""
    found = {}
    for name in ASSIGNMENTS:
        correct = os.path.join(common.SUBMISSIONS, name, "correct")
        if os.path.isfile(os.path.join(common.ROOT, "assignments", name, "assignment.yaml")) and os.path.isdir(correct):
            found[name] = correct
    return found


def run(args):
    info = common.machine()
    notes = common.busy_notes(info)
    found = available()
    if "backprop" not in found:
        raise SystemExit("assignments/backprop or tests/submissions/backprop/correct is missing")
    notes += [f"{n}: skipped, its assignment or correct submission is missing" for n in ASSIGNMENTS
              if n not in found]
    workdir = tempfile.mkdtemp(prefix="autograder-bench-grade-")
    try:
        commands, shape = {"floor": {"cmd": common.FLOOR}}, {}
        for name, correct in found.items():
            graded, regimes, instances = common.graded_assignment(args, name, workdir)
            shape[name] = {"regimes_per_test": regimes, "instances_per_regime": instances}
            if name == "backprop":
                out = os.path.join(workdir, "peer.json")
                commands["peer"] = {"cmd": [common.PY, PEER, os.path.join(correct, "backprop.py"), "--examples",
                                            str(regimes * instances), "--out", out], "results": out}
            commands[f"grade_{name}"] = common.grade_command(graded, correct, os.path.join(workdir, f"{name}.json"))
            if graded != name:
                commands[f"grade_{name}_default"] = common.grade_command(
                    name, correct, os.path.join(workdir, f"{name}-default.json"))
            else:
                commands[f"gradescope_{name}"] = common.gradescope_root(name, workdir, correct)
        print(f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, numpy {info['versions']['numpy']}, "
              f"hypothesis {info['versions']['hypothesis']}; {args.runs} runs each, alternated")
        for name, s in shape.items():
            print(f"  {name}: {s['regimes_per_test']} regimes x {s['instances_per_regime']} instances per test")
        points = {}

        def check(key, r):
            if "json" in r:
                points[key] = common.full_marks(r["json"], key)
                if key.startswith("grade_") and not key.endswith("_default"):
                    shape[key[6:]]["tests"] = len(r["json"]["tests"])

        done = common.alternate(commands, args.runs, check)
        if points["peer"] != points["grade_backprop"]:
            notes.append(f"the peer's points ({points['peer']:g}) differ from the project's "
                         f"({points['grade_backprop']:g}): benchmarks/peer/ needs the assignment's current weights")
        t = common.times(done)
        peer_inside = [json.loads(r["stdout"].strip().splitlines()[-1]) for r in done["peer"]]
        t["seconds"]["peer_check"] = common.stat(p["check_seconds"] for p in peer_inside)
        t["seconds"]["peer_import"] = common.stat(p["import_seconds"] for p in peer_inside)
        t["cpu_seconds"]["peer_check"] = common.stat(p["check_cpu_seconds"] for p in peer_inside)
        for name in found:
            t["seconds"][f"grade_{name}_in_grader"] = common.stat(r["json"]["execution_time"]
                                                                  for r in done[f"grade_{name}"])
        print(f"\nmemory: peak RSS, {args.memory_runs} run(s) each")
        mem = memory(commands, args.memory_runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    m = {k: v["median"] for k, v in t["seconds"].items()}
    c = {k: v["median"] for k, v in t["cpu_seconds"].items()}
    for name, s in shape.items():
        s["examples"] = s["tests"] * s["regimes_per_test"] * s["instances_per_regime"]
    per_example_ms = {"peer": 1000 * m["peer"] / shape["backprop"]["examples"],
                      "peer_check": 1000 * m["peer_check"] / shape["backprop"]["examples"]}
    for name in found:
        per_example_ms[f"grade_{name}"] = 1000 * m[f"grade_{name}"] / shape[name]["examples"]
        per_example_ms[f"grade_{name}_above_floor"] = 1000 * (m[f"grade_{name}"] - m["floor"]) / shape[name]["examples"]
    r = ratios(m, c, found)
    return {"machine": info, "runs": args.runs, "memory_runs": args.memory_runs, "assignments": shape, **t,
            "memory_mb": mem, "ratios": r, "per_example_ms": per_example_ms, "targets": targets(r, mem), "notes": notes}


def report(r):
    print(f"\ntime (wall, seconds; median [min, max] of {r['runs']} runs; CPU median)")
    common.show_times(r)
    print("\nmemory (MB; median [min, max])")
    for key, v in r["memory_mb"].items():
        common.show(key, v)
    for title, key in (("ratios", "ratios"), ("per example (ms)", "per_example_ms")):
        print(f"\n{title}")
        for k, v in r[key].items():
            print(f"  {k:<40} {v:7.3f}")
    common.print_targets(r["targets"])


def main():
    p = common.parser(__doc__)
    p.add_argument("--runs", type=int, help="timed rounds (default 7, quick 2)")
    p.add_argument("--memory-runs", type=int, help="memory runs of each command (default 3, quick 1)")
    common.examples_arguments(p)
    args = common.parse(p, runs=(7, 2), memory_runs=(3, 1))
    common.finish(args, run, report)


if __name__ == "__main__":
    main()
