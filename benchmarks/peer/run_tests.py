"""Runs the peer autograder the way a gradescope-utils course does: JSONTestRunner, in-process.

    python benchmarks/peer/run_tests.py SUBMISSION_FILE --examples N --out results.json

Writes Gradescope's results.json to --out and, on stdout, one JSON line with where its
own time went: {"import_seconds": ..., "check_seconds": ..., "check_cpu_seconds": ...},
measured inside this process (so none includes the interpreter's own start).
"""
import argparse
import importlib.util
import json
import os
import sys
import time

started = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, ROOT]  # the peer's tests, and the repository (for `reference`)

import unittest  # noqa: E402

from gradescope_utils.autograder_utils.json_test_runner import JSONTestRunner  # noqa: E402

import peer_backprop as peer  # noqa: E402  (imports numpy and the reference)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("submission", help="the student's backprop.py")
    parser.add_argument("--examples", type=int, default=100, help="examples per test")
    parser.add_argument("--out", required=True, help="where results.json goes")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("backprop", args.submission)
    student = importlib.util.module_from_spec(spec)
    sys.modules["backprop"] = student
    spec.loader.exec_module(student)
    peer.student, peer.EXAMPLES = student, args.examples
    imported, imported_cpu = time.perf_counter(), time.process_time()

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(peer.TestBackprop)
    with open(args.out, "w") as stream:
        JSONTestRunner(visibility="visible", stream=stream).run(suite)
    done, done_cpu = time.perf_counter(), time.process_time()
    print(json.dumps({"import_seconds": imported - started, "check_seconds": done - imported,
                      "check_cpu_seconds": done_cpu - imported_cpu,
                      "tests": suite.countTestCases(), "examples": args.examples}))


if __name__ == "__main__":
    main()
