"""What each graded submission and each public-test run must give, checked against what it gave.

    graded(run, where)            [(where, what)] for one grading: the reference and every correct file
                                  get full marks and no diagnosis; the stub fails every test as not
                                  implemented; a mistake loses points on exactly its `breaks` and gets
                                  its `diagnosis` (or none, where it declares null)
    triggered(catalogue, runs)    [(where, what)]: the entries that no corpus mistake made the grader name
    public(run, visible, where)   [(where, what)] for one public-test run: the stub fails every public test
                                  as not implemented, the reference and every correct file pass them all,
                                  and a mistake fails only public tests of what it breaks (and at least
                                  one, when it breaks a quantity that has a visible test)
"""
from ..judging.feedback import first_line

NOT_IMPLEMENTED = "is not implemented yet"


def failed(results):
    return [t for t in results["tests"] if t["status"] == "failed"]


def graded(run, where):
    r, out = run.results, []
    if run.error:
        return [(where, f"{run.label}: not graded: {run.error}")]
    if run.role in ("reference", "correct"):
        lost = failed(r)
        if lost or r["score"] != sum(t["max_score"] for t in r["tests"]):
            first = lost[0] if lost else {"name": "?", "output": r.get("output", "")}
            out.append((where, f"{run.label} gets {r['score']:g} of {sum(t['max_score'] for t in r['tests']):g} "
                               f"points, not full marks: {first['name']}: {first_line(first['output'])}"))
        found = sorted({t["extra_data"].get("diagnosis") for t in r["tests"]} - {None})
        if found:
            out.append((where, f"{run.label} is diagnosed with {', '.join(found)}: a correct file never is"))
        return out
    if run.role == "stub":
        if not r["tests"]:
            return [(where, f"the stub was not graded: {first_line(r.get('output', ''))}")]
        for t in r["tests"]:
            if t["status"] != "failed" or NOT_IMPLEMENTED not in t["output"]:
                out.append((where, f"the stub's {t['name']}: {t['status']} without \"not implemented\" "
                                   f"({first_line(t['output']) or 'no message'}); every function of the stub "
                                   f"raises NotImplementedError"))
        return out
    m = run.mistake
    lost = sorted({t["extra_data"]["quantity"] for t in failed(r)})
    if lost != sorted(m.breaks):
        out.append((where, f"mistake {m.name!r} loses points on [{', '.join(lost)}], but the corpus says it breaks "
                           f"[{', '.join(sorted(m.breaks))}]"))
    found = sorted({t["extra_data"].get("diagnosis") for t in failed(r)} - {None})
    want = [m.diagnosis] if m.diagnosis else []
    if found != want:
        out.append((where, f"mistake {m.name!r} is diagnosed as [{', '.join(found)}], but the corpus says "
                           f"{m.diagnosis or 'null (none)'}"))
    return out


def triggered(catalogue, runs):
    seen = {(t["extra_data"].get("diagnosis"), t["extra_data"]["quantity"])
            for run in runs if run.kind == "grade" and run.role == "mistake" and run.results
            for t in failed(run.results)}
    return [(f"{e.file}, line {e.line}", f"entry {e.id!r} ({', '.join(e.quantities)}) is named for no corpus "
                                          f"mistake: add one that shows it, so that validate proves it is found")
            for e in catalogue if not any((e.id, q) in seen for q in e.quantities)]


def public(run, visible, where):
    if run.error:
        return [(where, f"the public tests on {run.label} did not run: {run.error}")]
    functions = {t.function: t for t in visible}
    out = []
    if set(run.outcomes) != set(functions):
        missing, extra = sorted(set(functions) - set(run.outcomes)), sorted(set(run.outcomes) - set(functions))
        out.append((where, f"the public tests on {run.label}: ran [{', '.join(sorted(run.outcomes))}]"
                           + (f"; missing {', '.join(missing)}" if missing else "")
                           + (f"; not visible tests: {', '.join(extra)}" if extra else "")))
    bad = {f: o for f, o in run.outcomes.items() if o[0] != "passed"}
    if run.role == "stub":
        for f, (kind, text) in sorted(run.outcomes.items()):
            if kind != "failure" or NOT_IMPLEMENTED not in text:
                out.append((where, f"the public test {f} on the stub: {kind} without \"not implemented yet\" "
                                   f"({_first(text)})"))
    elif run.role in ("reference", "correct"):
        for f, (kind, text) in sorted(bad.items()):
            out.append((where, f"the public test {f} fails on {run.label}: {_first(text)}"))
    else:
        m = run.mistake
        blamed = sorted(f for f in bad if f in functions and functions[f].quantity not in m.breaks)
        if blamed:
            out.append((where, f"mistake {m.name!r}: the public tests {', '.join(blamed)} fail, but it leaves "
                               f"{', '.join(sorted({functions[f].quantity for f in blamed}))} right"))
        catchable = {t.quantity for t in visible} & set(m.breaks)
        if catchable and not bad:
            out.append((where, f"mistake {m.name!r} breaks {', '.join(sorted(catchable))}, which public tests "
                               f"check, yet every public test passes on it: they would not warn a student"))
    return out


def _first(text):
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return (lines[0][:200] if lines else "no message").replace("**", "")
