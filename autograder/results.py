"""Results in Gradescope's format: the test entries, the summary, the terminal table, the one atomic writer.

Every results.json (grade, run_autograder, batch) and every other file the grader
replaces (scores.csv, the reports, batch's bookkeeping) is written by `write_atomic`:
a reader never sees half a file, and whatever a submission left at that path is replaced.
"""
import json
import os
import tempfile

from .judging.feedback import first_line


def write_atomic(path, data, mode=0o644):
    """Replaces whatever is at `path` with `data` (str or bytes), all at once."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(path, data, sort_keys=False):
    write_atomic(path, json.dumps(data, indent=1, ensure_ascii=False, sort_keys=sort_keys) + "\n")


def write_results(results, path):
    """results.json, atomically replacing anything at `path` (a file a submission wrote there included)."""
    write_json(path, results)


NOT_YOUR_CODE = "This is not a problem with your code; course staff have been told."
GRADER_FAULTS = ("configuration", "machine", "grader")  # the run's errors that are not the student's


def failed_run(message, kind, cause=None):
    """The results of a grading that could not run: no tests, the reason; extra_data.error = kind,
    extra_data.cause = what staff need to know (the student reads only `message`)."""
    extra = {"error": kind, **({"cause": cause} if cause else {})}
    return {"score": 0.0, "output": message, "tests": [], "extra_data": extra}


def grader_faults(results):
    """Why these results are not a grade (the grader, the course's files or the machine failed): [] when they are."""
    extra = results.get("extra_data") or {}
    if extra.get("error") in GRADER_FAULTS:
        return [f"{extra['error']}: {extra.get('cause') or results.get('output', '')}"]
    broken = [t["name"] for t in results.get("tests", []) if (t.get("extra_data") or {}).get("error") == "grader"]
    return [f"grader: {len(broken)} test(s) could not run because of the grader itself ({', '.join(broken[:3])}"
            f"{', ...' if len(broken) > 3 else ''}): see the log (--log FILE)"] if broken else []


# ---- one test's entry --------------------------------------------------------------

def test_entry(name, number, points, tags, visibility, extra):
    """The fields every test entry has, before its score, status and output."""
    return {"name": name, "number": str(number), "max_score": points, "tags": list(tags),
            "visibility": visibility, "output_format": "md", "extra_data": dict(extra)}


def passed(entry, examples):
    return {**entry, "score": entry["max_score"], "status": "passed",
            "output": f"Correct on every example checked (up to {examples})."}


def failed(entry, output, **extra):
    return {**entry, "score": 0.0, "status": "failed", "output": output,
            "extra_data": {**entry["extra_data"], **extra}}


def test_order(entry):
    return [int(p) for p in entry["number"].split(".")]


# ---- the whole grading ---------------------------------------------------------------

def summary(a, tests, import_error, problem, notes=()):
    """The top of results.json: the score, what was done with the upload (notes), and what failed, by factor."""
    earned, possible = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    lines = [f"{a.title}: {earned:g} / {possible:g} points."]
    if problem:
        lines.append(problem)
    elif import_error:
        lines.append(f"Your {a.student_file} could not be imported: {import_error.get('message')}")
    failures = [t for t in tests if t["status"] == "failed"]
    if failures and not problem and not import_error:
        factors = sorted({t["extra_data"]["factor"] for t in failures})
        lines.append("Tests failed in: " + ", ".join(factors) + ". Each failed test below names the "
                     "factor, shows the smallest example that fails, and, where it can, the likely mistake.")
    if notes:  # last: the paragraph after the score stays what went wrong (the class report reads it there)
        lines.append(" ".join(notes))
    return "\n\n".join(lines)


def table(results):
    """A readable per-test table for a terminal, with each failure's first line."""
    rows = []
    for t in results.get("tests", []):
        mark = "PASS" if t["status"] == "passed" else "FAIL"
        rows.append(f"{t['number']:>4}  {mark}  {t['score']:>5g}/{t['max_score']:<5g} {t['name']}")
        if t["status"] == "failed":
            rows.append(f"{'':>13}{first_line(t['output'])[:150]}")
    possible = sum(t["max_score"] for t in results.get("tests", []))
    rows.append(f"\n{results['output']}")
    rows.append(f"Total: {results['score']:g} / {possible:g}   ({results['execution_time']:.1f} s)")
    protections = (results.get("extra_data") or {}).get("protections")
    if protections:
        rows.append(protections_line(protections))
    return "\n".join(rows)


def protections_line(protections):
    """One line: how many protections were in force, and which were missing and why."""
    missing = [f"{name} ({how[len('missing: '):]})" for name, how in protections.items() if how.startswith("missing")]
    if not missing:
        return f"Protections: all {len(protections)} in force."
    return f"Protections: {len(protections) - len(missing)} of {len(protections)} in force; missing: " + "; ".join(missing)
