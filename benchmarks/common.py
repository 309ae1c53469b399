"""What the benchmark scripts share: running and measuring a command, statistics, the machine,
JSON, the Gradescope root, and submissions (corpus mistakes, a class, a copy of an assignment).

The engine is only ever run as `python -m autograder ...` in a subprocess; the one engine module
imported here is autograder.config, to read an assignment's settings.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import psutil
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # this checkout's autograder.config, not an installed one
PY = sys.executable
SUBMISSIONS = os.path.join(ROOT, "tests", "submissions")
FLOOR = [PY, "-c", "import numpy"]  # the least any grading process costs
MB = 2.0 ** 20


# ---- arguments ------------------------------------------------------------------------

def parser(doc):
    """An ArgumentParser with the options every script has: --quick and --json."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run: fewer runs, smaller inputs")
    p.add_argument("--json", metavar="OUT", help="also write the results here as JSON")
    return p


def parse(p, **defaults):
    """Parses the arguments; an option left out gets defaults[name] = (full run's value, quick run's)."""
    args = p.parse_args()
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def submission_arguments(p, nargs, default, text):
    p.add_argument("submissions", nargs=nargs, default=default, metavar="SUBMISSION",
                   help=f"{text}, or mistake:NAME for a corpus mistake" + (" (default: %(default)s)" if default else ""))
    p.add_argument("--assignment", default="backprop", help="the assignment (default: %(default)s)")


def finish(args, run, report=None):
    """Runs a script's measurement, prints its report and notes, and writes its JSON (--json)."""
    results = run(args)
    if report:
        report(results)
    for note in results.get("notes", []):
        print("note:", note)
    write_json(args.json, results)


def examples_arguments(p):
    p.add_argument("--examples", type=int, metavar="R", help="grade a copy of the assignment with R regimes per test")
    p.add_argument("--instances", type=int, metavar="I", help="... and I instances per regime")


def write_json(path, data):
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


# ---- running and measuring one command ------------------------------------------------

class TreeSampler(threading.Thread):
    """Samples the RSS of a process and its descendants (psutil) until stopped; keeps the peaks."""

    def __init__(self, pid, every=0.01):
        super().__init__(daemon=True)
        self.root, self.every, self.stopped = psutil.Process(pid), every, threading.Event()
        self.tree_peak, self.peaks = 0, {}

    def run(self):
        while not self.stopped.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                procs = []
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self.peaks[p.pid] = max(self.peaks.get(p.pid, 0), rss)
            self.tree_peak = max(self.tree_peak, total)
            self.stopped.wait(self.every)

    def stop(self):
        self.stopped.set()
        self.join()
        others = [v for pid, v in self.peaks.items() if pid != self.root.pid]
        return {"tree_peak_mb": self.tree_peak / MB, "root_peak_mb": self.peaks.get(self.root.pid, 0) / MB,
                "largest_descendant_mb": max(others) / MB if others else None}


def measure(cmd, cwd=ROOT, env=None, sample=False, results=None):
    """Runs cmd to its end: wall, CPU (user + sys of it and the children it reaped) and max RSS of any
    one of them (wait4); with sample, the tree's peak RSS. results: a JSON file the command writes,
    removed before and read after (as r["json"])."""
    if results and os.path.exists(results):
        os.remove(results)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env or user_environment(), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        r = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024,
             "rc": os.waitstatus_to_exitcode(status)}
        if sampler:
            r.update(sampler.stop())
        out.seek(0)
        err.seek(0)
        r["stdout"], r["stderr"] = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if r["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {r['rc']}:\n{r['stderr'][-2000:]}")
    if results:
        with open(results, encoding="utf-8") as f:
            r["json"] = json.load(f)
    return r


def user_environment():
    """This environment as a user's machine has it: Python writes and reads its bytecode caches
    (a sandbox that sets PYTHONDONTWRITEBYTECODE would make every run compile the engine again)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def env_with(**extra):
    env = user_environment()
    env.update({k: str(v) for k, v in extra.items()})
    return env


def grade_command(assignment, submission, out, env=None):
    """A spec for alternate(): `python -m autograder grade`, its results.json at `out`."""
    return {"cmd": [PY, "-m", "autograder", "grade", assignment, submission, "--json", out],
            "results": out, "env": env}


def alternate(commands, runs, check=None):
    """Runs each command of {key: spec} once per round, the order reversed every other round, after one
    round that warms the file cache and is not counted. spec: measure()'s keywords, and `before`, called
    before each of its runs. check(key, r) sees
    every run's result. Returns {key: [measure() result of each counted round]}."""
    done = {k: [] for k in commands}
    for round_ in range(runs + 1):
        keys = list(commands) if round_ % 2 else list(reversed(commands))
        for key in keys:
            spec = dict(commands[key])
            before = spec.pop("before", None)  # e.g. forget what an earlier run kept
            if before:
                before()
            r = measure(**spec)
            if check:
                check(key, r)
            if round_:
                done[key].append(r)
        if round_:
            print(f"  run {round_}/{runs}: " + ", ".join(f"{k} {done[k][-1]['wall']:.2f}" for k in commands))
    return done


def stat(values):
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values]}


def times(done):
    """alternate()'s runs as {"seconds": {key: stat}, "cpu_seconds": {key: stat}}."""
    return {"seconds": {k: stat(r["wall"] for r in rs) for k, rs in done.items()},
            "cpu_seconds": {k: stat(r["cpu"] for r in rs) for k, rs in done.items()}}


def show(label, s, cpu=None):
    extra = f"  cpu {cpu['median']:.3f}" if cpu else ""
    print(f"  {label:<40} {s['median']:8.3f}  [{s['min']:.3f}, {s['max']:.3f}]{extra}")


def show_times(t):
    for key, s in t["seconds"].items():
        show(key, s, t["cpu_seconds"].get(key))


def print_targets(found):
    if not found:
        return
    print("\ntargets")
    for t in found:
        cpu = f"; in CPU time {t['reached_cpu']:.2f}" if "reached_cpu" in t else ""
        print(f"  {'MET ' if t['met'] else 'NOT '} {t['name']}: reached {t['reached']:.2f} (target {t['target']:g}){cpu}")


def full_marks(results, what):
    possible = sum(t.get("max_score", 0) for t in results.get("tests", []))
    if not results.get("tests") or abs(results["score"] - possible) > 1e-9:
        raise RuntimeError(f"{what}: expected full marks, got {results.get('score')} / {possible}: "
                           f"{results.get('output', '')[:300]}")
    return possible


def shown(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT) else path


# ---- the machine ----------------------------------------------------------------------

def machine():
    from importlib import metadata
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    except OSError:
        lscpu = []
    cpu = next((line.split(":", 1)[1].strip() for line in lscpu if line.split(":")[0].strip() == "Model name"), None)
    versions = {}
    for package in ("numpy", "hypothesis", "pytest", "gradescope-utils", "pyyaml", "psutil"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "os": platform.platform(), "versions": versions, "root": os.geteuid() == 0,
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "load_average": list(os.getloadavg())}


def busy_notes(info):
    load = info["load_average"][0]
    if load > 0.5 * info["cores"]:
        return [f"the machine was not idle (1-minute load {load:.2f} on {info['cores']} cores): "
                "wall times are noisy, CPU times less so"]
    return []


# ---- assignments and submissions ------------------------------------------------------

def assignment(name):
    from autograder import config
    return config.find(name)


def assignment_copy(name, regimes, instances, folder):
    """A copy of assignments/NAME in folder whose assignment.yaml sets examples to regimes x instances."""
    target = os.path.join(folder, f"{name}-{regimes}x{instances}")
    if not os.path.isdir(target):
        shutil.copytree(os.path.join(ROOT, "assignments", name), target, ignore=shutil.ignore_patterns("__pycache__"))
        path = os.path.join(target, "assignment.yaml")
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
        data["examples"] = {"hypothesis": regimes, "instances": instances}
        data.setdefault("name", name)
        data.setdefault("reference", name)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)
    return target


def graded_assignment(args, name, folder):
    """NAME, or with --examples/--instances a copy of it with those values: (what to grade, regimes, instances)."""
    a = assignment(name)
    if args.examples is None and args.instances is None:
        return name, a.examples, a.instances
    regimes, instances = args.examples or a.examples, args.instances or a.instances
    return assignment_copy(name, regimes, instances, folder), regimes, instances


def corpus(name):
    with open(os.path.join(SUBMISSIONS, name, "corpus.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def write_mistake(name, mistake, folder):
    """The corpus mistake as a submission folder (as tests/conftest.py's write_mistake); returns its path."""
    c = corpus(name)
    with open(os.path.join(SUBMISSIONS, name, c["base"]), encoding="utf-8") as f:
        text = f.read()
    for old, new in c["mistakes"][mistake]["replace"]:
        if text.count(old) != 1:
            raise RuntimeError(f"{mistake}: {old!r} must occur exactly once in {c['base']}")
        text = text.replace(old, new)
    path = os.path.join(folder, mistake)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, assignment(name).student_file), "w", encoding="utf-8") as f:
        f.write(text)
    return path


def resolve(spec, name, folder):
    """A submission given on the command line: a path, or mistake:NAME (the corpus mistake, written into folder)."""
    if spec.startswith("mistake:"):
        return write_mistake(name, spec[len("mistake:"):], folder)
    return os.path.abspath(spec)


def write_class(folder, n, name="backprop"):
    """n submissions in folder: the correct solutions and the corpus mistakes, cycled. Returns how many of each."""
    base, student_file = os.path.join(SUBMISSIONS, name), assignment(name).student_file
    kinds = [("correct", d) for d in sorted(os.listdir(base))
             if d.startswith("correct") and os.path.isfile(os.path.join(base, d, student_file))]
    kinds += [("mistake", m) for m in corpus(name)["mistakes"]]
    scratch = os.path.join(folder, ".mistakes")
    for i in range(n):
        kind, what = kinds[i % len(kinds)]
        target = os.path.join(folder, f"s{i + 1:03d}-{what}")
        if kind == "correct":
            os.makedirs(target)
            shutil.copy(os.path.join(base, what, student_file), target)
        else:
            shutil.move(write_mistake(name, what, scratch), target)
    shutil.rmtree(scratch, ignore_errors=True)
    correct = sum(1 for i in range(n) if kinds[i % len(kinds)][0] == "correct")
    return {"correct": correct, "mistakes": n - correct, "kinds_available": len(kinds)}


def gradescope_root(name, workdir, submission):
    """ROOT/source = the built autograder.zip unzipped, ROOT/submission = a copy of the submission.
    Returns a spec for alternate(): run_autograder as Gradescope runs it."""
    out = os.path.join(workdir, "build-" + name)
    measure([PY, "-m", "autograder", "build", name, "--out", out])
    root = os.path.join(workdir, "gradescope-" + name)
    with zipfile.ZipFile(os.path.join(out, "autograder.zip")) as z:
        z.extractall(os.path.join(root, "source"))
        for info in z.infolist():  # zipfile drops the executable bits
            if info.external_attr >> 16:
                os.chmod(os.path.join(root, "source", info.filename), info.external_attr >> 16)
    shutil.copytree(submission, os.path.join(root, "submission"))
    os.makedirs(os.path.join(root, "results"), exist_ok=True)
    return {"cmd": ["bash", os.path.join(root, "source", "run_autograder")], "cwd": root,
            # as root, run_autograder kills every process of its sandbox user at the end: a uid of its
            # own (outside batch's and the tests' ranges) spares other work on this machine
            "env": env_with(AUTOGRADER_ROOT=root, AUTOGRADER_PYTHON=PY,
                            AUTOGRADER_SANDBOX_USER=390000 + os.getpid() % 10000),
            "results": os.path.join(root, "results", "results.json")}
