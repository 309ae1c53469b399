"""The untrusted side: the one process that imports and runs student code.

This file is copied alone into the sandbox folder and started by `sandbox.Worker` as

    python -I worker.py REQUEST_FD RESPONSE_FD SETTINGS_JSON

It imports only the standard library and numpy, never the grader, so nothing of the
grader, the reference or the tests is within its reach. It reads requests (plain
JSON: programs of calls on the student's module) and answers with plain JSON of
numbers and strings. The grader decides pass or fail; this side only computes.
Everything here may be subverted by the student's code, and that is fine: the
grader believes nothing from this process except numbers that it then checks.
"""
import importlib.abc
import importlib.util
import io
import json
import os
import signal
import struct
import sys
import traceback

np = None  # numpy, imported in main() once its folder is on the path (the worker runs with -S)

MAX_ELEMENTS = 1_000_000  # per returned value; far beyond any correct answer here


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


# ---- plain data in, plain data out -------------------------------------------------

def decode(x, objects):
    """Request values: {"array": [shape, flat]}, {"ref": name}, lists, numbers, strings."""
    if isinstance(x, dict):
        if "array" in x:
            shape, flat = x["array"]
            return np.array(flat, dtype=np.float64).reshape(shape)
        if "ref" in x:
            return objects[x["ref"]]
        return {k: decode(v, objects) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v, objects) for v in x]
    return x


def plain(x, depth=0):
    """A student's return value as a tree of arrays, lists and dicts of plain numbers."""
    if depth > 4:
        raise TypeError("the value is nested too deeply")
    if isinstance(x, dict):
        return {"dict": {str(k): plain(v, depth + 1) for k, v in x.items()}}
    if isinstance(x, (list, tuple)):
        try:
            return plain_array(x)
        except (TypeError, ValueError):
            return {"list": [plain(v, depth + 1) for v in x]}
    return plain_array(x)


def plain_array(x):
    if x is None:
        raise TypeError("the value is None (did the function forget to `return`?)")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"the value is a {type(x).__name__}, not a number or an array")
    raw = np.asarray(x)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"the value is a {type(x).__name__} of {raw.dtype}, not an array of real numbers")
    if raw.size > MAX_ELEMENTS:
        raise TypeError(f"the value has {raw.size} elements, far more than expected")
    arr = raw.astype(np.float64)
    return {"array": [list(arr.shape), arr.ravel().tolist()]}


# ---- running programs --------------------------------------------------------------

def student_traceback(exc, student_dir):
    """The student's own frames only: the grader's internals are nobody's business."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(f.filename).startswith(student_dir)]
    lines = [f'  File "{os.path.basename(f.filename)}", line {f.lineno}, in {f.name}\n    {f.line}'
             for f in frames[-5:]]
    return "\n".join(lines)


def describe(exc, student_dir, settings):
    if isinstance(exc, CallTimeout):
        return {"kind": "timeout", "message": f"timed out after {settings['call_seconds']:g} s"}
    if isinstance(exc, ForbiddenImport):
        return {"kind": "forbidden-import", "message": str(exc)}
    if isinstance(exc, MemoryError):
        return {"kind": "memory", "message": f"exceeded the memory limit of {settings['memory_mb']:g} MB"}
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
            "traceback": student_traceback(exc, student_dir)}


def on_alarm(signum, frame):
    raise CallTimeout()


def run_program(module, steps, settings, student_dir):
    """One program: calls on the student's module, sharing a namespace of objects."""
    objects, outputs = {}, []
    for index, step in enumerate(steps):
        signal.setitimer(signal.ITIMER_REAL, settings["call_seconds"])
        try:
            if "seed" in step:
                np.random.seed(step["seed"])
                continue
            if "call" in step:
                target = getattr(module, step["call"])
            elif "method" in step:
                obj, name = step["method"]
                target = getattr(objects[obj], name)
            if "get" in step:
                obj, name = step["get"]
                value = getattr(objects[obj], name)
            elif "set" in step:
                obj, name = step["set"]
                setattr(objects[obj], name, decode(step["value"], objects))
                continue
            else:
                value = target(*decode(step.get("args", []), objects), **decode(step.get("kwargs", {}), objects))
        except BaseException as exc:
            raise StepFailed(index, exc) from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if "as" in step:
            objects[step["as"]] = value
        if step.get("out"):
            try:
                outputs.append(plain(value))
            except (TypeError, ValueError) as exc:
                outputs.append({"unreadable": str(exc)})
    return outputs


def frames(fd):
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while True:
            head = stream.read(4)
            if len(head) < 4:
                return
            (size,) = struct.unpack("<I", head)
            body = b""
            while len(body) < size:
                chunk = stream.read(size - len(body))
                if not chunk:
                    return
                body += chunk
            yield json.loads(body)


def main():
    global np
    request_fd, response_fd, settings = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    sys.path.extend(settings["paths"])
    import numpy
    np = numpy
    student_file = os.path.abspath(settings["student_file"])
    student_dir = os.path.dirname(student_file)
    reply = os.fdopen(response_fd, "wb", buffering=0)

    def send(message):
        body = json.dumps(message).encode()
        reply.write(struct.pack("<I", len(body)) + body)

    send({"started": True})
    signal.signal(signal.SIGALRM, on_alarm)
    sys.meta_path.insert(0, Forbid(settings.get("forbidden_imports", [])))
    sys.path.append(student_dir)  # the student's own helper modules, behind the real numpy
    sys.setrecursionlimit(settings.get("recursion_limit", 3000))
    captured = BoundedText(settings["output_bytes"])
    sys.stdout = sys.stderr = captured

    module, import_error = None, None
    try:
        signal.setitimer(signal.ITIMER_REAL, settings["import_seconds"])
        spec = importlib.util.spec_from_file_location(settings["module_name"], student_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[settings["module_name"]] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # a student's import may raise anything, even SystemExit
        import_error = describe(exc, student_dir, {**settings, "call_seconds": settings["import_seconds"]})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    send({"ready": True, "import_error": import_error, "stdout": captured.take()})

    for request in frames(request_fd):
        results = []
        for steps in request["programs"]:
            try:
                results.append({"outputs": run_program(module, steps, settings, student_dir),
                                "stdout": captured.take()})
            except BaseException as exc:
                step = exc.index if isinstance(exc, StepFailed) else None
                exc = exc.exc if isinstance(exc, StepFailed) else exc
                results.append({"outputs": [], "error": {**describe(exc, student_dir, settings), "step": step},
                                "stdout": captured.take()})
                if isinstance(exc, (CallTimeout, MemoryError)):
                    break  # the rest of this request would only hit the same wall
        send({"id": request["id"], "results": results})


if __name__ == "__main__":
    main()
