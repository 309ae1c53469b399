"""Running student code: import the student's module, run programs of steps, describe what raised.

The worker (in the sandbox) and the handout's public tests (on a student's machine) both
run student code through this module, so it behaves the same in both. It imports the
standard library, numpy and the wire protocol only: nothing of the grader.
"""
import importlib.abc
import importlib.util
import io
import os
import signal
import sys
import threading
import traceback

import numpy as np

from ..judging import protocol


class CallTimeout(BaseException):
    """Raised inside student code when a call runs over its wall-time limit.

    A BaseException so that a student's `except Exception:` does not swallow it;
    a student who catches everything is stopped by the grader's SIGKILL instead.
    """


class StepFailed(Exception):
    """Which step of a program raised, and what."""

    def __init__(self, index, exc):
        super().__init__(index)
        self.index, self.exc = index, exc


class ForbiddenImport(ImportError):
    pass


class Forbid(importlib.abc.MetaPathFinder):
    """A course rule (not a security boundary): some libraries would do the work for the student."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ForbiddenImport(f"importing {fullname.split('.')[0]} is not allowed in this assignment")
        return None


class BoundedText(io.TextIOBase):
    """Keeps the first `limit` characters a student prints per call and counts the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def take(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output cut]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class Timer:
    """Wall-time limits on calls, by SIGALRM where the platform has an interval timer.

    Windows, and threads other than the main one, have none: there `limit` limits nothing
    and `available` is False (the grader's own deadline still holds in the worker).
    """

    def __init__(self):
        self.available = (hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")
                          and threading.current_thread() is threading.main_thread())
        self._saved = None

    def install(self):
        if self.available:
            self._saved = signal.signal(signal.SIGALRM, _on_alarm)

    def uninstall(self):
        if self.available:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._saved)

    def start(self, seconds):
        if self.available and seconds:
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def stop(self):
        if self.available:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _on_alarm(signum, frame):
    raise CallTimeout()


# ---- what went wrong, as plain data ------------------------------------------------

def student_traceback(exc, student_dir, hidden=None):
    """The student's own frames only (not under `hidden`): the grader's internals are nobody's business."""
    def theirs(path):
        path = os.path.abspath(path)
        return path.startswith(student_dir) and not (hidden and path.startswith(hidden + os.sep))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if theirs(f.filename)]
    lines = [f'  File "{os.path.basename(f.filename)}", line {f.lineno}, in {f.name}\n    {f.line}'
             for f in frames[-5:]]
    return "\n".join(lines)


def describe(exc, student_dir, seconds, memory_mb, hidden=None):
    """What a student's code raised, as the wire's error dict (kind, message, type, traceback)."""
    if isinstance(exc, CallTimeout):
        return {"kind": "timeout", "message": f"timed out after {seconds:g} s"}
    if isinstance(exc, ForbiddenImport):
        return {"kind": "forbidden-import", "message": str(exc)}
    if isinstance(exc, MemoryError):
        return {"kind": "memory", "message": f"exceeded the memory limit of {memory_mb:g} MB"}
    if isinstance(exc, RecursionError):
        return {"kind": "exception", "type": "RecursionError",
                "message": "maximum recursion depth exceeded", "traceback": ""}
    if isinstance(exc, SystemExit):
        return {"kind": "exit", "message": f"called sys.exit({exc.code!r})"}
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}" + (f": {exc.text.strip()}" if exc.text else "")
        return {"kind": "syntax", "type": type(exc).__name__, "message": f"{exc.msg} ({where})"}
    try:
        message = str(exc)[:2000]
    except BaseException:
        message = "(the exception's message could not be shown)"
    return {"kind": "exception", "type": type(exc).__name__, "message": message,
            "traceback": student_traceback(exc, student_dir, hidden)}


class Runner:
    """One student module under the worker's rules: limits per call, output kept, banned imports refused.

    settings: call_seconds, import_seconds, memory_mb, output_bytes, forbidden_imports.
    hidden: a folder inside the student's whose frames are not the student's (the handout's tests/).
    passes: exceptions that are not the student code's to report (on a student's own machine, Ctrl-C).
    """

    def __init__(self, student_file, module_name, settings, timer=None, hidden=None, passes=()):
        self.student_file = os.path.abspath(student_file)
        self.student_dir = os.path.dirname(self.student_file)
        self.module_name, self.settings, self.hidden = module_name, settings, hidden
        self.timer = timer or Timer()
        self.forbid = Forbid(settings.get("forbidden_imports", []))
        self.module, self.import_error = None, None
        self.passes = tuple(passes)

    def describe(self, exc, seconds):
        return describe(exc, self.student_dir, seconds, self.settings.get("memory_mb", 512), self.hidden)

    def load(self):
        """Imports the student's file; sets `module`, or `import_error` (a student's import may raise anything)."""
        self.timer.start(self.settings["import_seconds"])
        try:
            spec = importlib.util.spec_from_file_location(self.module_name, self.student_file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[self.module_name] = module
            spec.loader.exec_module(module)
            self.module = module
        except self.passes:
            raise
        except BaseException as exc:
            self.import_error = self.describe(exc, self.settings["import_seconds"])
        finally:
            self.timer.stop()

    def run_program(self, steps, raised=None):
        """One program: calls on the student's module, sharing a namespace of objects; the outputs' plain trees.

        A step of a try block ("try": group) that raises an Exception is described and appended
        to `raised` (with its index as "step"); the program carries on with the block's "except"
        steps. Every other exception, and a limit hit anywhere, ends the program (StepFailed).
        """
        objects, outputs, failed = {}, [], None  # failed: the group of the try block that raised
        raised = [] if raised is None else raised
        for index, step in enumerate(steps):
            if "except" in step and step["except"] != failed or "try" in step and step["try"] == failed:
                if step.get("out"):  # skipped: its output is not computed
                    outputs.append(protocol.not_computed(failed_step(raised)))
                continue
            self.timer.start(self.settings["call_seconds"])
            try:
                if "seed" in step:
                    np.random.seed(step["seed"])
                    continue
                if "call" in step:
                    target = getattr(self.module, step["call"])
                elif "method" in step:
                    obj, name = step["method"]
                    target = getattr(objects[obj], name)
                if "get" in step:
                    obj, name = step["get"]
                    value = getattr(objects[obj], name)
                elif "set" in step:
                    obj, name = step["set"]
                    setattr(objects[obj], name, protocol.decode(step["value"], objects))
                    continue
                else:
                    value = target(*protocol.decode(step.get("args", []), objects),
                                   **protocol.decode(step.get("kwargs", {}), objects))
            except Exception as exc:
                if "try" not in step or isinstance(exc, (MemoryError, ForbiddenImport)) \
                        or isinstance(exc, self.passes):
                    raise StepFailed(index, exc) from None
                failed = step["try"]
                raised.append({**self.describe(exc, self.settings["call_seconds"]), "step": index})
                if step.get("out"):
                    outputs.append(protocol.not_computed(index))
                continue
            except BaseException as exc:
                raise StepFailed(index, exc) from None
            finally:
                self.timer.stop()
            if "as" in step:
                objects[step["as"]] = value
            if step.get("out"):
                try:
                    outputs.append(protocol.plain(value))
                except (TypeError, ValueError) as exc:
                    outputs.append(protocol.unreadable(exc))
        return outputs

    def run(self, steps, captured):
        """One program's result as the wire carries it: {"outputs", "stdout"} or {"outputs": [], "error", "stdout"},
        with "raised" when a try block's step raised and the program carried on."""
        raised = []
        try:
            result = {"outputs": self.run_program(steps, raised), "stdout": captured.take()}
        except BaseException as exc:
            if isinstance(exc, self.passes) or isinstance(getattr(exc, "exc", None), self.passes):
                raise
            step = exc.index if isinstance(exc, StepFailed) else None
            exc = exc.exc if isinstance(exc, StepFailed) else exc
            result = {"outputs": [], "error": {**self.describe(exc, self.settings["call_seconds"]), "step": step},
                      "stdout": captured.take()}
        if raised:
            result["raised"] = raised
        return result


def failed_step(raised):
    return raised[-1]["step"] if raised else None


def hit_a_wall(result):
    """Whether a program's result hit a limit that later calls would only hit again."""
    return (result.get("error") or {}).get("kind") in ("timeout", "memory")
