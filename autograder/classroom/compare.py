"""Comparing two gradings of a class: `python -m autograder compare OLD_DIR NEW_DIR`.

Per student, what changed in the score, and per test, what now passes, fails, earns other
points or shows another misconception; for checking a change to the tests before it
reaches students.
"""
import json
import os

from ..cli import ExitStatus
from .discover import MANIFEST, BatchError, Submission, is_safe_id, natural
from .scores import load_all, points, test_key


def read_grading(folder):
    """({id: results}, {id: "names"}) of a batch output folder."""
    if not os.path.isdir(folder):
        raise BatchError(f"no such folder: {folder}")
    names, ids = {}, None
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
        ids = [s["id"] for s in manifest["submissions"]]
        for s in manifest["submissions"]:
            names[s["id"]] = ", ".join(p.get("name") or p.get("email") or p.get("sid") or "?"
                                       for p in s.get("submitters", []))
    except (OSError, ValueError, KeyError, TypeError):
        ids = [d for d in os.listdir(folder) if is_safe_id(d)]  # graded before there was a manifest
    results = load_all(folder, [Submission(i, "") for i in ids])
    if not results:
        raise BatchError(f"{folder} has no graded submissions (DIR/<submission>/results.json)")
    return results, names


def compare_gradings(old, new):
    """Prints what changed between two gradings of a class, per student and per test; returns OK.

    Raises BatchError when a folder holds no grading.
    """
    before, names_before = read_grading(old)
    after, names_after = read_grading(new)
    names = {**names_before, **names_after}
    print(compare_text(before, after, names, old, new))
    return ExitStatus.OK


def compare_text(before, after, names, old="OLD", new="NEW"):
    """What `compare` prints: a headline, then each student whose grading changed, with the tests that did."""
    def label(i):
        return f"{i} ({names[i]})" if names.get(i) else i

    def tests(r):
        return {test_key(t): t for t in r.get("tests", [])}

    common = sorted(set(before) & set(after), key=natural)
    lines, changed = [], 0
    for i in common:
        b, a = before[i], after[i]
        tb, ta = tests(b), tests(a)
        notes = []
        if not tb or not ta:  # one side was not graded at all: its grading line says it all
            tb, ta = {}, {}
        for key in sorted(set(tb) | set(ta), key=lambda k: (natural(str((ta.get(k) or tb.get(k)).get("number", ""))), k)):
            x, y = tb.get(key), ta.get(key)
            t = y or x
            title = f"{t.get('number', '')} {t.get('name', key)}"
            if x is None:
                notes.append(f"    new test: {title}: {y.get('status')} ({points(y.get('score', 0))}/{points(y.get('max_score', 0))})")
            elif y is None:
                notes.append(f"    test gone: {title} (was {points(x.get('score', 0))}/{points(x.get('max_score', 0))})")
            elif x.get("status") != y.get("status"):
                word = "now passing" if y.get("status") == "passed" else "now failing"
                notes.append(f"    {word}: {title} ({points(x.get('score', 0))} -> {points(y.get('score', 0))})"
                             + diagnosis_note(x, y))
            elif float(x.get("score", 0)) != float(y.get("score", 0)) or x.get("max_score") != y.get("max_score"):
                notes.append(f"    points: {title} ({points(x.get('score', 0))}/{points(x.get('max_score', 0))} -> "
                             f"{points(y.get('score', 0))}/{points(y.get('max_score', 0))})")
            elif diagnosis_note(x, y):
                notes.append(f"    diagnosis: {title}" + diagnosis_note(x, y))
        eb, ea = (b.get("extra_data") or {}).get("error"), (a.get("extra_data") or {}).get("error")
        if eb != ea:
            notes.insert(0, f"    grading: {eb or 'graded'} -> {ea or 'graded'}")
        sb, sa = float(b.get("score", 0)), float(a.get("score", 0))
        if notes or sb != sa:
            changed += 1
            delta = sa - sb
            lines.append(f"{label(i)}: {points(sb)} -> {points(sa)} ({'+' if delta >= 0 else ''}{points(delta)})")
            lines += notes
    only_old = sorted(set(before) - set(after), key=natural)
    only_new = sorted(set(after) - set(before), key=natural)
    mean_b = sum(float(before[i].get("score", 0)) for i in common) / len(common) if common else 0.0
    mean_a = sum(float(after[i].get("score", 0)) for i in common) / len(common) if common else 0.0
    head = [f"{old} -> {new}: {len(common)} submission{'s' * (len(common) != 1)} in both, {changed} changed, "
            f"{len(common) - changed} unchanged; mean score {mean_b:.2f} -> {mean_a:.2f}"]
    if only_old:
        head.append(f"only in {old}: " + ", ".join(label(i) for i in only_old))
    if only_new:
        head.append(f"only in {new}: " + ", ".join(label(i) for i in only_new))
    return "\n".join(head + ([""] + lines if lines else []))


def diagnosis_note(x, y):
    dx, dy = (x.get("extra_data") or {}).get("diagnosis"), (y.get("extra_data") or {}).get("diagnosis")
    return "" if dx == dy else f" [diagnosis {dx or 'none'} -> {dy or 'none'}]"
