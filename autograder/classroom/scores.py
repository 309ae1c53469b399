"""Reading a class's results back: the test columns, scores.csv, and the summary the reports show.

scores.csv, UTF-8, one row per submitter (a group submission gives each member a row;
a submission without metadata gives one row with empty name, email and SID):

    Name, Email, SID, Submission ID, Total (after any late penalty), Before penalty (the
    tests' points), Late penalty (%) (empty where no late penalty applies: no late: policy, or
    no created_at), then one column per test ("<number> <name> (<points>)") holding the
    points earned; empty where the test did not run.

For a gradebook import only the identity columns and Total matter. Gradescope's score
import for an assignment matches students by Email (or SID) and reads the column you pick
as the score (choose Total). Canvas's gradebook import matches students by its own
columns (ID, SIS User ID or SIS Login ID): rename SID to "SIS User ID" (if your SIDs are
Canvas's SIS ids) and Total to the assignment's column title, and drop the per-test
columns or let Canvas ignore them. Rows are sorted by submission id and the file is
byte-identical whenever the same class is graded again.
"""
import csv
import io
import json
import math
import os
from collections import Counter

from .. import policies
from ..judging.feedback import FACTORS, first_line
from ..results import grader_faults, write_atomic
from .discover import natural


def load_all(out, subs):
    """{submission id: results dict} for the submissions of `subs` graded in `out`."""
    found = {}
    for s in subs:
        try:
            with open(os.path.join(out, s.id, "results.json"), encoding="utf-8") as f:
                found[s.id] = json.load(f)
        except (OSError, ValueError):
            continue
    return found


def test_key(t):
    return (t.get("extra_data") or {}).get("test") or t.get("name", "")


def test_columns(results):
    """[(key, number, name, max points)] of every test seen in the class, by number."""
    seen = {}
    for sub_id in sorted(results, key=natural):
        for t in results[sub_id].get("tests", []):
            seen.setdefault(test_key(t), (str(t.get("number", "")), t.get("name", ""), float(t.get("max_score", 0))))
    return sorted(((k, *v) for k, v in seen.items()), key=lambda c: (natural(c[1]), c[0]))


def points(x):
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else repr(x)


def factor_of(t):
    tags = t.get("tags") or []
    return (t.get("extra_data") or {}).get("factor") or (tags[1] if len(tags) > 1 else "")


# ---- scores.csv --------------------------------------------------------------------

NOT_GRADED = "not graded: grader error"  # the grader, the course's files or the machine failed: no score


def write_scores(out, subs, results):
    columns = test_columns(results)
    header = ["Name", "Email", "SID", "Submission ID", "Total", "Before penalty", "Late penalty (%)"] + [
        f"{number} {name} ({points(top)})" for _, number, name, top in columns]
    rows = []
    for s in subs:
        if s.id not in results:
            continue
        r = results[s.id]
        earned = {test_key(t): t.get("score", 0) for t in r.get("tests", [])}
        total = NOT_GRADED if grader_faults(r) else points(r.get("score", 0))
        late = (r.get("extra_data") or {}).get("late")
        before = ([points(late["before"]), points(100 * late["penalty"])] if late and not grader_faults(r)
                  else ["" if grader_faults(r) else total, ""])
        cells = [total] + before + [points(earned[k]) if k in earned else "" for k, *_ in columns]
        for person in s.submitters or [{"name": "", "email": "", "sid": ""}]:
            rows.append([person["name"], person["email"], person["sid"], s.id] + cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, as spreadsheets and gradebooks expect
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(os.path.join(out, "scores.csv"), buffer.getvalue())


# ---- what the reports show ---------------------------------------------------------

def summarize(a, subs, results):
    """Everything the two reports show, as plain data."""
    ids = [s.id for s in subs if s.id in results]
    columns = test_columns(results)
    possible = max((sum(t.get("max_score", 0) for t in results[i].get("tests", [])) for i in ids), default=0)
    possible = possible or sum(c[3] for c in columns)
    scores = [float(results[i].get("score", 0)) for i in ids]
    passed = {i: {test_key(t) for t in results[i].get("tests", []) if t.get("status") == "passed"} for i in ids}

    tests = []
    factor_of_key = {}
    for i in ids:
        for t in results[i].get("tests", []):
            factor_of_key.setdefault(test_key(t), factor_of(t))
    for key, number, name, top in columns:
        n = sum(key in passed[i] for i in ids)
        tests.append({"number": number, "name": name, "points": top, "factor": factor_of_key.get(key, ""),
                      "passed": n, "share": n / len(ids) if ids else 0.0})
    words = getattr(a, "factors", None) or FACTORS  # the assignment's own kinds (assignment.yaml's `factors:`)
    order = list(words) + sorted({t["factor"] for t in tests} - set(words))
    factors = []
    for f in order:
        keys = [c[0] for c in columns if factor_of_key.get(c[0]) == f]
        if not keys:
            continue
        n = sum(all(k in passed[i] for k in keys) for i in ids)
        factors.append({"factor": f, "tests": len(keys), "passed": n, "share": n / len(ids) if ids else 0.0,
                        "what": words.get(f, "")})

    return {
        "title": a.title, "assignment": a.name, "submissions": len(ids),
        "students": sum(max(1, len(s.submitters)) for s in subs if s.id in results),
        "not_graded": len(subs) - len(ids), "possible": possible, "scores": scores,
        "stats": score_stats(scores, possible), "bins": histogram(scores, possible),
        "factors": factors, "tests": tests,
        "misconceptions": misconceptions(results, ids), "errors": errors(results, ids),
        "protections": protections(results, ids)}


def protections(results, ids):
    """[{name, in_force, gradings, how}] over the class: how many gradings had each protection, and the
    distinct reasons (in force: by what; missing: why not)."""
    found = {}
    for i in ids:
        for name, text in ((results[i].get("extra_data") or {}).get("protections") or {}).items():
            entry = found.setdefault(name, {"name": name, "in_force": 0, "gradings": 0, "how": []})
            entry["gradings"] += 1
            entry["in_force"] += text.startswith("in force")
            if text not in entry["how"]:
                entry["how"].append(text)
    return list(found.values())


def score_stats(scores, possible):
    ordered = sorted(scores)
    median = (ordered[len(ordered) // 2] if len(ordered) % 2 else
              (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2) if ordered else 0.0
    return {"mean": sum(scores) / len(scores) if scores else 0.0, "median": median,
            "min": min(scores, default=0.0), "max": max(scores, default=0.0),
            "full": sum(x >= possible > 0 for x in scores), "zero": sum(x == 0 for x in scores)}


def histogram(scores, possible):
    """[(score range, submissions)] in about ten bins of whole points."""
    width = max(1.0, math.ceil(possible / 10)) if possible else 1.0
    nbins = max(1, math.ceil(possible / width)) if possible else 1
    bins = [0] * nbins
    for x in scores:
        bins[min(int(x // width), nbins - 1)] += 1
    ranges = [f"[{points(k * width)}, {points(min((k + 1) * width, possible))}{']' if k == nbins - 1 else ')'}"
              for k in range(nbins)]
    return list(zip(ranges, bins))


def misconceptions(results, ids):
    """The misconceptions named in failed tests (extra_data.diagnosis), most widespread first."""
    diagnosed = {}
    for i in ids:
        for t in results[i].get("tests", []):
            d = (t.get("extra_data") or {}).get("diagnosis")
            if d and t.get("status") != "passed":
                entry = diagnosed.setdefault(d, {"id": d, "submissions": set(), "tests": 0, "quantities": set()})
                entry["submissions"].add(i)
                entry["tests"] += 1
                entry["quantities"].add((t.get("extra_data") or {}).get("quantity") or t.get("name", ""))
    found = sorted(diagnosed.values(), key=lambda e: (-len(e["submissions"]), e["id"]))
    for e in found:
        e["examples"] = sorted(e["submissions"], key=natural)[:5]
        e["submissions"] = len(e["submissions"])
        e["quantities"] = sorted(e["quantities"])
    return found


def errors(results, ids):
    """Submissions not graded, or with tests that errored (extra_data.error), the worst first."""
    found = []
    for i in ids:
        r = results[i]
        top = (r.get("extra_data") or {}).get("error")
        kinds = Counter((t.get("extra_data") or {}).get("error") for t in r.get("tests", []))
        kinds.pop(None, None)
        if not top and not kinds:
            continue
        what = [f"not graded: {top}"] if top else []
        what += [f"{k} in {n} test{'s' * (n > 1)}" for k, n in sorted(kinds.items())]
        found.append({"id": i, "score": float(r.get("score", 0)), "what": "; ".join(what),
                      "message": headline(r), "severity": (0 if top else 1, -sum(kinds.values()))})
    found.sort(key=lambda e: (e["severity"], natural(e["id"])))
    return found


def headline(r):
    """One line that says what went wrong: the run's own message, the import error, or the first error of a test."""
    parts = [p.strip() for p in str(r.get("output", "")).split("\n\n")
             if p.strip() and not p.strip().startswith(policies.MARKS)]  # a late penalty's paragraph on top
    if (r.get("extra_data") or {}).get("error"):
        text = parts[0] if parts else ""
    elif len(parts) > 1 and not parts[1].startswith("Tests failed in"):
        text = parts[1]  # the submission as a whole: no file, or an import that failed
    else:
        first = next((t for t in r.get("tests", []) if (t.get("extra_data") or {}).get("error")), {})
        text = first_line(first.get("output", ""))
    text = " ".join(text.replace("**", "").split())
    return text[:200] + ("…" if len(text) > 200 else "")
