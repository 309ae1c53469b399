"""The untrusted side: the one process that imports and runs student code.

`boundary.Worker` copies the worker's own modules (this one, runner, frames, jail and the
wire protocol) alone into the sandbox folder, as the package `runtime`; the jail confines
itself there and then runs

    python -I -S -c BOOT REQUEST_FD RESPONSE_FD SETTINGS_JSON

It imports only the standard library and numpy, never the grader, so nothing of the
grader, the reference or the tests is within its reach. It reads requests (plain JSON:
programs of calls on the student's module) and answers with plain JSON of numbers and
strings. The grader decides pass or fail; this side only computes. Everything here may
be subverted by the student's code, and that is fine: the grader believes nothing from
this process except numbers that it then checks.
"""
import json
import os
import socket
import sys
import time


def probe(settings):
    """What student code could reach here, looked at before any of it runs (the grader reports it)."""
    found = {"readable": [], "network": False, "grader_signallable": False}
    for path in settings.get("hidden", []):  # files that exist, outside the sandbox
        try:
            with open(path, "rb") as f:
                f.read(1)
            found["readable"].append(path)
        except OSError:
            pass
    try:  # a UDP connect sends nothing; it fails at once where there is no route (an empty network namespace)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
        found["network"] = True
    except OSError:
        pass
    try:
        os.kill(settings["grader"], 0)
        found["grader_signallable"] = True
    except (OSError, KeyError, TypeError):
        pass
    return found


def stay_the_worker(me):
    """A process the student's code forked ends here, silently: only the worker itself may answer."""
    if os.getpid() != me:
        os._exit(0)


def main():
    request_fd, response_fd, settings = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    sys.argv = [os.path.abspath(__file__)]  # this process is the worker, not `python -c`
    sys.path.extend(settings["paths"])  # numpy's folder: the worker runs with -S
    from .frames import frame, frames
    from .runner import BoundedText, Runner, hit_a_wall

    me = os.getpid()
    reply = os.fdopen(response_fd, "wb", buffering=0)
    reply.write(frame({"started": True, "probe": probe(settings.get("probe", {}))}))
    runner = Runner(settings["student_file"], settings["module_name"], settings)
    runner.timer.install()
    sys.meta_path.insert(0, runner.forbid)
    sys.path.append(runner.student_dir)  # the student's own helper modules, behind the real numpy
    sys.setrecursionlimit(settings.get("recursion_limit", 3000))
    captured = BoundedText(settings["output_bytes"])
    sys.stdout = sys.stderr = captured

    runner.load()
    stay_the_worker(me)
    reply.write(frame({"ready": True, "import_error": runner.import_error, "stdout": captured.take()}))
    with os.fdopen(request_fd, "rb", buffering=0) as requests:
        for request in frames(requests):
            # One answer per part (a graded test's programs), sent as soon as it is computed, so
            # that the grader judges one test while this process computes the next.
            for part, programs in enumerate(request["parts"]):
                started, results = time.perf_counter(), []
                for steps in programs:
                    results.append(runner.run(steps, captured))
                    stay_the_worker(me)
                    if hit_a_wall(results[-1]):
                        break  # the rest of this part would only hit the same wall
                reply.write(frame({"id": request["id"], "part": part, "results": results,
                                   "seconds": time.perf_counter() - started}))
