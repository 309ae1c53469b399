"""The facts of tests/facts.yaml are the grader's: grading each reference gives exactly those tests,
points and visibilities, and the README quotes them (and the corpora's counts) as they are."""
import collections
import os
import re
import shutil

import pytest

from conftest import ROOT, grade, validate, write_submission
from facts import FACTS

from autograder import config

README = re.sub(r"\s+", " ", open(os.path.join(ROOT, "README.md"), encoding="utf-8").read())
SAID = {"visible": "visible", "hidden": "hidden", "after_due_date": "after the due date",
        "after_published": "after publishing"}


def reference_submission(name, folder):
    a = config.find(name)
    with open(a.reference, encoding="utf-8") as f:
        return write_submission(folder, name, f.read(), assignment=name)


def kinds(results):
    return dict(collections.Counter(t["visibility"] for t in results["tests"]))


@pytest.mark.parametrize("name", sorted(FACTS))
def test_grading_the_reference_gives_the_pinned_tests_points_and_visibility(name, tmp_path):
    facts = FACTS[name]
    results, _ = grade(name, reference_submission(name, str(tmp_path)), str(tmp_path / "r.json"))
    validate(results)
    assert len(results["tests"]) == facts.tests
    assert sum(t["max_score"] for t in results["tests"]) == results["score"] == facts.points
    assert kinds(results) == facts.visibility


@pytest.mark.parametrize("name", sorted(n for n in FACTS if FACTS[n].optional))
def test_the_optional_tests_add_their_points_where_a_course_names_them(name, tmp_path):
    facts, folder = FACTS[name], tmp_path / name
    shutil.copytree(config.find(name).folder, folder, ignore=shutil.ignore_patterns("record.json", "__pycache__"))
    with open(folder / "assignment.yaml", "a", encoding="utf-8") as f:
        f.write(f"\noptional_tests: {sorted(facts.optional)}\n")
    results, _ = grade(str(folder), reference_submission(name, str(tmp_path)), str(tmp_path / "r.json"))
    validate(results)
    optional = {t["extra_data"]["test"]: t["max_score"] for t in results["tests"]
                if t["extra_data"]["test"] in facts.optional}
    assert optional == facts.optional
    assert len(results["tests"]) == facts.tests + len(facts.optional)
    assert results["score"] == facts.points + sum(facts.optional.values())


def claim(facts):
    shown = "all visible" if set(facts.visibility) == {"visible"} else \
        ", ".join(f"{n} {SAID[v]}" for v, n in facts.visibility.items())
    return f"{facts.tests} tests, {facts.points:g} points ({shown})"


def test_the_readme_quotes_each_assignments_tests_points_and_visibility():
    for name, facts in FACTS.items():
        assert claim(facts) in README, name
        for test, points in facts.optional.items():
            assert f"the optional `{test}`, {points:g} points" in README
    pinned = {(f.tests, f.points) for f in FACTS.values()}
    quoted = {(int(t), float(p)) for t, p in re.findall(r"(\d+) tests, (\d+)(?:/\d+)? points", README)}
    assert quoted and quoted <= pinned  # no stale count elsewhere (the quick start's table, ...)


def test_the_readme_quotes_the_corpora_counts():
    diagnosed = ", ".join(f"{n} {f.corpus.diagnosed} of {f.corpus.mistakes}" for n, f in FACTS.items())
    caught = ", ".join(f"{n} {f.corpus.caught_by_public_tests} of {f.corpus.mistakes}" for n, f in FACTS.items())
    assert f"diagnosed ({diagnosed}," in README
    assert f"catch every corpus mistake ({caught})" in README
