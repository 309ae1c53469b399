"""Batch's graders, forked warm from a server that imported the engine once (classroom/warm.py), grade
exactly as `python -m autograder grade` does: the same bytes, under batch's environment of the moment."""
import json
import os

import pytest

from conftest import failed, grade, write_mistake
from test_determinism import masked

from autograder.classroom import run, warm
from autograder.sandbox import platform

pytestmark = pytest.mark.skipif(platform.system() != "linux", reason="graders are forked warm on Linux only")


def test_a_warm_grader_writes_the_bytes_grade_writes(tmp_path):
    assert warm.Graders().warm
    submission = write_mistake("backprop", "sigmoid-grad-is-sigmoid", str(tmp_path / "class"))
    results, _ = grade("backprop", submission, str(tmp_path / "alone.json"))
    assert failed(results)
    out = str(tmp_path / "out")
    assert run.run_batch("backprop", str(tmp_path / "class"), out, jobs=2, progress=False) == 0
    assert masked(os.path.join(out, "sigmoid-grad-is-sigmoid", "results.json")) == masked(str(tmp_path / "alone.json"))


def test_a_warm_grader_sees_batchs_environment_of_the_moment(tmp_path, monkeypatch):
    """The server is started once per process and keeps the environment it started with; each grader
    must run under batch's own environment when it starts (here: AUTOGRADER_TIMING, read at import)."""
    write_mistake("backprop", "link-term-transposed", str(tmp_path / "class"))
    assert run.run_batch("backprop", str(tmp_path / "class"), str(tmp_path / "first"), jobs=1, progress=False) == 0
    spans = str(tmp_path / "spans.json")
    monkeypatch.setenv("AUTOGRADER_TIMING", spans)
    assert run.run_batch("backprop", str(tmp_path / "class"), str(tmp_path / "second"), jobs=1, progress=False) == 0
    with open(spans, encoding="utf-8") as f:
        assert "record: replay a test" in json.load(f)
