"""`python -m autograder new NAME [--style function|module]`: a small working assignment to grow.

    new(name, style)   writes, under the checkout, from templates/STYLE/ (paths and text with
                       `__name__` and `{{name}}` replaced by NAME):

        assignments/NAME/   assignment.yaml (commented), the stub NAME.py, inputs.py,
                            tests/test_NAME.py (one graded test), public/test_NAME.py (its
                            public test) and public/cases.yaml, misconceptions.yaml (one entry)
        reference/NAME.py   the course's solution
        tests/submissions/NAME/   the corpus: correct/NAME.py and one mistake in corpus.yaml

It validates and grades out of the box (tests/test_authoring.py holds it to that), and it
never overwrites anything: where any of those paths exists, nothing is written.
"""
import keyword
import os
import sys

from ..config import ROOT

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
STYLES = ("function", "module")
# Names a student file cannot take: they would shadow what the grader, the tests or numpy import.
TAKEN = {"numpy", "np", "pytest", "hypothesis", "yaml", "autograder", "reference", "inputs", "support", "tests",
         "conftest", "public", "student", "gradescope_utils", "psutil", "tqdm", "nbformat"}


class ScaffoldError(Exception):
    """`new` cannot write this assignment: the message says why and what to do."""


def refuse(name, root):
    """Why NAME cannot be a new assignment here, or None."""
    if not name.isidentifier() or keyword.iskeyword(name) or name != name.lower():
        return (f"{name!r} cannot name an assignment: it becomes the student file {name}.py and its module, "
                f"so it must be a lowercase Python name (letters, digits, underscores), e.g. batch_norm")
    if name in TAKEN or name in sys.stdlib_module_names:
        return f"{name!r} is the name of a module students' code or the grader imports; choose another"
    for rel in (os.path.join("assignments", name), os.path.join("reference", name + ".py"),
                os.path.join("tests", "submissions", name)):
        if os.path.exists(os.path.join(root, rel)):
            return (f"{rel} already exists: `new` never overwrites an assignment; choose another name, "
                    f"or remove what is there")
    return None


def new(name, style="function", root=ROOT):
    """Writes the assignment; returns the paths written (relative to root). Raises ScaffoldError."""
    if style not in STYLES:
        raise ScaffoldError(f"--style must be one of {', '.join(STYLES)}, not {style!r}")
    why = refuse(name, root)
    if why:
        raise ScaffoldError(why)
    base = os.path.join(TEMPLATES, style)
    written = []
    for folder, _, files in sorted(os.walk(base)):
        for f in sorted(files):
            if not f.endswith(".tmpl"):
                continue
            source = os.path.join(folder, f)
            rel = os.path.relpath(source, base)[:-len(".tmpl")].replace("__name__", name)
            with open(source, encoding="utf-8") as src:
                text = src.read().replace("{{name}}", name)
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "x", encoding="utf-8") as out:  # "x": never over something that appeared meanwhile
                out.write(text)
            written.append(rel)
    return sorted(written)
