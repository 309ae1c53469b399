"""Where one grading's time goes: named spans, for the benchmarks. Off unless asked for.

    AUTOGRADER_TIMING=FILE python -m autograder grade ...

writes {span: {"count": n, "seconds": s}} to FILE when the grading ends. The engine marks
its stages with `with span("worker: start"):` (or `add` for a time measured elsewhere, such
as the worker's own computing); with timing off a span costs one test of a flag. Spans
nest: "test call" includes the test's "check"s, which include their "worker: round trip".
"""
import contextlib
import json
import os
import time

ENV = "AUTOGRADER_TIMING"
_spans = {} if os.environ.get(ENV) else None  # span -> [count, seconds]; None: timing off


def start():
    """Reads AUTOGRADER_TIMING again, spans emptied: for a grader forked from a process that imported this
    module under another environment (classroom/warm.py)."""
    global _spans
    _spans = {} if os.environ.get(ENV) else None


def add(name, seconds):
    if _spans is not None:
        entry = _spans.setdefault(name, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds


@contextlib.contextmanager
def span(name):
    if _spans is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - started)


def timed(name, fn):
    """fn, with every call counted as the span `name` (for callables handed to the engine, like a reference)."""
    if _spans is None:
        return fn

    def run(*args, **kwargs):
        with span(name):
            return fn(*args, **kwargs)
    return run


def write():
    """Writes the spans to $AUTOGRADER_TIMING, if timing is on."""
    path = os.environ.get(ENV)
    if _spans is not None and path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({k: {"count": c, "seconds": round(s, 6)} for k, (c, s) in sorted(_spans.items())}, f, indent=1)
