"""The untrusted side: the one process that imports and runs student code.

`boundary.Worker` copies this package's worker and runner, and the wire protocol, alone
into the sandbox folder (as the package `runtime`) and starts

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
import sys
import time


def main():
    request_fd, response_fd, settings = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    sys.path.extend(settings["paths"])  # numpy's folder: the worker runs with -S
    from ..judging import protocol
    from .runner import BoundedText, Runner, hit_a_wall

    reply = os.fdopen(response_fd, "wb", buffering=0)
    reply.write(protocol.frame({"started": True}))
    runner = Runner(settings["student_file"], settings["module_name"], settings)
    runner.timer.install()
    sys.meta_path.insert(0, runner.forbid)
    sys.path.append(runner.student_dir)  # the student's own helper modules, behind the real numpy
    sys.setrecursionlimit(settings.get("recursion_limit", 3000))
    captured = BoundedText(settings["output_bytes"])
    sys.stdout = sys.stderr = captured

    runner.load()
    reply.write(protocol.frame({"ready": True, "import_error": runner.import_error, "stdout": captured.take()}))
    with os.fdopen(request_fd, "rb", buffering=0) as requests:
        for request in protocol.frames(requests):
            started, results = time.perf_counter(), []
            for steps in request["programs"]:
                results.append(runner.run(steps, captured))
                if hit_a_wall(results[-1]):
                    break  # the rest of this request would only hit the same wall
            reply.write(protocol.frame({"id": request["id"], "results": results,
                                        "seconds": time.perf_counter() - started}))
