"""The team's mistake corpora hold the grader to its word, for every assignment: each mistake
loses points exactly on the quantities it breaks, is diagnosed rightly or not at all, and every
misconception in a catalogue is triggered by some mistake."""
import os

import pytest
import yaml

from conftest import ROOT, assignments, corpus, failed, validate
from facts import FACTS

ASSIGNMENTS = assignments(with_corpus=True)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mistake_loses_points_only_on_what_it_breaks(graded_corpus, assignment):
    wrong = {}
    for name, mistake in corpus(assignment)["mistakes"].items():
        results = graded_corpus[assignment][name]
        validate(results)
        lost = sorted({t["extra_data"]["quantity"] for t in failed(results)})
        if lost != sorted(mistake["breaks"]):
            wrong[name] = (lost, sorted(mistake["breaks"]))
    assert wrong == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mistakes_are_diagnosed_rightly_or_not_at_all(graded_corpus, assignment):
    mistakes = corpus(assignment)["mistakes"]
    right, misdiagnosed = 0, {}
    for name, mistake in mistakes.items():
        found = {t["extra_data"].get("diagnosis") for t in failed(graded_corpus[assignment][name])} - {None}
        if found - {mistake["diagnosis"]}:
            misdiagnosed[name] = found
        right += mistake["diagnosis"] in found or (mistake["diagnosis"] is None and not found)
    assert misdiagnosed == {}
    if assignment in FACTS:  # a bundled assignment: the README quotes these counts
        pinned = FACTS[assignment].corpus
        assert (right, len(mistakes)) == (pinned.diagnosed, pinned.mistakes), f"{right} of {len(mistakes)} diagnosed rightly"
    else:  # a course's own: every corpus file gets the diagnosis it declares (as validate proves)
        assert right == len(mistakes), f"{right} of {len(mistakes)} diagnosed as corpus.yaml declares"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_catalogue_entry_is_triggered_by_some_mistake(graded_corpus, assignment):
    with open(os.path.join(ROOT, "assignments", assignment, "misconceptions.yaml"), encoding="utf-8") as f:
        entries = yaml.safe_load(f)
    seen = {(t["extra_data"].get("diagnosis"), t["extra_data"]["quantity"])
            for r in graded_corpus[assignment].values() for t in failed(r)}
    untriggered = [(e["id"], e["in"]) for e in entries if not any((e["id"], q) in seen for q in e["in"])]
    assert untriggered == []
