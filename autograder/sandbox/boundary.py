"""The boundary between the grader and student code, readable in one screen.

What it guarantees (the README says what each mode protects):
- Student code runs only in the worker (`sandbox/worker.py`), a separate process started
  from a fresh temporary folder holding a copy of the submission and of the worker's own
  modules, nothing else.
- Run as root (Gradescope), the worker drops to an unprivileged uid (one per
  submission when several are graded at once), loses the network (a new network
  namespace) and every supplementary group.
- Always: its own session, a scrubbed environment, and rlimits on address space,
  CPU time, file size and (when the user is not shared with the grader) processes.
- The grader reads back only length-prefixed JSON of numbers and strings.
- A call that overruns is SIGKILLed with every process the submission started,
  even ones that left the process group (found as our orphans: we are a subreaper,
  and as root as every process of the sandbox uid, which no other submission shares).
"""
import ctypes
import grp
import json
import os
import pwd
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy

from .. import timing
from ..judging import protocol
from . import processes

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.dirname(HERE)
RUNTIME = {  # what the worker runs, copied into the sandbox folder as the package `runtime`
    "sandbox/worker.py": os.path.join(HERE, "worker.py"),
    "sandbox/runner.py": os.path.join(HERE, "runner.py"),
    "judging/protocol.py": os.path.join(ENGINE, "judging", "protocol.py"),
}
BOOT = "import sys; sys.path.insert(0, '.'); from runtime.sandbox.worker import main; main()"
MAX_FRAME = 64 * 2**20
COPY_LIMIT = 10 * 2**20  # a submission's files beyond this size are not copied
UNIQUE_UID_BASE = 200000  # uids with no account, one per grader process, for batch grading as root
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int


def sandbox_identity(exclusive):
    """As root, whom student code runs as; None when we are not root (no privilege to drop).

    On Gradescope (exclusive: one submission per container) that is the `student` user
    setup.sh creates, else nobody. When several submissions are graded at once (batch),
    each gets a uid of its own, so that none can signal or read another's processes.
    """
    if os.geteuid() != 0:
        return None
    try:
        nogroup = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        nogroup = 65534
    if not exclusive:
        return Identity(UNIQUE_UID_BASE + os.getpid() % 100000, nogroup)
    chosen = os.environ.get("AUTOGRADER_SANDBOX_USER", "student")
    if chosen.isdigit():
        return Identity(int(chosen), nogroup)
    for name in (chosen, "nobody"):
        try:
            user = pwd.getpwnam(name)
            return Identity(user.pw_uid, user.pw_gid)
        except KeyError:
            continue
    return Identity(UNIQUE_UID_BASE, nogroup)


class WorkerError(Exception):
    """The worker could not answer: it timed out, died, or spoke nonsense."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


class Worker:
    """One per submission: started lazily, restarted after a crash or a kill."""

    def __init__(self, student_file, module_name, limits, forbidden_imports=(), exclusive=False):
        self.limits = limits
        self.user = sandbox_identity(exclusive)
        self.folder = tempfile.mkdtemp(prefix="autograder-sandbox-")
        os.chmod(self.folder, 0o755)
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
            "paths": [os.path.dirname(os.path.dirname(numpy.__file__))]}
        self.proc, self.requests = None, 0
        processes.become_subreaper()

    # -- life cycle -------------------------------------------------------------------

    def start(self):
        """Starts the worker; returns its import report {"import_error": ..., "stdout": ...}."""
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
        env.update(HOME=self.folder, TMPDIR=self.folder, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            # -I -S: no environment, no user site, no .pth files (an editable install of the
            # grader would otherwise be importable); only numpy's folder is added back.
            [sys.executable, "-I", "-S", "-c", BOOT, str(req_r), str(resp_w), json.dumps(self.settings)],
            cwd=self.folder, env=env, pass_fds=(req_r, resp_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=self._confine, close_fds=True)
        os.close(req_r)
        os.close(resp_w)
        self.to_worker, self.from_worker = os.fdopen(req_w, "wb", buffering=0), resp_r
        try:  # before the student's file is imported, a failure is the grader's, not the student's
            self._receive(self.limits["start_seconds"])
        except WorkerError as exc:
            raise RuntimeError(f"the worker process could not start ({exc.message}): is "
                               f"{sys.executable} usable by the sandbox user?") from None
        return self._receive(self.limits["import_seconds"])

    def _confine(self):
        """Runs in the child between fork and exec: limits first, identity last."""
        mb = int(self.limits["memory_mb"]) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mb, mb))
        cpu = int(self.limits["cpu_seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 2**20,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.user:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.unshare(0x40000000)  # CLONE_NEWNET: no network for student code
            nproc = int(self.limits["processes"])
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            os.setgroups([])
            os.setgid(self.user.gid)
            os.setuid(self.user.uid)

    def close(self):
        """Kills the worker and everything it started; removes the sandbox folder."""
        self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _kill(self):
        if self.proc is None:
            return
        worker, user = self.proc.pid, self.user
        processes.kill_until_gone(lambda: processes.tree(worker) | processes.my_children()
                                  | (processes.owned_by(user.uid) if user else set()))
        self.proc.wait()
        self.to_worker.close()
        os.close(self.from_worker)
        self.proc = None

    # -- calls ------------------------------------------------------------------------

    def run(self, programs):
        """Runs programs (lists of steps) in the worker; returns one result dict per program."""
        if self.proc is None or self.proc.poll() is not None:
            raise WorkerError("dead", "the worker is not running")
        self.requests += 1
        try:
            self.to_worker.write(protocol.frame({"id": self.requests, "programs": programs}))
        except (BrokenPipeError, OSError):
            self._died()
        deadline = self.limits["call_seconds"] * max(1, sum(len(p) for p in programs)) + 1
        reply = self._receive(deadline)
        if reply.get("id") != self.requests or not isinstance(reply.get("results"), list):
            self._kill()
            raise WorkerError("protocol", "the grading process received an answer it did not ask for")
        if isinstance(reply.get("seconds"), float):
            timing.add("worker: computing (the worker's own account)", reply["seconds"])
        return reply["results"]

    def _receive(self, seconds):
        head = self._read(protocol.HEADER.size, time.monotonic() + seconds, seconds)
        (size,) = protocol.HEADER.unpack(head)
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
            ready, _, _ = select.select([self.from_worker], [], [], max(left, 0))
            if not ready:
                self._kill()
                raise WorkerError("timeout", f"timed out after {seconds:g} s")
            chunk = os.read(self.from_worker, n - len(data))
            if not chunk:
                self._died()
            data += chunk
        return data

    def _died(self):
        try:
            code = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            code = None
        self._kill()
        if code is None:
            raise WorkerError("protocol", "your code closed the channel the grader uses to talk to it")
        if code == -signal.SIGXCPU:
            raise WorkerError("cpu", f"used more than {self.limits['cpu_seconds']} s of CPU time")
        if code < 0:
            raise WorkerError("crash", f"the process running your code was killed by signal {-code} "
                                       f"({signal.Signals(-code).name}; often a memory limit)")
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
    """The worker's own modules, readable by the sandbox user (the source may be closed to others)."""
    for package in ("", "sandbox", "judging"):
        os.makedirs(os.path.join(target, package), exist_ok=True)
        with open(os.path.join(target, package, "__init__.py"), "w"):
            pass
    for place, source in RUNTIME.items():
        shutil.copyfile(source, os.path.join(target, place))
    for root, dirs, files in os.walk(target):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
