"""The README's example of what a student reads is what grading the corpus's transposed link term gives
(the README lays it out for reading: code fences and line breaks aside, the words and numbers are the same)."""
import os
import re

from conftest import ROOT, failed, grade, write_mistake


def words(text):
    return re.sub(r"\s+", " ", text.replace("```", "")).strip()


def test_what_a_student_reads_is_what_grading_gives(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    shown = readme.split("## What a student reads", 1)[1].split("```\n", 2)[1]
    submission = write_mistake("backprop", "link-term-transposed", str(tmp_path))
    results, _ = grade("backprop", submission, str(tmp_path / "r.json"))
    first = failed(results)[0]
    assert first["extra_data"]["diagnosis"] == "transposed"
    assert words(first["output"]) == words(shown)
