"""What students really upload (autograder/uploads.py): a copy's name, a zip, a notebook, an encoding.

Correct solutions in each form get full marks (through the Gradescope path, as root); a
notebook with a mistake gets the same feedback as the .py with the same mistake, its
traceback naming the cell.
"""
import json
import os
import re
import zipfile

import pytest

from conftest import SUBMISSIONS, grade_many, run_gradescope, validate, write_mistake
from autograder import config, uploads

CORRECT = os.path.join(SUBMISSIONS, "backprop", "correct", "backprop.py")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the Gradescope path runs student code as another user: root only")


def source(path=CORRECT):
    with open(path, encoding="utf-8") as f:
        return f.read()


def colab(text):
    """A notebook as Colab saves one (nbformat 4.0, ids in cell metadata, sources as lists of lines,
    outputs kept): a text cell and a setup cell of magics, then one code cell per top-level
    definition, each after a text cell."""
    chunks, current = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("def ") and current:
            chunks.append(current)
            current = []
        current.append(line)
    chunks.append(current)
    cells = [{"cell_type": "markdown", "metadata": {"id": "intro"}, "source": ["# Homework: backprop\n"]},
             {"cell_type": "code", "execution_count": 1, "metadata": {"id": "setup"},
              "outputs": [{"output_type": "stream", "name": "stdout", "text": ["Requirement already satisfied\n"]}],
              "source": ["!pip install numpy\n", "%matplotlib inline\n", "%load_ext autoreload"]}]
    for i, chunk in enumerate(chunks):
        cells.append({"cell_type": "markdown", "metadata": {"id": f"t{i}"}, "source": [f"Part {i}\n"]})
        cells.append({"cell_type": "code", "execution_count": i + 2, "metadata": {"id": f"c{i}"}, "outputs": [],
                      "source": chunk})
    cells.append({"cell_type": "code", "execution_count": None, "metadata": {"id": "try"}, "outputs": [],
                  "source": ["link_term?\n", "print(link_term(np.eye(2)))\n", "%timeit link_term(np.eye(2))"]})
    return {"nbformat": 4, "nbformat_minor": 0,
            "metadata": {"colab": {"provenance": [], "name": "backprop.ipynb"},
                         "kernelspec": {"name": "python3", "display_name": "Python 3"},
                         "language_info": {"name": "python"}},
            "cells": cells}


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb" if isinstance(data, bytes) else "w", **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
        f.write(data)
    return path


def cell_of(notebook, needle):
    """(cell number counting every cell from 1, line in it) of the code line holding `needle`."""
    for number, cell in enumerate(notebook["cells"], start=1):
        for i, line in enumerate("".join(cell["source"]).split("\n"), start=1):
            if cell["cell_type"] == "code" and needle in line:
                return number, i
    raise AssertionError(needle)


# ---- correct solutions in every form: full marks through the Gradescope path ------------

@needs_root
@pytest.mark.parametrize("kind", ["copy-suffix", "zipped-folder", "colab-notebook"])
def test_a_correct_solution_gets_full_marks_as_students_upload_it(tmp_path, autograder_zip, kind):
    sub = str(tmp_path / "submission")
    if kind == "copy-suffix":
        write(sub, "backprop (1).py", source())
        says = "Your file is named `backprop (1).py`; it was graded as backprop.py."
    elif kind == "zipped-folder":
        os.makedirs(sub)
        with zipfile.ZipFile(os.path.join(sub, "hw3.zip"), "w") as z:
            z.writestr("hw3/backprop.py", source())
            z.writestr("hw3/notes.txt", "my notes\n")
            z.writestr("__MACOSX/hw3/._backprop.py", b"\x00\x05\x16\x07")  # what macOS's Compress adds
        says = "Your zip hw3.zip was opened: graded hw3/backprop.py from it."
    else:
        write(sub, "backprop.ipynb", json.dumps(colab(source()), indent=1))
        says = "Your notebook backprop.ipynb was graded as backprop.py: its code cells, in order"
    results, log = run_gradescope(autograder_zip, sub, str(tmp_path / "root"))
    validate(results)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) == 49, log
    assert says in results["output"]


# ---- a notebook's feedback is the .py's, its tracebacks naming cells --------------------

@pytest.fixture(scope="module")
def graded_pairs(tmp_path_factory):
    """Each mistake graded as backprop.py and as a Colab notebook: {(mistake, kind): (results, notebook)}."""
    tmp = str(tmp_path_factory.mktemp("pairs"))
    paths, notebooks = {}, {}
    for name in ("dL-dW-transposed", "softmax-jacobian-not-implemented"):
        py = write_mistake("backprop", name, os.path.join(tmp, "py"))
        notebooks[name] = colab(source(os.path.join(py, "backprop.py")))
        paths[(name, "py")] = py
        paths[(name, "ipynb")] = os.path.dirname(write(os.path.join(tmp, "nb", name), "backprop.ipynb",
                                                       json.dumps(notebooks[name])))
    syntax = "def link_term(W)\n    return W\n"
    notebooks["syntax"] = colab("import numpy as np\n\n" + syntax)
    paths[("syntax", "ipynb")] = os.path.dirname(write(os.path.join(tmp, "nb", "syntax"), "backprop.ipynb",
                                                       json.dumps(notebooks["syntax"])))
    graded = grade_many("backprop", list(paths.values()), tmp)
    return {key: (graded[path], notebooks[key[0]]) for key, path in paths.items()}


def test_a_notebook_with_a_mistake_gets_the_feedback_of_the_py(graded_pairs):
    py, _ = graded_pairs[("dL-dW-transposed", "py")]
    nb, _ = graded_pairs[("dL-dW-transposed", "ipynb")]
    assert nb["score"] == py["score"] < 49
    assert [(t["name"], t["score"], t["output"]) for t in nb["tests"]] == \
           [(t["name"], t["score"], t["output"]) for t in py["tests"]]
    assert any("Likely misconception" in t["output"] for t in nb["tests"])


def test_a_notebooks_traceback_names_the_cell_not_a_generated_line(graded_pairs):
    py, _ = graded_pairs[("softmax-jacobian-not-implemented", "py")]
    nb, notebook = graded_pairs[("softmax-jacobian-not-implemented", "ipynb")]
    cell, line = cell_of(notebook, "raise NotImplementedError")
    frame = f'File "backprop.ipynb", cell {cell}, line {line}, in softmax_jacobian'
    raised = [t for t in nb["tests"] if "NotImplementedError" in t["output"] or "not implemented" in t["output"]]
    assert raised and all(frame in t["output"] for t in raised if "File " in t["output"])
    assert any(frame in t["output"] for t in raised)
    assert not any('File "backprop.py"' in t["output"] for t in nb["tests"])
    by_name = {t["name"]: t for t in py["tests"]}
    for t in nb["tests"]:  # the same words, but where: the .py's line, the notebook's cell
        mine = re.sub(r'File "backprop.ipynb", cell \d+, line \d+', "WHERE", t["output"])
        theirs = re.sub(r'File "backprop.py", line \d+', "WHERE", by_name[t["name"]]["output"])
        assert (t["score"], mine) == (by_name[t["name"]]["score"], theirs), t["name"]


def test_a_syntax_error_in_a_notebook_names_its_cell(graded_pairs):
    nb, notebook = graded_pairs[("syntax", "ipynb")]
    cell, line = cell_of(notebook, "def link_term(W)")
    assert nb["score"] == 0
    assert f"(cell {cell}, line {line}: def link_term(W))" in nb["output"]
    assert f"(cell {cell}, line {line}: def link_term(W))" in nb["tests"][0]["output"]


# ---- names and encodings, through `grade` -----------------------------------------------

@pytest.fixture(scope="module")
def graded_files(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("files"))
    text = source().replace("import numpy as np\n", 'import numpy as np\nNOTE = "Dérivées, café"\n', 1)
    assert "café" in text  # in a string, not only a comment: Python must decode it
    data = {"bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
            "crlf": text.replace("\n", "\r\n").encode("utf-8"),
            "latin-1": ("# -- écrit sous Windows --\n" + text).encode("cp1252"),
            "utf-16": text.encode("utf-16")}
    paths = {kind: os.path.dirname(write(os.path.join(tmp, kind), "backprop.py", b)) for kind, b in data.items()}
    paths["dash-2"] = write(os.path.join(tmp, "single"), "backprop-2.py", source())  # one file, as `grade` gets it
    graded = grade_many("backprop", list(paths.values()), tmp)
    return {kind: graded[path] for kind, path in paths.items()}


@pytest.mark.parametrize("kind, note", [
    ("bom", None), ("crlf", None),
    ("latin-1", "is not saved as UTF-8, the encoding Python reads: it was read as Latin-1 (Windows-1252)"),
    ("utf-16", "it was read as UTF-16"),
    ("dash-2", "Your file is named `backprop-2.py`; it was graded as backprop.py."),
])
def test_names_and_encodings_students_use_get_full_marks(graded_files, kind, note):
    results = graded_files[kind]
    validate(results)
    assert results["score"] == 49, results["output"]
    if note:
        assert note in results["output"]
    else:
        assert results["output"] == "Backpropagation, factor by factor: 49 / 49 points."


# ---- the rules, without grading ------------------------------------------------------

A = config.find("backprop")


def test_copy_names_are_recognised_and_others_are_not():
    for name in ("backprop (1).py", "backprop(2).py", "backprop-2.py", "backprop_3.py", "backprop copy.py",
                 "backprop - Copy.py", "backprop copy 2.py", "Backprop.py", "backprop (1) (2).py"):
        assert uploads.is_copy_name(name, ["backprop.py"]), name
    for name in ("backprop.py", "backprop_old.py", "my_backprop.py", "backprop.py.txt", "backprop2-final.py"):
        assert not uploads.is_copy_name(name, ["backprop.py"]), name
    assert uploads.is_copy_name("Copy of backprop.ipynb", ["backprop.py"], ".ipynb")


def test_the_shallowest_best_stand_in_is_chosen_and_two_are_refused(tmp_path):
    write(str(tmp_path / "a"), "backprop (1).py", "x = 1\n")
    write(str(tmp_path / "a"), "backprop.ipynb", "{}")
    write(str(tmp_path / "a" / "old"), "backprop (2).py", "x = 2\n")
    assert uploads.find_stand_in(str(tmp_path / "a"), A) == (str(tmp_path / "a" / "backprop (1).py"), None)
    write(str(tmp_path / "b"), "Untitled3.ipynb", "{}")
    assert uploads.find_stand_in(str(tmp_path / "b"), A)[0].endswith("Untitled3.ipynb")  # the only notebook
    write(str(tmp_path / "c"), "backprop (1).py", "x = 1\n")
    write(str(tmp_path / "c"), "backprop (2).py", "x = 2\n")
    path, problem = uploads.find_stand_in(str(tmp_path / "c"), A)
    assert path is None and "more than one file that could be it (backprop (1).py, backprop (2).py)" in problem
    write(str(tmp_path / "d"), "helpers.py", "x = 1\n")
    from autograder.core import locate  # the existing message where nothing stands in
    assert locate(str(tmp_path / "d"), A) == (None, "Your submission has no file named backprop.py "
                                                    "(found: helpers.py). Upload backprop.py.")


def test_ipython_lines_are_dropped_and_python_is_kept_line_for_line():
    cell = ("%matplotlib inline\n!pip install numpy\nfiles = !ls\nnp.dot?\n??np.sum\nx = (1\n     % 2)\n"
            "def f(a):\n    \"\"\"Docstring\n    % of a\n    !important\n    \"\"\"\n    !echo hi\n    return a != 2")
    assert uploads.python_lines(cell) == [
        "", "", "", "", "", "x = (1", "     % 2)", "def f(a):", '    """Docstring', "    % of a", "    !important",
        '    """', "    pass", "    return a != 2"]
    assert uploads.python_lines("%%bash\necho hi") == ["", ""]
    assert uploads.python_lines("%%time\nx = 1") == ["", "x = 1"]


def test_the_line_map_rewrites_tracebacks_and_import_errors_only():
    m = uploads.LineMap("hw.ipynb", "backprop.py", [(2, 1), (2, 2), None, (4, 1)])
    text = ('  File "backprop.py", line 4, in f\n    return W.T\n'
            "**Your backprop.py could not be imported:** SyntaxError: invalid syntax (line 2: def f(x)).\n"
            "Your code printed: line 4")
    assert m.rewrite(text) == ('  File "hw.ipynb", cell 4, line 1, in f\n    return W.T\n'
                               "**Your backprop.py could not be imported:** SyntaxError: invalid syntax "
                               "(cell 2, line 2: def f(x)).\nYour code printed: line 4")
    assert m.rewrite('File "other.py", line 4') == 'File "other.py", line 4'


def test_unreadable_uploads_say_what_to_do(tmp_path):
    bad = write(str(tmp_path / "nb"), "backprop.ipynb", "{not json")
    up = uploads.prepare(os.path.dirname(bad), A)
    assert up.path is None and "could not be read as a Jupyter notebook" in up.problem
    z = str(tmp_path / "evil.zip")
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("../backprop.py", "x = 1\n")
    up = uploads.prepare(z, A)
    assert up.path is None and "Your zip evil.zip could not be opened: unsafe path in the zip" in up.problem
    assert not (tmp_path / "backprop.py").exists()
    inner = str(tmp_path / "outer.zip")
    with zipfile.ZipFile(inner, "w") as f:
        f.writestr("inner.zip", open(z, "rb").read())
    assert "Your zip holds another zip (inner.zip)" in uploads.prepare(inner, A).problem


def test_staging_is_removed_and_plain_files_are_not_staged(tmp_path):
    plain = uploads.prepare(os.path.dirname(CORRECT), A)
    assert plain.path == CORRECT and plain.folders == [] and plain.notes == []
    write(str(tmp_path / "s"), "backprop (1).py", source())
    write(str(tmp_path / "s"), "helpers.py", "H = 1\n")
    with uploads.prepare(str(tmp_path / "s"), A) as up:
        staged = up.folders[0]
        assert sorted(os.listdir(staged)) == ["backprop (1).py", "backprop.py", "helpers.py"]
    assert not os.path.exists(staged)


def test_check_runs_the_public_tests_on_a_notebook(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    folder = os.path.dirname(write(str(tmp_path / "nb"), "Copy of backprop.ipynb", json.dumps(colab(source()))))
    done = subprocess.run([sys.executable, "-m", "autograder", "check", "backprop", folder], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout and "failed" not in done.stdout
