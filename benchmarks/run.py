"""The benchmark: time and memory of grading, against the in-process peer and the floor.

    python benchmarks/run.py [--quick] [--out benchmarks/results.json]   # the benchmark
    python benchmarks/run.py --profile [SUBMISSION | mistake:NAME ...]   # where one grading's time goes
    python benchmarks/run.py --what-if [VARIANTS] [SUBMISSION ...]       # engine changes, priced

In one run on one machine it times, interleaved round by round (median, min, max of
several runs, wall clock and CPU time):

  floor       python -c "import numpy": the least any grading process costs;
  peer        benchmarks/peer/: a plain gradescope-utils JSONTestRunner autograder that checks
              the same functions of backprop.py in-process, with as many examples per test as
              the project's default configuration (examples.hypothesis x examples.instances
              in assignment.yaml), numpy's generator, the reference computed inline, no sandbox;
  project     python -m autograder grade ASSIGNMENT <correct submission>, and the Gradescope
              path (the built autograder.zip unzipped into ROOT/source, then
              AUTOGRADER_ROOT=ROOT bash ROOT/source/run_autograder), for backprop and, when it
              exists, nn_modules;
  batch       a class of N generated submissions (the correct solutions and the mistake
              corpus) with `batch --jobs <cores>`, against `grade` on each, one by one, and
              the machine's own ceiling for that speedup (CPU-bound processes side by side);
  memory      peak RSS of the grader (its own getrusage) and of the worker (the grader's
              reaped children: RUSAGE_CHILDREN), and the peak of the whole tree, sampled.

It prints the ratios project/peer, project/floor and project/(floor + peer's checking
time), in wall and in CPU time (CPU time is steadier when the machine is shared), the
time per example and the issue's targets, and writes everything as JSON.

--profile runs one grading in a fresh process with the engine's functions wrapped by
timers (imports, worker start, each round trip split into the worker's own computing
and the boundary, Hypothesis generation and shrinking, reference, comparison,
feedback, pytest), then once more under cProfile; benchmarks/profile.md reads it.
--what-if times engine changes applied by patching (no engine file is edited) and
other regimes x instances, each in a fresh process.
"""
import time

STARTED = time.perf_counter()  # first thing: --profile-child counts its imports from here

import argparse  # noqa: E402
import ast  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import zipfile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # the engine's config, for assignment.yaml
SUBMISSIONS = os.path.join(ROOT, "tests", "submissions")
PEER = os.path.join(HERE, "peer", "run_tests.py")
PEER_TESTS = os.path.join(HERE, "peer", "peer_backprop.py")
ASSIGNMENTS = ("backprop", "nn_modules")
MB = 1024.0  # ru_maxrss and VmRSS are in KiB on Linux

# Runs `python -m autograder ...` in this process, and at exit writes its own peak RSS
# (the grader) and its waited-for children's (the worker: the grader reaps it) to $BENCH_RSS.
GRADER_WITH_RSS = """
import atexit, json, os, resource, runpy, sys
def report():
    with open(os.environ["BENCH_RSS"], "w") as f:
        json.dump({"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, f)
atexit.register(report)
sys.argv = ["autograder"] + sys.argv[1:]
runpy.run_module("autograder", run_name="__main__", alter_sys=True)
"""


# ---- running and measuring one process --------------------------------------------

class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every few ms; keeps the peak."""

    def __init__(self, pid, every=0.005):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb, self.most = pid, every, 0, 0
        self.stopped = threading.Event()
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024

    def run(self):
        while not self.stopped.is_set():
            parents, rss = {}, {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                    with open(f"/proc/{entry}/statm") as f:
                        rss[int(entry)] = int(f.read().split()[1]) * self.page_kb
                except (OSError, IndexError, ValueError):
                    continue
            tree, grew = {self.pid}, True
            while grew:
                more = {p for p, parent in parents.items() if parent in tree and p not in tree}
                tree |= more
                grew = bool(more)
            self.peak_kb = max(self.peak_kb, sum(rss.get(p, 0) for p in tree))
            self.most = max(self.most, len(tree))
            self.stopped.wait(self.every)


def measure(cmd, cwd=ROOT, env=None, sample=False):
    """Runs cmd to its end: wall time, CPU time and max RSS (from wait4) and optionally the tree's peak."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            sampler.stopped.set()
            sampler.join()
        out.seek(0)
        err.seek(0)
        result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / MB,
                  "rc": proc.returncode, "stdout": out.read().decode(errors="replace"),
                  "stderr": err.read().decode(errors="replace")}
    if sampler:
        result["tree_peak_mb"] = sampler.peak_kb / MB
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {result['rc']}:\n{result['stderr'][-2000:]}")
    return result


def stat(values):
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values]}


def env_with(**extra):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    return env


# ---- what is measured ---------------------------------------------------------------

def graded_test_names(assignment_folder):
    """The graded tests' function names, read from the test files (no import, no pytest)."""
    names = []
    tests = os.path.join(assignment_folder, "tests")
    for file in sorted(os.listdir(tests)):
        if file.startswith("test_") and file.endswith(".py"):
            with open(os.path.join(tests, file), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            names += [n.name for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")]
    return names


def peer_test_names():
    with open(PEER_TESTS, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def available_assignments():
    from autograder import config
    found = {}
    for name in ASSIGNMENTS:
        folder = os.path.join(ROOT, "assignments", name)
        correct = os.path.join(SUBMISSIONS, name, "correct")
        if os.path.isfile(os.path.join(folder, "assignment.yaml")) and os.path.isdir(correct):
            a = config.find(name)
            found[name] = {"config": a, "correct": correct, "tests": graded_test_names(folder)}
    return found


def machine():
    def lscpu(key):
        try:
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
                if line.split(":")[0].strip() == key:
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return None

    with open("/proc/meminfo") as f:
        ram_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    from importlib import metadata
    versions = {}
    for package in ("numpy", "hypothesis", "pytest", "gradescope-utils", "pyyaml"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": lscpu("Model name"), "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gb": round(ram_kb / 2**20, 1), "python": platform.python_version(),
            "os": platform.platform(), "versions": versions, "root": os.geteuid() == 0,
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "load_average_at_start": list(os.getloadavg())}


def build_gradescope_root(assignment, workdir, submission):
    """ROOT/source = the built autograder.zip unzipped; ROOT/submission = a copy of the submission."""
    out = os.path.join(workdir, "build")
    measure([PY, "-m", "autograder", "build", assignment, "--out", out])
    root = os.path.join(workdir, "gradescope-" + assignment)
    with zipfile.ZipFile(os.path.join(out, "autograder.zip")) as z:
        z.extractall(os.path.join(root, "source"))
        for info in z.infolist():  # zipfile drops the executable bits
            mode = info.external_attr >> 16
            if mode:
                os.chmod(os.path.join(root, "source", info.filename), mode)
    shutil.copytree(submission, os.path.join(root, "submission"))
    os.makedirs(os.path.join(root, "results"), exist_ok=True)
    return root


def check_results(path, what):
    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    possible = sum(t.get("max_score", 0) for t in results.get("tests", []))
    if not results.get("tests") or abs(results["score"] - possible) > 1e-9:
        raise RuntimeError(f"{what}: expected full marks on the correct submission, "
                           f"got {results.get('score')} / {possible}: {results.get('output', '')[:300]}")
    return results


def measure_grader(assignment, submission, workdir):
    """Peak RSS of the grader (its own) and of the worker (the grader's reaped children), and of the tree."""
    rss_file = os.path.join(workdir, "rss.json")
    out = os.path.join(workdir, f"mem-{assignment}.json")
    r = measure([PY, "-c", GRADER_WITH_RSS, "grade", assignment, submission, "--json", out],
                env=env_with(BENCH_RSS=rss_file), sample=True)
    check_results(out, f"grade {assignment} (memory run)")
    with open(rss_file) as f:
        rss = json.load(f)
    return {"grader_mb": rss["self_kb"] / MB, "worker_mb": rss["children_kb"] / MB or None,
            "tree_peak_mb": r["tree_peak_mb"], "max_rss_any_mb": r["max_rss_mb"]}


# ---- the class for batch grading ----------------------------------------------------

def load_conftest():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_conftest", os.path.join(ROOT, "tests", "conftest.py"))
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    return conftest


def resolve_submissions(names, assignment, folder):
    """Paths as given; `mistake:NAME` is the corpus mistake NAME written out into folder."""
    paths = []
    for name in names:
        if name.startswith("mistake:"):
            paths.append(load_conftest().write_mistake(assignment, name[len("mistake:"):], folder))
        else:
            paths.append(os.path.abspath(name))
    return paths


def write_class(folder, n):
    """n submissions: the correct solutions and the mistake corpus (tests/conftest.py's write_mistake), cycled."""
    conftest = load_conftest()
    base = os.path.join(SUBMISSIONS, "backprop")
    correct = sorted(d for d in os.listdir(base) if d.startswith("correct")
                     and os.path.isfile(os.path.join(base, d, "backprop.py")))
    mistakes = list(conftest.corpus("backprop")["mistakes"])
    kinds = [("correct", c) for c in correct] + [("mistake", m) for m in mistakes]
    scratch = os.path.join(folder, ".mistakes")
    paths = []
    for i in range(n):
        kind, name = kinds[i % len(kinds)]
        target = os.path.join(folder, f"s{i + 1:03d}-{name}")
        if kind == "correct":
            os.makedirs(target)
            shutil.copy(os.path.join(base, name, "backprop.py"), target)
        else:
            shutil.move(conftest.write_mistake("backprop", name, scratch), target)
        paths.append(target)
    shutil.rmtree(scratch, ignore_errors=True)
    return paths, {"correct": sum(1 for i in range(n) if kinds[i % len(kinds)][0] == "correct"),
                   "mistakes": sum(1 for i in range(n) if kinds[i % len(kinds)][0] == "mistake"),
                   "kinds_available": len(kinds)}


SPIN = "s = 0\nfor i in range(12_000_000):\n    s += i"  # pure Python, about 0.5-1 s of one core


def parallel_capacity(jobs, repeats):
    """How many times more CPU-bound work `jobs` independent processes get done than one: the machine's
    own ceiling for batch's speedup (2 cores that share a physical core, or a busy neighbour, give less)."""
    alone, together = [], []
    for _ in range(repeats):
        alone.append(measure([PY, "-c", SPIN])["wall"])
        t0 = time.perf_counter()
        procs = [subprocess.Popen([PY, "-c", SPIN]) for _ in range(jobs)]
        for p in procs:
            p.wait()
        together.append(time.perf_counter() - t0)
    return {"one_seconds": stat(alone), "together_seconds": stat(together),
            "capacity": jobs * statistics.median(alone) / statistics.median(together)}


def run_batch(args, workdir, notes):
    if not os.path.isfile(os.path.join(ROOT, "autograder", "batch.py")):
        note = "batch: skipped, autograder/batch.py does not exist yet"
        print(note)
        notes.append(note)
        return {"skipped": note}
    jobs = args.jobs or os.cpu_count() or 1
    folder = os.path.join(workdir, "class")
    os.makedirs(folder)
    paths, mix = write_class(folder, args.batch_size)
    print(f"batch: a class of {len(paths)} submissions ({mix['correct']} correct, {mix['mistakes']} with a "
          f"mistake), --jobs {jobs}, {args.batch_repeats} repeat(s)")
    one_by_one, batch, per_submission, overhead = [], [], [], []
    capacity = parallel_capacity(jobs, 3)
    print(f"  the machine's own ceiling: {jobs} CPU-bound processes together do {capacity['capacity']:.2f} x "
          f"the work of one")
    for rep in range(args.batch_repeats):
        order = ("one", "batch") if rep % 2 == 0 else ("batch", "one")
        for what in order:
            out = os.path.join(workdir, f"batch-out-{rep}-{what}")
            os.makedirs(out)
            if what == "one":
                t0 = time.perf_counter()
                for p in paths:
                    r = measure([PY, "-m", "autograder", "grade", "backprop", p,
                                 "--json", os.path.join(out, os.path.basename(p) + ".json")])
                    if rep == 0:
                        per_submission.append(r["wall"])
                one_by_one.append(time.perf_counter() - t0)
            else:
                command = [PY, "-m", "autograder", "batch", "backprop", folder, "--out", out, "--jobs", str(jobs)]
                batch.append(measure(command)["wall"])
                # again on the same folder: every submission is already graded, so this is batch's own
                # work around the graders (discovery, fingerprints, scores.csv, the reports and charts)
                overhead.append(measure(command)["wall"])
            print(f"  {what:>5}: {(one_by_one if what == 'one' else batch)[-1]:.2f} s")
    mismatched = []
    for p in paths:  # the batch must grade every submission as `grade` does
        name = os.path.basename(p)
        with open(os.path.join(workdir, "batch-out-0-one", name + ".json"), encoding="utf-8") as f:
            alone = json.load(f)["score"]
        try:
            with open(os.path.join(workdir, "batch-out-0-batch", name, "results.json"), encoding="utf-8") as f:
                together = json.load(f)["score"]
        except (OSError, ValueError, KeyError):
            together = None
        if together != alone:
            mismatched.append(f"{name}: grade {alone}, batch {together}")
    if mismatched:
        note = "batch: scores differ from one-by-one grading: " + "; ".join(mismatched)
        print("WARNING:", note)
        notes.append(note)
    ob, bt = stat(one_by_one), stat(batch)
    return {"submissions": len(paths), **mix, "jobs": jobs, "one_by_one_seconds": ob, "batch_seconds": bt,
            "per_submission_seconds": stat(per_submission),
            "one_by_one_per_minute": 60 * len(paths) / ob["median"],
            "batch_per_minute": 60 * len(paths) / bt["median"],
            "speedup": ob["median"] / bt["median"], "batch_own_seconds": stat(overhead),
            "machine_parallel_capacity": capacity,
            "speedup_over_capacity": ob["median"] / bt["median"] / capacity["capacity"]}


# ---- the benchmark ------------------------------------------------------------------

def benchmark(args):
    notes = []
    info = machine()
    if info["load_average_at_start"][0] > 0.5 * info["cores"]:
        notes.append(f"the machine was not idle at the start (1-minute load {info['load_average_at_start'][0]:.2f} "
                     f"on {info['cores']} cores): wall times are noisy, CPU times less so")
    found = available_assignments()
    if "backprop" not in found:
        raise SystemExit("assignments/backprop is missing: nothing to benchmark")
    for name in ASSIGNMENTS:
        if name not in found:
            note = f"{name}: skipped, assignments/{name}/assignment.yaml or tests/submissions/{name}/correct is missing"
            print(note)
            notes.append(note)
    bp = found["backprop"]["config"]
    tests = found["backprop"]["tests"]
    per_test = bp.examples * bp.instances
    peer_names = peer_test_names()
    if sorted(peer_names) != sorted(tests):
        note = (f"the peer's tests differ from the graded tests: missing {sorted(set(tests) - set(peer_names))}, "
                f"extra {sorted(set(peer_names) - set(tests))}")
        print("WARNING:", note)
        notes.append(note)
    examples = {name: len(f["tests"]) * f["config"].examples * f["config"].instances for name, f in found.items()}
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB, Python {info['python']}, "
          f"numpy {info['versions']['numpy']}, hypothesis {info['versions']['hypothesis']}")
    print(f"backprop: {len(tests)} tests x {per_test} examples ({bp.examples} regimes x {bp.instances} "
          f"instances) = {examples['backprop']} examples; {args.runs} runs each, interleaved\n")

    workdir = tempfile.mkdtemp(prefix="autograder-bench-")
    try:
        roots = {name: build_gradescope_root(name, workdir, f["correct"]) for name, f in found.items()}
        correct_file = os.path.join(found["backprop"]["correct"], "backprop.py")
        commands = {"floor": ([PY, "-c", "import numpy"], {}),
                    "python": ([PY, "-c", "pass"], {}),
                    "peer": ([PY, PEER, correct_file, "--examples", str(per_test),
                              "--out", os.path.join(workdir, "peer.json")], {})}
        for name, f in found.items():
            commands[f"grade_{name}"] = ([PY, "-m", "autograder", "grade", name, f["correct"],
                                          "--json", os.path.join(workdir, f"grade-{name}.json")], {})
            commands[f"gradescope_{name}"] = (
                ["bash", os.path.join(roots[name], "source", "run_autograder")],
                {"env": env_with(AUTOGRADER_ROOT=roots[name], AUTOGRADER_PYTHON=PY), "cwd": roots[name]})
        walls = {k: [] for k in commands}
        cpus = {k: [] for k in commands}
        peer_check, peer_check_cpu, peer_import, in_grader = [], [], [], {name: [] for name in found}
        possible = {}
        for run in range(args.runs + 1):  # run 0 warms the file cache and is not counted
            for key, (cmd, kw) in commands.items():
                if key.startswith("gradescope_"):
                    results = os.path.join(kw["cwd"], "results", "results.json")
                    if os.path.exists(results):
                        os.remove(results)
                r = measure(cmd, **kw)
                if key == "peer":
                    possible["peer"] = check_results(os.path.join(workdir, "peer.json"), "peer")["score"]
                elif key.startswith("grade_"):
                    got = check_results(os.path.join(workdir, f"grade-{key[6:]}.json"), key)
                    possible[key] = got["score"]
                    if run:
                        in_grader[key[6:]].append(got["execution_time"])
                elif key.startswith("gradescope_"):
                    check_results(results, key)
                if run == 0:
                    continue
                walls[key].append(r["wall"])
                cpus[key].append(r["cpu"])
                if key == "peer":
                    inner = json.loads(r["stdout"].strip().splitlines()[-1])
                    peer_check.append(inner["check_seconds"])
                    peer_check_cpu.append(inner["check_cpu_seconds"])
                    peer_import.append(inner["import_seconds"])
            if run:
                print(f"  run {run}/{args.runs}: " + ", ".join(f"{k} {walls[k][-1]:.2f}" for k in commands))
        if possible["peer"] != possible["grade_backprop"]:
            note = (f"the peer's points ({possible['peer']:g}) differ from the project's "
                    f"({possible['grade_backprop']:g}): benchmarks/peer/ needs the assignment's current weights")
            print("WARNING:", note)
            notes.append(note)
        times = {k: stat(v) for k, v in walls.items()}
        times["peer_check"] = stat(peer_check)
        times["peer_import"] = stat(peer_import)
        for name, values in in_grader.items():
            times[f"grade_{name}_in_grader"] = stat(values)
        cpu = {k: stat(v) for k, v in cpus.items()}
        cpu["peer_check"] = stat(peer_check_cpu)

        print("\nmemory: peak RSS")
        memory = {}
        mem_runs = {name: [measure_grader(name, f["correct"], workdir) for _ in range(args.memory_runs)]
                    for name, f in found.items()}
        for name, runs in mem_runs.items():
            for field in ("grader_mb", "worker_mb", "tree_peak_mb"):
                values = [r[field] for r in runs if r[field] is not None]
                if values:
                    memory[f"{name}_{field}"] = stat(values)
            if all(r["worker_mb"] for r in runs):
                memory[f"{name}_grader_plus_worker_mb"] = stat([r["grader_mb"] + r["worker_mb"] for r in runs])
            else:
                notes.append(f"{name}: the worker's peak RSS was not seen (the grader did not reap it)")
            gs = [measure(*commands[f"gradescope_{name}"][:1], **commands[f"gradescope_{name}"][1], sample=True)
                  for _ in range(args.memory_runs)]
            memory[f"gradescope_{name}_tree_peak_mb"] = stat([r["tree_peak_mb"] for r in gs])
            memory[f"gradescope_{name}_max_rss_any_mb"] = stat([r["max_rss_mb"] for r in gs])
        for key in ("floor", "peer"):
            runs = [measure(commands[key][0]) for _ in range(args.memory_runs)]
            memory[f"{key}_mb"] = stat([r["max_rss_mb"] for r in runs])
        for k, v in memory.items():
            print(f"  {k:<36} {v['median']:7.1f} MB  (min {v['min']:.1f}, max {v['max']:.1f})")

        print()
        batch = run_batch(args, workdir, notes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    m = {k: v["median"] for k, v in times.items()}
    c = {k: v["median"] for k, v in cpu.items()}
    ratios = {"grade_over_peer": m["grade_backprop"] / m["peer"],
              "grade_over_floor": m["grade_backprop"] / m["floor"],
              "grade_over_floor_plus_peer_check": m["grade_backprop"] / (m["floor"] + m["peer_check"]),
              "gradescope_over_peer": m["gradescope_backprop"] / m["peer"],
              "gradescope_over_grade": m["gradescope_backprop"] / m["grade_backprop"],
              "peer_over_floor": m["peer"] / m["floor"],
              "cpu_grade_over_peer": c["grade_backprop"] / c["peer"],
              "cpu_grade_over_floor_plus_peer_check": c["grade_backprop"] / (c["floor"] + c["peer_check"]),
              "cpu_gradescope_over_peer": c["gradescope_backprop"] / c["peer"]}
    if "nn_modules" in found:
        ratios["grade_nn_modules_over_floor"] = m["grade_nn_modules"] / m["floor"]
    per_example_ms = {"peer": 1000 * m["peer"] / examples["backprop"],
                      "peer_check": 1000 * m["peer_check"] / examples["backprop"]}
    for name in found:
        per_example_ms[f"grade_{name}"] = 1000 * m[f"grade_{name}"] / examples[name]
        per_example_ms[f"grade_{name}_above_floor"] = 1000 * (m[f"grade_{name}"] - m["floor"]) / examples[name]
    targets = [
        {"name": "grade one correct backprop submission <= 1.5 x the peer's time",
         "target": 1.5, "reached": ratios["grade_over_peer"], "met": ratios["grade_over_peer"] <= 1.5,
         "reached_cpu": ratios["cpu_grade_over_peer"]},
        {"name": "grade one correct backprop submission <= 3 x (floor + peer's checking time)",
         "target": 3.0, "reached": ratios["grade_over_floor_plus_peer_check"],
         "met": ratios["grade_over_floor_plus_peer_check"] <= 3.0,
         "reached_cpu": ratios["cpu_grade_over_floor_plus_peer_check"]},
    ]
    if "backprop_grader_plus_worker_mb" in memory:
        peak = memory["backprop_grader_plus_worker_mb"]["median"]
        targets.append({"name": "peak memory, grader + worker < 400 MB", "target": 400.0, "reached": peak,
                        "met": peak < 400})
    if "speedup" in batch:
        targets.append({"name": f"batch on {batch['jobs']} jobs >= 1.8 x one-by-one throughput", "target": 1.8,
                        "reached": batch["speedup"], "met": batch["speedup"] >= 1.8})
    info["load_average_at_end"] = list(os.getloadavg())
    results = {"machine": info,
               "config": {"quick": args.quick, "runs": args.runs, "memory_runs": args.memory_runs,
                          "assignments": {name: {"tests": len(f["tests"]), "regimes_per_test": f["config"].examples,
                                                 "instances_per_regime": f["config"].instances,
                                                 "examples": examples[name]} for name, f in found.items()}},
               "seconds": times, "cpu_seconds": cpu, "memory_mb": memory, "batch": batch,
               "ratios": ratios, "per_example_ms": per_example_ms, "targets": targets, "notes": notes}
    report(results)
    return results


def report(r):
    print("\ntime (wall, seconds; median [min, max] of", r["config"]["runs"], "runs; CPU median)")
    for key, v in r["seconds"].items():
        c = r["cpu_seconds"].get(key)
        cpu = f"  cpu {c['median']:.3f}" if c else ""
        print(f"  {key:<30} {v['median']:7.3f}  [{v['min']:.3f}, {v['max']:.3f}]{cpu}")
    print("\nratios")
    for key, v in r["ratios"].items():
        print(f"  {key:<36} {v:6.2f}")
    print("\nper example (ms)")
    for key, v in r["per_example_ms"].items():
        print(f"  {key:<36} {v:7.3f}")
    b = r["batch"]
    if "speedup" in b:
        print(f"\nbatch: {b['submissions']} submissions, one by one {b['one_by_one_seconds']['median']:.1f} s, "
              f"--jobs {b['jobs']} {b['batch_seconds']['median']:.1f} s: {b['speedup']:.2f} x "
              f"({b['batch_per_minute']:.0f} vs {b['one_by_one_per_minute']:.0f} submissions per minute); "
              f"batch's own work {b['batch_own_seconds']['median']:.1f} s; the machine's ceiling "
              f"{b['machine_parallel_capacity']['capacity']:.2f} x")
    print("\ntargets")
    for t in r["targets"]:
        cpu = f"; in CPU time {t['reached_cpu']:.2f}" if "reached_cpu" in t else ""
        print(f"  {'MET ' if t['met'] else 'NOT '} {t['name']}: reached {t['reached']:.2f} (target {t['target']:g}){cpu}")
    for note in r["notes"]:
        print("note:", note)


# ---- the profile -----------------------------------------------------------------------

class Spans:
    """Named time accumulators."""

    def __init__(self):
        self.total, self.count = {}, {}

    def add(self, name, seconds, n=1):
        self.total[name] = self.total.get(name, 0.0) + seconds
        self.count[name] = self.count.get(name, 0) + n

    def timed(self, name, fn):
        def wrapper(*a, **k):
            __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.add(name, time.perf_counter() - t0)
        wrapper.__wrapped__ = fn
        return wrapper


def instrumented_worker(original, folder):
    """A copy of worker.py that stamps each reply with when it started and finished computing."""
    with open(original, encoding="utf-8") as f:
        src = f.read()
    start = "    for request in frames(request_fd):\n"
    reply = 'send({"id": request["id"], "results": results})'
    if src.count(start) != 1 or src.count(reply) != 1:
        return None
    src = src.replace(start, start + "        _bench_t0 = __import__('time').monotonic()\n")
    src = src.replace(reply, 'send({"id": request["id"], "results": results, '
                             '"_bench": [_bench_t0, __import__("time").monotonic()]})')
    path = os.path.join(folder, "worker.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(src)
    return path


def profile_child(assignment, submission, cprofile_out=None, variant="base", instrument=True):
    """One grading in this fresh process; prints JSON: the stages' times (instrument) and the score.

    variant: '+'-joined what-if changes to the engine, applied here by patching (see WHAT_IF).
    """
    spans = Spans()
    t0 = time.perf_counter()
    import numpy  # noqa: F401
    spans.add("import numpy", time.perf_counter() - t0)
    t0 = time.perf_counter()
    import hypothesis  # noqa: F401
    import pytest
    spans.add("import pytest, hypothesis", time.perf_counter() - t0)
    t0 = time.perf_counter()
    import hypothesis.internal.conjecture.engine as engine
    from autograder import core, feedback, plugin, sandbox, strategies, testing  # noqa: F401
    spans.add("import the engine (and the rest of its imports)", time.perf_counter() - t0)

    scratch = tempfile.mkdtemp(prefix="autograder-profile-")
    pytest_args, plugins = apply_variant(variant, testing), []
    worker_copy, shrink_name, missing = None, None, []
    if instrument:
        worker_copy, shrink_name, timing_plugin, missing = instrument_engine(spans, scratch, sandbox, testing,
                                                                             feedback, engine, pytest)
        plugins.append(timing_plugin)
    original_main = pytest.main

    def main(args, plugins=()):
        t0 = time.perf_counter()
        try:
            return original_main(pytest_args + list(args), plugins=list(plugins) + extra_plugins)
        finally:
            spans.add("pytest.main (total)", time.perf_counter() - t0)
    extra_plugins = plugins
    pytest.main = main

    out = os.path.join(scratch, "results.json")
    profiler = None
    if cprofile_out:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    results = core.grade(assignment, submission, out=out)
    spans.add("grade (total)", time.perf_counter() - t0)
    if profiler:
        profiler.disable()
        profiler.dump_stats(cprofile_out)
    shutil.rmtree(scratch, ignore_errors=True)
    spans.add("process (from run.py's first line)", time.perf_counter() - STARTED)
    print(json.dumps({"spans": spans.total, "counts": spans.count, "score": results.get("score"),
                      "failed": [t["extra_data"].get("test") for t in results.get("tests", [])
                                 if t["status"] == "failed"],
                      "worker_split": bool(worker_copy), "shrink_hook": shrink_name, "not_profiled": missing}))


WHAT_IF = {  # engine changes tried without editing the engine: applied by patching, in profile_child
    "base": "the engine as it is",
    "tb-native": "core.run_tests passes --tb=native to pytest.main (Hypothesis formats every failing "
                 "example's traceback through pytest's repr_failure, which parses source files with ast)",
    "no-unraisable": "core.run_tests passes -p no:unraisableexception -p no:threadexception "
                     "(pytest's forced gc.collect() passes at the end of the session)",
    "no-autoload": "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 and -p _hypothesis_pytestplugin (no scan of every "
                   "installed package's entry points for pytest plugins)",
    "eager-worker": "the worker is started when the Session is made and its ready message is read at the "
                    "first call, so Python, numpy and the student's import overlap pytest's collection",
    "RxI": "assignment.yaml examples: R regimes x I instances instead of 10 x 10 (a copy of the assignment)",
}


def apply_variant(variant, testing):
    """Applies a what-if variant's engine changes in this process; returns extra pytest arguments."""
    args = []
    for change in variant.split("+"):
        if change == "tb-native":
            args.append("--tb=native")
        elif change == "no-unraisable":
            args += ["-p", "no:unraisableexception", "-p", "no:threadexception"]
        elif change == "no-autoload":
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            args += ["-p", "_hypothesis_pytestplugin"]
        elif change == "eager-worker":
            init, run = testing.Session.__init__, testing.Session.run

            def eager_init(self, config, worker):
                init(self, config, worker)
                self._bench_start = threading.Thread(target=self.ensure_started) if worker else None
                if self._bench_start:
                    self._bench_start.start()

            def eager_run(self, programs):
                __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
                if getattr(self, "_bench_start", None):
                    self._bench_start.join()
                    self._bench_start = None
                return run(self, programs)
            testing.Session.__init__, testing.Session.run = eager_init, eager_run
        elif change != "base":
            raise SystemExit(f"unknown what-if change {change!r}; known: {', '.join(WHAT_IF)}")
    return args


def instrument_engine(spans, scratch, sandbox, testing, feedback, engine, pytest):
    """Wraps the engine's stages in timers.

    Returns (instrumented worker copy or None, shrink hook name or None, pytest plugin, what could
    not be wrapped): a stage the engine no longer has is left out of the profile, not an error.
    """
    missing = []

    def patch(owner, name, make):
        if hasattr(owner, name):
            setattr(owner, name, make(getattr(owner, name)))
        else:
            missing.append(f"{getattr(owner, '__name__', owner)}.{name}")

    worker_copy = instrumented_worker(sandbox.WORKER, scratch)
    if worker_copy:
        sandbox.WORKER = worker_copy
    state = {"in_shrink": False, "replies": []}

    def phase(label):
        return label + (" [during shrinking]" if state["in_shrink"] else "")

    def timed(label, fn):
        def wrapper(*a, **k):
            __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spans.add(phase(label), time.perf_counter() - t0)
        return wrapper

    # the worker: prepare, start, round trips (split into the worker's computing and the rest), close
    W = sandbox.Worker
    patch(W, "__init__", lambda fn: timed("worker: prepare (copy the submission)", fn))
    patch(W, "start", lambda fn: timed("worker: start (python, numpy, the student's file)", fn))
    patch(W, "close", lambda fn: timed("worker: close (kill, clean up)", fn))

    def make_receive(receive):
        def _receive(self, *a, **k):
            __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
            reply = receive(self, *a, **k)
            state["replies"].append((time.monotonic(), reply))
            return reply
        return _receive
    patch(W, "_receive", make_receive)

    def make_run(run):
        def worker_run(self, *a, **k):
            __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
            t0, m0 = time.perf_counter(), time.monotonic()
            try:
                return run(self, *a, **k)
            finally:
                spans.add("round trip (total)", time.perf_counter() - t0)
                when, reply = state["replies"][-1] if state["replies"] else (0, {})
                if isinstance(reply, dict) and "_bench" in reply:
                    began, ended = reply["_bench"]
                    spans.add("round trip: worker computing (student code, decode, encode answers)", ended - began)
                    spans.add("round trip: grader -> worker (encode request, pipe, decode)", began - m0)
                    spans.add("round trip: worker -> grader (json reply, pipe, decode)", when - ended)
        return worker_run
    patch(W, "run", make_run)

    # inside check: inputs, calls, reference, worker, readback, compare
    def make_check(original_check):
        def check(case, build, calls, expected, *rest, **kw):
            __tracebackhide__ = True  # pytest leaves this frame out of tracebacks it renders
            if isinstance(calls, str) and hasattr(testing, "function"):
                calls = testing.function(calls)
            if callable(calls):
                calls = timed("check: build calls (encode inputs)", calls)
            t0 = time.perf_counter()
            try:
                return original_check(case, timed("check: draw inputs (numpy)", build), calls,
                                      timed("check: reference", expected), *rest, **kw)
            finally:
                spans.add(phase("check (total)"), time.perf_counter() - t0)
        return check
    patch(testing, "check", make_check)
    # judging moves between modules as the engine grows: time it wherever it is looked up
    import importlib
    found = set()
    for module_name in ("autograder.testing", "autograder.calls"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name, label in (("judge", "check: judge answers (includes read back, compare)"),
                            ("readback", "check: read answers back"), ("compare", "check: compare")):
            if callable(getattr(module, name, None)):
                patch(module, name, lambda fn, label=label: timed(label, fn))
                found.add(name)
    missing += [f"readback/compare ({', '.join(sorted({'readback', 'compare'} - found))})"] if not (
        {"readback", "compare"} <= found) else []
    patch(testing.Session, "run", lambda fn: timed("check: worker round trip (Session.run)", fn))
    patch(feedback, "explain", lambda fn: timed("feedback (explain a failure, diagnose the misconception)", fn))

    shrink_name = next((n for n in ("shrink_interesting_examples", "shrink_interesting_test_cases")
                        if hasattr(engine.ConjectureRunner, n)), None)
    if shrink_name:
        shrink = getattr(engine.ConjectureRunner, shrink_name)

        def timed_shrink(self, *a, **k):
            state["in_shrink"] = True
            t0 = time.perf_counter()
            try:
                return shrink(self, *a, **k)
            finally:
                spans.add("hypothesis: shrinking (total, with its checks)", time.perf_counter() - t0)
                state["in_shrink"] = False
        setattr(engine.ConjectureRunner, shrink_name, timed_shrink)
    else:
        missing.append("hypothesis ConjectureRunner.shrink_interesting_*")

    class PytestTimes:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_collection(self, session):
            t0 = time.perf_counter()
            yield
            spans.add("pytest: collection (imports the graded tests and the reference)", time.perf_counter() - t0)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            t0 = time.perf_counter()
            yield
            spans.add("pytest: test calls (total)", time.perf_counter() - t0)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            t0 = time.perf_counter()
            yield
            spans.add("pytest: reports (the plugin's results, feedback)", time.perf_counter() - t0)

    return worker_copy, shrink_name, PytestTimes(), missing


def cprofile_summary(path, top=25):
    """cProfile's own time per function, and grouped by where the code lives."""
    import pstats
    stats = pstats.Stats(path)
    groups = {}
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        if "select.select" in func or "select.poll" in func:
            group = "waiting for the worker (select)"
        elif "/hypothesis/" in file:
            group = "hypothesis"
        elif "/_pytest/" in file or "/pluggy/" in file or "/pytest/" in file:
            group = "pytest, pluggy"
        elif "/numpy/" in file or func.startswith("<built-in method numpy") or "numpy" in func:
            group = "numpy"
        elif "/autograder/" in file:
            group = "autograder (engine)"
        elif "/reference/" in file:
            group = "reference"
        elif "/assignments/" in file:
            group = "graded tests"
        elif "json" in file or "json" in func:
            group = "json"
        elif "importlib" in file or "<frozen" in file or func in ("<built-in method marshal.loads>",
                                                                    "<built-in method builtins.exec>"):
            group = "imports"
        elif "posix" in func or "subprocess" in file or "_posixsubprocess" in func or "fork_exec" in func:
            group = "processes (fork, exec, wait, kill)"
        else:
            group = "other (stdlib, builtins)"
        groups[group] = groups.get(group, 0.0) + tt
        rows.append((tt, ct, nc, f"{os.path.relpath(file, ROOT) if file.startswith(ROOT) else file.split('site-packages/')[-1]}:{line}({func})"))
    total = sum(groups.values())
    lines = [f"cProfile: {total:.3f} s of own time in the grader (profiling overhead included)",
             "", "| where the code lives | own time (s) | share |", "|---|---:|---:|"]
    for g, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {g} | {t:.3f} | {100 * t / total:.0f} % |")
    lines += ["", f"top {top} functions by own time:", "", "| own (s) | cumulative (s) | calls | function |",
              "|---:|---:|---:|---|"]
    for tt, ct, nc, name in sorted(rows, reverse=True)[:top]:
        lines.append(f"| {tt:.3f} | {ct:.3f} | {nc} | `{name}` |")
    return "\n".join(lines)


def profile(args):
    scratch = tempfile.mkdtemp(prefix="autograder-profile-")
    submissions = resolve_submissions(args.profile_submissions, args.assignment, scratch) or [
        os.path.join(SUBMISSIONS, args.assignment, "correct")]
    try:
        bare = statistics.median(measure([PY, "-c", "pass"])["wall"] for _ in range(5))
        floor = statistics.median(measure([PY, "-c", "import numpy"])["wall"] for _ in range(5))
        print(f"python -c pass: {bare:.3f} s; python -c 'import numpy': {floor:.3f} s (medians of 5)\n")
        for submission in submissions:
            runs = []
            for _ in range(args.runs):
                r = measure([PY, os.path.abspath(__file__), "--profile-child", args.assignment, submission])
                child = json.loads(r["stdout"].strip().splitlines()[-1])
                child["wall"] = r["wall"]
                runs.append(child)
            runs.sort(key=lambda c: c["wall"])
            child = runs[len(runs) // 2]  # the median run
            spans, counts = child["spans"], child["counts"]
            print(f"== {os.path.relpath(submission, ROOT) if submission.startswith(ROOT) else submission}: "
                  f"score {child['score']}, failed {child['failed'] or 'none'}; median of {len(runs)} runs "
                  "(walls " + ", ".join(f"{c['wall']:.2f}" for c in runs) + ")")
            print(f"worker split available: {child['worker_split']}; shrink hook: {child['shrink_hook']}; "
                  f"not profiled (missing in the engine): {child.get('not_profiled') or 'nothing'}\n")
            print("| stage | seconds | calls | share of the process |\n|---|---:|---:|---:|")
            whole = child["wall"]
            print(f"| the whole process (wall, measured from outside) | {whole:.3f} | 1 | 100 % |")
            rows = [("interpreter start (before run.py's first line)", whole - spans["process (from run.py's first line)"], 1)]
            rows += [(k, v, counts[k]) for k, v in spans.items()]
            derived = {}
            shrink = spans.get("hypothesis: shrinking (total, with its checks)", 0.0)
            calls = spans.get("pytest: test calls (total)", 0.0)
            checks = spans.get("check (total)", 0.0)
            derived["hypothesis: generation and engine (test calls - checks - shrinking)"] = calls - checks - shrink
            derived["pytest: everything but collection and test calls"] = (
                spans.get("pytest.main (total)", 0) - calls - spans.get(
                    "pytest: collection (imports the graded tests and the reference)", 0))
            derived["grade: outside pytest (config, reference, catalogue, worker prepare/close, results)"] = (
                spans.get("grade (total)", 0) - spans.get("pytest.main (total)", 0))
            rows += [(k, v, "") for k, v in derived.items()]
            for name, seconds, n in rows:
                print(f"| {name} | {seconds:.3f} | {n} | {100 * seconds / whole:.0f} % |")
            trips = counts.get("round trip (total)", 0)
            if trips:
                print(f"\nround trips: {trips}, mean {1000 * spans['round trip (total)'] / trips:.2f} ms each")
                for k in spans:
                    if k.startswith("round trip: "):
                        print(f"  {k[12:]}: mean {1000 * spans[k] / trips:.2f} ms")
            prof = os.path.join(scratch, "grade.prof")
            measure([PY, os.path.abspath(__file__), "--profile-child", args.assignment, submission, "--cprofile", prof])
            print()
            print(cprofile_summary(prof))
            print()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


DEFAULT_WHAT_IF = ("base,tb-native,no-unraisable,no-autoload,eager-worker,"
                   "tb-native+no-unraisable+no-autoload+eager-worker,5x20,2x50,1x100,"
                   "5x20+tb-native+no-unraisable+no-autoload+eager-worker")


def assignment_copy(name, regimes, instances, folder):
    """A copy of assignments/NAME whose assignment.yaml sets examples to regimes x instances."""
    import yaml
    target = os.path.join(folder, f"{name}-{regimes}x{instances}")
    if not os.path.isdir(target):
        shutil.copytree(os.path.join(ROOT, "assignments", name), target,
                        ignore=shutil.ignore_patterns("__pycache__"))
        path = os.path.join(target, "assignment.yaml")
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
        data["examples"] = {"hypothesis": regimes, "instances": instances}
        data.setdefault("name", name)
        data.setdefault("reference", name)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)
    return target


def what_if(args):
    """Each variant (engine changes applied by patching, or another regimes x instances) timed on each submission."""
    variants = args.what_if.split(",")
    for v in variants:
        for change in v.split("+"):
            if change not in WHAT_IF and not (change.count("x") == 1 and change.replace("x", "").isdigit()):
                raise SystemExit(f"unknown what-if change {change!r}; known: {', '.join(WHAT_IF)}")
    scratch = tempfile.mkdtemp(prefix="autograder-whatif-")
    submissions = resolve_submissions(args.profile_submissions, args.assignment, scratch) or [
        os.path.join(SUBMISSIONS, args.assignment, "correct")]
    print("what-if: each variant's grading in a fresh process, without instrumentation; "
          f"median of {args.runs} runs, interleaved. CPU = grader + worker (user + sys).\n")
    for change in sorted({c for v in variants for c in v.split("+")} & set(WHAT_IF)):
        print(f"  {change}: {WHAT_IF[change]}")
    try:
        for submission in submissions:
            jobs = []
            for v in variants:
                config = [c for c in v.split("+") if c not in WHAT_IF]
                engine_changes = "+".join(c for c in v.split("+") if c in WHAT_IF) or "base"
                assignment = args.assignment
                if config:
                    r, i = (int(x) for x in config[-1].split("x"))
                    assignment = assignment_copy(args.assignment, r, i, scratch)
                jobs.append((v, [PY, os.path.abspath(__file__), "--profile-child", assignment, submission,
                                 "--variant", engine_changes, "--bare"]))
            walls, cpus, scores = {v: [] for v, _ in jobs}, {v: [] for v, _ in jobs}, {}
            for _ in range(args.runs):
                for v, cmd in jobs:
                    r = measure(cmd)
                    walls[v].append(r["wall"])
                    cpus[v].append(r["cpu"])
                    scores[v] = json.loads(r["stdout"].strip().splitlines()[-1])["score"]
            shown = os.path.relpath(submission, ROOT) if submission.startswith(ROOT) else submission
            print(f"\n{shown}\n")
            print("| variant | score | wall (s) | CPU (s) | CPU vs base |\n|---|---:|---:|---:|---:|")
            base = statistics.median(cpus[variants[0]])
            for v, _ in jobs:
                w, c = statistics.median(walls[v]), statistics.median(cpus[v])
                print(f"| {v} | {scores[v]:g} | {w:.3f} [{min(walls[v]):.3f}, {max(walls[v]):.3f}] | "
                      f"{c:.3f} [{min(cpus[v]):.3f}, {max(cpus[v]):.3f}] | {c - base:+.3f} |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and a small class: a smoke test (~1 min)")
    parser.add_argument("--out", default=os.path.join(HERE, "results.json"), help="where the JSON goes")
    parser.add_argument("--runs", type=int, help="timed runs of each command (default 7, quick 3)")
    parser.add_argument("--memory-runs", type=int, help="memory runs of each grading (default 3, quick 1)")
    parser.add_argument("--batch-size", type=int, help="submissions in the generated class (default 35, quick 8)")
    parser.add_argument("--batch-repeats", type=int, help="times the class is graded each way (default 2, quick 1)")
    parser.add_argument("--jobs", type=int, help="batch --jobs (default: the number of cores)")
    parser.add_argument("--profile", action="store_true", help="profile one grading instead (see benchmarks/profile.md)")
    parser.add_argument("--assignment", default="backprop", help="with --profile: the assignment")
    parser.add_argument("profile_submissions", nargs="*", metavar="SUBMISSION",
                        help="with --profile or --what-if: submissions, or mistake:NAME for a corpus mistake "
                             "(default: the assignment's correct submission)")
    parser.add_argument("--profile-child", nargs=2, metavar=("ASSIGNMENT", "SUBMISSION"), help=argparse.SUPPRESS)
    parser.add_argument("--what-if", nargs="?", const=DEFAULT_WHAT_IF, metavar="VARIANTS",
                        help="time engine changes (applied by patching) and other regimes x instances, "
                             "comma-separated, e.g. base,tb-native,5x20+eager-worker")
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="base", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_child:
        return profile_child(*args.profile_child, args.cprofile, args.variant, not args.bare)
    quick = args.quick
    args.runs = args.runs or (3 if quick else 7)
    args.memory_runs = args.memory_runs or (1 if quick else 3)
    args.batch_size = args.batch_size or (8 if quick else 35)
    args.batch_repeats = args.batch_repeats or (1 if quick else 2)
    if args.what_if:
        return what_if(args)
    if args.profile:
        return profile(args)
    results = benchmark(args)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"\nwrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
