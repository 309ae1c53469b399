"""What a handout must not carry: the reference's code, a hidden test, a hidden test's expected values.

    problems(a, tests, files)   [(where, what)] for the handout's files ({path: bytes}, handout_files)

Read the way a student could read the zip: any file, as text. The reference's code is looked
for line by line (its distinctive lines: not docstrings, not in the stub) and function body by
function body, whitespace aside; a hidden test by its name, its lines that no visible test
shares, and its expected values (the numbers of six or more significant digits that its fixed
cases would have).
"""
import ast
import json
import os
import re

import numpy as np

from ..config import where_of
from ..handout.cases import fixed_cases
from ..judging.protocol import untag


def problems(a, tests, files):
    shipped = {n: b.decode("utf-8", "replace") for n, b in files.items()}
    visible = [t for t in tests if t.public]
    hidden = [t for t in tests if not t.public]
    return reference_code(a, shipped) + hidden_tests(a, shipped, visible, hidden) + hidden_values(a, shipped, hidden)


def _code(line):
    return line.split("  #")[0].strip()


def reference_code(a, shipped):
    out, where = [], where_of(a.reference)
    if [n for n in shipped if n.startswith("reference")]:
        out.append((where, "the handout holds a file under reference/"))
    everything = "\n".join(shipped.values())
    if re.search(r"^\s*(from|import)\s+reference\b", everything, re.M):
        out.append((where, "a file of the handout imports `reference`: public tests must not use the solution"))
    with open(a.reference, encoding="utf-8") as f:
        source = f.read()
    with open(os.path.join(a.folder, a.student_file), encoding="utf-8") as f:
        stub_lines = [_code(line) for line in f]
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings |= set(range(body[0].lineno, body[0].end_lineno + 1))
    stub = set(stub_lines)
    code = {(i, _code(line)) for i, line in enumerate(source.splitlines(), 1) if i not in docstrings}
    distinctive = {(i, line) for i, line in code if len(line) >= 16 and not line.startswith("#") and line not in stub}
    shipped_lines = {_code(line): name for name, text in shipped.items() for line in text.splitlines()}
    for i, line in sorted(distinctive):
        if line in shipped_lines:
            out.append((f"{where}, line {i}", f"this line of the reference is in the handout's "
                                              f"{shipped_lines[line]}: {line!r}"))
    flat = re.sub(r"\s+", "", everything)
    stub_flat = re.sub(r"\s+", "", "\n".join(stub_lines))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            body = [st for st in node.body if not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant))]
            text = re.sub(r"\s+", "", "\n".join(ast.get_source_segment(source, st) or "" for st in body))
            if len(text) >= 20 and text not in stub_flat and text in flat:
                out.append((f"{where}, line {node.lineno}", f"the body of the reference's {node.name} is in the handout"))
    return out


def hidden_tests(a, shipped, visible, hidden):
    out = []
    defined = set()
    for name, text in shipped.items():
        if name.startswith("tests/test_") and name.endswith(".py"):
            defined |= {n.name for n in ast.parse(text).body
                        if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    for t in hidden:
        if t.function in defined:
            out.append((t.at, f"{t.function} is {t.visibility}, yet the handout's public tests define it"))
    data = json.loads(shipped.get("tests/support/cases.json", "{}") or "{}")
    for function in set(data.get("tests", {})) - {t.function for t in visible}:
        out.append((where_of(a.folder), f"the handout's cases.json carries {function}, which is not a visible test"))
    # no line of a hidden test's code that a visible one does not share
    open_lines = {line.strip() for t in visible for line in _source(t)}
    everything = "\n".join(shipped.values())
    for t in hidden:
        for line in _source(t):
            if len(line.strip()) >= 20 and line.strip() not in open_lines and line.strip() in everything:
                out.append((t.at, f"a line of the {t.visibility} test {t.function} is in the handout: {line.strip()!r}"))
    return out


def _source(t):
    """A graded test's decorators and body, line by line."""
    import inspect
    fn = getattr(getattr(t.test, "hypothesis", None), "inner_test", t.test)
    try:
        lines, _ = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return []
    return [line for line in lines if not line.lstrip().startswith("def ")]


def numbers(value):
    """The floats of a value, as cases.json would write them."""
    if isinstance(value, np.ndarray):
        return {repr(float(x)) for x in value.ravel()}
    if isinstance(value, dict):
        return set().union(*map(numbers, value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*map(numbers, value)) if value else set()
    return {repr(float(value))} if isinstance(value, (float, np.floating)) else set()


def telling(text):
    """A number that would not turn up by chance: at least six significant digits."""
    return len(text.lstrip("-").replace("0.", "").replace(".", "").lstrip("0")) >= 6


def hidden_values(a, shipped, hidden):
    if not hidden:
        return []
    everything = "\n".join(shipped.values())
    out = []
    for function, cases in fixed_cases(a, hidden).items():
        found = {n for c in cases for n in numbers(untag(c["expected"])) if telling(n)}
        leaked = sorted(n for n in found if n in everything)
        if leaked:
            t = next(t for t in hidden if t.function == function)
            out.append((t.at, f"expected values of the {t.visibility} test {function} are in the handout "
                              f"({', '.join(leaked[:3])})"))
    return out
