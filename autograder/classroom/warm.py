"""A class's graders started warm: each forked from one server that has imported the engine.

    graders = Graders()            one per batch run; graders.start(argv, log, tmpdir) -> a process

Every submission is still graded by a process of its own, exactly `python -m autograder grade`
(a crash, a hang or an attack costs only its own row), but on Linux that process is forked from
a server (multiprocessing's forkserver) that imported Python's and the engine's modules once and
graded nothing: every grading starts from the same state, without paying about a quarter of a
second of CPU for the interpreter, numpy and the engine each time. Elsewhere (macOS's system
libraries are not safe to fork once numpy is loaded, which is why Python spawns there) each
grader is a new interpreter, as before. The server needs no stopping: it ends with batch (it
watches a pipe to its parent).

Either way batch gets what it asks of a process: its pid, poll() and wait(), as subprocess.Popen has them.
"""
import os
import subprocess
import sys
import threading

from ..config import ROOT
from ..sandbox import platform

# What every grading imports before it grades (the server imports them once). Not the student's
# code, the assignment's tests or Hypothesis: those are imported by each grading, as always.
PRELOAD = ["numpy", "yaml", "psutil", "autograder.cli", "autograder.core", "autograder.session",
           "autograder.record", "autograder.replay", "autograder.sandbox.boundary", "autograder.judging.judge",
           "autograder.judging.feedback", "autograder.results", "autograder.uploads"]


class Graders:
    def __init__(self):
        self.context = None
        self.starting = threading.Lock()  # validate starts graders from several threads
        if platform.system() == "linux":
            import multiprocessing
            self.context = multiprocessing.get_context("forkserver")
            self.context.set_forkserver_preload(PRELOAD)

    @property
    def warm(self):
        return self.context is not None

    def start(self, argv, log_path, tmpdir):
        """A grader running `python -m autograder ARGV...` in ROOT, its output in `log_path`, its temporary
        files under `tmpdir`, in a session of its own (Ctrl-C reaches batch, not the graders)."""
        if self.context is None:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "autograder", *argv], cwd=ROOT,
                                        env={**os.environ, "TMPDIR": tmpdir}, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            return proc
        env = {**os.environ, "TMPDIR": tmpdir}  # batch's environment now, not the server's when it started
        proc = self.context.Process(target=grade_forked, args=(list(argv), log_path, env), daemon=False)
        with self.starting:
            proc.start()
        return Forked(proc)


class Forked:
    """A forked grader, answering as subprocess.Popen does (pid, poll, wait): what batch asks of a process."""

    def __init__(self, proc):
        self.proc = proc

    @property
    def pid(self):
        return self.proc.pid

    def poll(self):
        return None if self.proc.is_alive() else self.proc.exitcode

    def wait(self):
        self.proc.join()
        return self.proc.exitcode


def grade_forked(argv, log_path, env):
    """In the forked grader: as `python -m autograder ARGV...` would start (in ROOT, with `env`), then grade."""
    import tempfile

    from .. import timing
    os.setsid()
    os.chdir(ROOT)
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    nothing = os.open(os.devnull, os.O_RDONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(nothing, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(nothing)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # read TMPDIR again
    timing.start()
    sys.argv = [os.path.join(ROOT, "autograder", "__main__.py"), *argv]
    from ..cli import main
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no atexit of the server's copy of the interpreter
