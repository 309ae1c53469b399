"""The whole benchmark: runs grade.py, mistake.py, batch.py and stages.py, and writes results.json.

    python benchmarks/run.py [--quick] [--only grade,batch] [--out benchmarks/results.json]

Each script runs in its own process, one after the other, printing as it goes (see
benchmarks/README.md for what each measures); their JSON goes together into one file, with the
machine, every target (met or not) and every note. A full run takes about 5 minutes on 2 idle
cores and is the record in benchmarks/results.json. --quick is a smoke run (about 2 minutes):
fewer runs and a small class, written to a temporary file unless --out says otherwise, so that
it never replaces the record.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import common

SCRIPTS = ("grade", "mistake", "batch", "stages")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run: fewer runs, a small class")
    p.add_argument("--only", default=",".join(SCRIPTS), help="which scripts, comma-separated (default: all)")
    p.add_argument("--out", help="where results.json goes (default benchmarks/results.json; quick: a temporary file)")
    args = p.parse_args()
    chosen = [s for s in args.only.split(",") if s]
    unknown = sorted(set(chosen) - set(SCRIPTS))
    if unknown:
        raise SystemExit(f"unknown script(s) {', '.join(unknown)}; known: {', '.join(SCRIPTS)}")
    out = args.out or (os.path.join(tempfile.gettempdir(), "autograder-bench-quick.json") if args.quick
                       else os.path.join(common.HERE, "results.json"))
    results = {"machine": common.machine(), "quick": args.quick, "seconds": {}}
    with tempfile.TemporaryDirectory(prefix="autograder-bench-run-") as scratch:
        for name in chosen:
            part = os.path.join(scratch, name + ".json")
            cmd = [sys.executable, os.path.join(common.HERE, name + ".py"), "--json", part] + ["--quick"] * args.quick
            print(f"\n#### {name}.py{' --quick' * args.quick}\n", flush=True)
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=common.ROOT, check=True)
            results["seconds"][name] = round(time.perf_counter() - t0, 1)
            with open(part, encoding="utf-8") as f:
                results[name] = json.load(f)
            results[name].pop("machine", None)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["targets"] = [t for name in chosen for t in results[name].get("targets", [])]
    results["notes"] = [f"{name}: {n}" for name in chosen for n in results[name].get("notes", [])]
    print(f"\n#### all: {sum(results['seconds'].values()):.0f} s")
    common.print_targets(results["targets"])
    for note in results["notes"]:
        print("note:", note)
    common.write_json(out, results)
    print(f"\nwrote {common.shown(out)}")


if __name__ == "__main__":
    main()
