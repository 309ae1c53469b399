"""README promises that no other test file holds: the example of what a student reads, and results.json
replacing whatever is at its path."""
import json
import os
import re

from conftest import ROOT, failed, grade, write_mistake


def words(text):
    return re.sub(r"\s+", " ", text.replace("```", "")).strip()


def test_what_a_student_reads_is_what_grading_gives(tmp_path):
    """The corpus's transposed link term, graded, reads as the README shows it (the README lays it out for
    reading: code fences and line breaks aside, the words and numbers are the same)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    shown = readme.split("## What a student reads", 1)[1].split("```\n", 2)[1]
    submission = write_mistake("backprop", "link-term-transposed", str(tmp_path))
    results, _ = grade("backprop", submission, str(tmp_path / "r.json"))
    first = failed(results)[0]
    assert first["extra_data"]["diagnosis"] == "transposed"
    assert words(first["output"]) == words(shown)


def test_results_json_replaces_whatever_was_at_its_path(tmp_path):
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"score": 1000, "tests": []}))  # a submission's, or an earlier grading's
    submission = write_mistake("backprop", "link-term-transposed", str(tmp_path))
    results, _ = grade("backprop", submission, str(out))
    assert 0 < results["score"] < 49 and len(results["tests"]) == 33
