"""The boundary between the grader and student code, readable in one screen.

What it guarantees (`confine.Protections` says, per grading, what was in force):
- Student code runs only in the worker (`sandbox/worker.py`), a separate process started
  from a fresh temporary folder holding a copy of the submission and of the worker's own
  modules, nothing else.
- The worker is started by the jail (`sandbox/jail.py`), which applies the limits, then on
  Linux enters new namespaces (no network, a file system of the interpreter, numpy and the
  sandbox folder only, its own pid namespace) and, as root, drops to an unprivileged uid
  (one per submission when several are graded at once) with no groups. What the kernel
  refuses is reported, never assumed; a memory limit it refuses is enforced from here by
  polling the worker's resident memory.
- The grader reads back only length-prefixed JSON of numbers and strings.
- A call that overruns is SIGKILLed with every process the submission started, even ones
  that left the process group (found as our orphans, as every process of the sandbox uid,
  or in the sandbox folder; in a pid namespace the kernel kills them all with its init).
- A worker that cannot start is the machine's problem, not the student's: MachineError
  names the cause and the fix.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .. import timing
from . import confine, processes
from .platform import MachineError  # noqa: F401 (raised here; core.py catches it)
from .frames import HEADER

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.dirname(HERE)
RUNTIME = ("sandbox/worker.py", "sandbox/runner.py", "sandbox/frames.py", "sandbox/jail.py",
           "judging/protocol.py")  # what the untrusted side runs, copied as the package `runtime`
JAIL = "import sys; sys.path.insert(0, '.'); from runtime.sandbox.jail import main; main()"
BOOT = "import sys; sys.path.insert(0, '.'); from runtime.sandbox.worker import main; main()"
MAX_FRAME = 64 * 2**20
COPY_LIMIT = 10 * 2**20  # a submission's files beyond this size are not copied
MEMORY_POLL_SECONDS = 0.02
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class WorkerError(Exception):
    """The worker could not answer: it timed out, died, or spoke nonsense."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


class Worker:
    """One per submission: started lazily, restarted after a crash or a kill."""

    def __init__(self, student_file, module_name, limits, forbidden_imports=(), exclusive=False):
        self.limits = limits
        self.user, self.user_problem = confine.sandbox_identity(exclusive)
        self.folder = tempfile.mkdtemp(prefix="autograder-sandbox-")
        os.chmod(self.folder, 0o755)
        os.mkdir(os.path.join(self.folder, "jail"))  # the new root's mount point
        here = os.path.join(self.folder, "submission")
        copy_submission(os.path.dirname(student_file), here)
        copy_runtime(os.path.join(self.folder, "runtime"))
        if self.user:
            for root, dirs, files in os.walk(here):
                for name in [root] + [os.path.join(root, f) for f in files]:
                    os.lchown(name, self.user.uid, self.user.gid)
        self.settings = {
            "student_file": os.path.join(here, os.path.basename(student_file)),
            "module_name": module_name, "forbidden_imports": list(forbidden_imports),
            "call_seconds": limits["call_seconds"], "import_seconds": limits["import_seconds"],
            "memory_mb": limits["memory_mb"], "output_bytes": int(limits["output_bytes"]),
            "paths": [os.path.dirname(confine.numpy_folders()[0])],
            "probe": confine.probe_settings(os.getpid())}
        self.mark = os.path.basename(self.folder)  # in the worker's environment: finds its daemons
        self.proc, self.requests, self.protections, self.poll_memory = None, 0, None, False
        self.jail = None        # what the jail reported at the last start
        self.wrappers = True    # bubblewrap or sandbox-exec, until one fails to start the worker here
        processes.become_subreaper()

    # -- life cycle -------------------------------------------------------------------

    def start(self):
        """Starts the worker; returns its import report {"import_error": ..., "stdout": ...}."""
        self.jail = None
        try:
            self._launch()
        except MachineError:
            wrapper = (self.jail or {}).get("isolation")
            if wrapper not in ("bubblewrap", "sandbox-exec"):
                raise
            self.wrappers = False  # a wrapper that cannot run Python here: without it, and say so
            self._launch()
            self.jail["refused"].append(f"{wrapper}: the worker did not start under it here")
            self.protections = self.measure(self.started)
        return self._receive(self.limits["import_seconds"])

    def _launch(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        argv = [confine.interpreter(), "-I", "-S", "-c", BOOT, str(req_r), str(resp_w), json.dumps(self.settings)]
        spec = confine.plan(self.folder, self.user, self.limits, argv, (req_r, resp_w), bwrap=self.wrappers)
        env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        env.update(HOME=self.folder, TMPDIR=self.folder, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", AUTOGRADER_SANDBOX=self.mark)
        try:
            # -I -S: no environment, no user site, no .pth files (an editable install of the
            # grader would otherwise be importable); the jail adds numpy's folder back.
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", JAIL, json.dumps(spec)], cwd=self.folder, env=env,
                pass_fds=(req_r, resp_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        except OSError as exc:
            raise MachineError(f"the grader could not start {sys.executable}: {exc.strerror}") from None
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.to_worker, self.from_worker = os.fdopen(req_w, "wb", buffering=0), resp_r
        try:  # before the student's file is imported, a failure is the machine's, not the student's
            self.jail = self._receive(self.limits["start_seconds"])["jail"]
            self.poll_memory = self.jail["limits"].get("RLIMIT_AS") is not None
            self.started = self._receive(self.limits["start_seconds"])
        except (WorkerError, KeyError, TypeError) as exc:
            self._kill()
            raise MachineError(f"the worker process could not start ({getattr(exc, 'message', exc)})") from None
        if "fatal" in self.started:
            self._kill()
            raise MachineError(self.fatal(self.started))
        self.protections = self.measure(self.started)

    def measure(self, started):
        return confine.Protections.measured(self.jail, started.get("probe", {}), self.limits, self.user,
                                            self.user_problem, self.poll_memory)

    def fatal(self, why):
        if why.get("fatal") == "cannot enter":
            return (f"as root, student code runs as uid {self.user.uid}, which cannot enter {why['folder']} "
                    f"(mode {why['mode']}), on the way to the interpreter ({confine.interpreter()}), numpy or "
                    f"the sandbox folder; this machine also refused the namespaces that would hide that. Use "
                    f"a Python outside that folder (Gradescope's /usr/bin/python3), or let others enter it "
                    f"(chmod o+x {why['folder']}).")
        return f"the worker could not run {why.get('program')}: {why.get('error')}"

    def close(self):
        """Kills the worker and everything it started; removes the sandbox folder."""
        contained = str((self.jail or {}).get("isolation")).startswith(("namespaces", "bubblewrap"))  # died with init
        self._kill()
        if not contained:  # without a pid namespace (macOS), a daemonised orphan escapes the tree: it still
            # carries the worker's environment, or works in the sandbox folder
            processes.kill_until_gone(lambda: processes.working_in(self.folder)
                                      | processes.marked("AUTOGRADER_SANDBOX", self.mark))
        shutil.rmtree(self.folder, ignore_errors=True)

    def _kill(self):
        if self.proc is None:
            return
        jail, user = self.proc.pid, self.user
        processes.kill_until_gone(lambda: processes.tree(jail) | processes.my_children()
                                  | (processes.owned_by(user.uid) if user else set()))
        self.proc.wait()
        self.to_worker.close()
        os.close(self.from_worker)
        self.proc = None

    # -- calls ------------------------------------------------------------------------

    def run(self, programs, steps, budget=None):
        """Runs programs (the JSON text of a list of lists of steps; `steps` of them in all) in the worker;
        returns one result dict per program. It waits for the worker no longer than `budget` seconds."""
        until = None if budget is None else time.monotonic() + budget
        return next(self.stream([(programs, steps)], until))

    def stream(self, parts, until=None):
        """Runs parts [(programs JSON text, steps)] in one request; yields each part's results as the worker
        sends them, so that the grader judges one part while the worker computes the next. It waits for
        a part no longer than its calls' limits, nor past `until` (time.monotonic()) by more than 1 s.
        A stream left before its end kills the worker: its later answers must not be read as another's."""
        if self.proc is None or self.proc.poll() is not None:
            raise WorkerError("dead", "the worker is not running")
        self.requests += 1
        body = f'{{"id": {self.requests}, "parts": [{",".join(text for text, _ in parts)}]}}'.encode()
        try:
            self.to_worker.write(HEADER.pack(len(body)) + body)
        except (BrokenPipeError, OSError):
            self._died()
        answered = 0
        try:
            for part, (_, steps) in enumerate(parts):
                deadline = self.limits["call_seconds"] * max(1, steps) + 1
                if until is not None:
                    deadline = min(deadline, max(until - time.monotonic(), 1))
                reply = self._receive(deadline)
                if (reply.get("id"), reply.get("part")) != (self.requests, part) \
                        or not isinstance(reply.get("results"), list):
                    self._kill()
                    raise WorkerError("protocol", "the grading process received an answer it did not ask for")
                if isinstance(reply.get("seconds"), float):
                    timing.add("worker: computing (the worker's own account)", reply["seconds"])
                answered += 1
                yield reply["results"]
        finally:
            if answered < len(parts):
                self._kill()

    def _receive(self, seconds):
        head = self._read(HEADER.size, time.monotonic() + seconds, seconds)
        (size,) = HEADER.unpack(head)
        if size > MAX_FRAME:
            self._kill()
            raise WorkerError("protocol", "the answer was far too large")
        body = self._read(size, time.monotonic() + seconds, seconds)
        try:
            return json.loads(body)
        except ValueError:
            self._kill()
            raise WorkerError("protocol", "the answer could not be read")

    def _read(self, n, deadline, seconds):
        data = b""
        while len(data) < n:
            left = deadline - time.monotonic()
            wait = min(left, MEMORY_POLL_SECONDS) if self.poll_memory else left
            ready, _, _ = select.select([self.from_worker], [], [], max(wait, 0))
            if not ready:
                if self.poll_memory and self._over_memory():
                    self._kill()
                    raise WorkerError("memory", f"exceeded the memory limit of {self.limits['memory_mb']:g} MB")
                if time.monotonic() < deadline:
                    continue
                self._kill()
                raise WorkerError("timeout", f"timed out after {seconds:g} s")
            chunk = os.read(self.from_worker, n - len(data))
            if not chunk:
                self._died()
            data += chunk
        return data

    def _over_memory(self):
        return processes.resident_bytes(processes.tree(self.proc.pid)) > self.limits["memory_mb"] * 2**20

    def _died(self):
        try:
            code = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            code = None
        self._kill()
        if code is not None and code > 128 and (self.jail or {}).get("isolation") == "bubblewrap":
            code = 128 - code  # bubblewrap passes a killed worker's fate on as 128 + signal
        if code is None:
            raise WorkerError("protocol", "your code closed the channel the grader uses to talk to it")
        if code == -signal.SIGXCPU:
            raise WorkerError("cpu", f"used more than {self.limits['cpu_seconds']:g} s of CPU time")
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
            raise WorkerError("crash", f"the process running your code was killed by signal {-code} "
                                       f"({name}; often a memory limit)")
        raise WorkerError("exit", f"your code ended the process running it (exit code {code}, "
                                  "e.g. by os._exit)")


def copy_submission(source, target):
    """A copy the student's code may change freely; links and huge files are not followed."""
    def ignore(folder, names):
        return [n for n in names if os.path.islink(os.path.join(folder, n))
                or (os.path.isfile(os.path.join(folder, n))
                    and os.path.getsize(os.path.join(folder, n)) > COPY_LIMIT)
                or n in ("__pycache__", ".git")]
    shutil.copytree(source, target, ignore=ignore, symlinks=True)


def copy_runtime(target):
    """The untrusted side's own modules, readable by the sandbox user (the source may be closed to others)."""
    for package in ("", "sandbox", "judging"):
        os.makedirs(os.path.join(target, package), exist_ok=True)
        with open(os.path.join(target, package, "__init__.py"), "w"):
            pass
    for place in RUNTIME:
        shutil.copyfile(os.path.join(ENGINE, place), os.path.join(target, place))
    for root, dirs, files in os.walk(target):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
