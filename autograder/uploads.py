"""What students really upload, made into the one file the grader expects.

    find_stand_in(submission, a)   no file has the expected name: a copy of it (`backprop (1).py`),
                                   a notebook or a zip that stands in for it (core.locate asks)
    prepare(submission, a)         the Upload to grade: core.locate's file, staged when it had to
                                   change (a copy's name, a zip opened, a notebook converted, an
                                   encoding Python cannot read), with a note for the student

A notebook is graded as the student file: its code cells in order, with IPython's magics
and shell lines (`%`, `%%`, `!`, `?` help) left out, one generated line per line of a cell,
so that `LineMap` (the one place that knows the cells) turns every `File "backprop.py",
line N` of the feedback back into `cell C, line L` of the notebook.
"""
import io
import os
import re
import shutil
import tempfile
import tokenize
import warnings
from dataclasses import dataclass, field

from . import archives

COPY_LIMIT = 10 * 2**20  # a student's other files beyond this size are not staged (as the sandbox does)
NOTEBOOK_LIMIT = 64 * 2**20  # a notebook is parsed by the grader: bounded (outputs and images included)
# What browsers, file managers and Colab add to a file's name when they make a copy of it:
# `backprop (1).py`, `backprop-2.py`, `backprop_2.py`, `backprop copy.py`, `backprop - Copy.py`,
# `Copy of backprop.ipynb`.
COPY_MARK = r"(?:\s*\(\d+\)|[-_ ]\d+|\s*-\s*copy(?:\s*\(\d+\))?|\s+copy(?:\s+\d+)?)"
# Cell magics whose body is Python (it runs as written without the magic); any other cell
# magic (%%bash, %%writefile, %%html, ...) makes the whole cell something else, left out.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
HELP_LINE = re.compile(r"^(\?{1,2}[\w.*]+|[A-Za-z_][\w.*]*(\(\))?\?{1,2})$")  # ?np.dot, np.dot??
MAGIC_ASSIGNMENT = re.compile(r"^[\w\s,.\[\]()*]+=\s*[!%]")  # files = !ls, t = %timeit -o f()
NOTEBOOK_NOTE = ("Your notebook {name} was graded as {student}: its code cells, in order, without "
                 "IPython magics and shell lines (those starting with `%`, `!` or `?`). Tracebacks "
                 "name its cells, counted from the top, text cells included.")


@dataclass
class LineMap:
    """Lines of a generated student file back to the notebook's cells: the one place that knows them."""
    notebook: str      # the notebook's file name, as the student knows it
    generated: str     # the generated file's name (the student file: backprop.py)
    cells: list        # for generated line i + 1: (cell number, line in that cell), or None

    def where(self, line):
        """`cell C, line L` for a line of the generated file, or None for a line between cells."""
        if 1 <= line <= len(self.cells) and self.cells[line - 1]:
            cell, within = self.cells[line - 1]
            return f"cell {cell}, line {within}"
        return None

    def rewrite(self, text):
        """Feedback with every location in the generated file given as the notebook's cell and line."""
        frame = re.compile(r'File "' + re.escape(self.generated) + r'", line (\d+)')
        text = frame.sub(lambda m: f'File "{self.notebook}", {self.where(int(m[1])) or m[0][m[0].index("line"):]}',
                         text)
        # An import that failed names lines in its message (SyntaxError's "(line 12: ...)",
        # IndentationError's "after function definition on line 11").
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if "could not be imported" in line:
                lines[i] = re.sub(r"\bline (\d+)\b", lambda m: self.where(int(m[1])) or m[0], line)
        return "\n".join(lines)


@dataclass
class Upload:
    """The student file to grade (None when there is none), and what the student should be told."""
    path: str = None
    problem: str = None                          # why nothing can be graded, for the student
    notes: list = field(default_factory=list)    # what was done with the upload, for the student
    lines: LineMap = None                        # a notebook's cells, when the file was generated
    folders: list = field(default_factory=list)  # staging folders, removed by close()

    def rewrite(self, text):
        return self.lines.rewrite(text) if self.lines else text

    def close(self):
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.folders = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- finding what stands in for the student file ------------------------------------

def stem_and_ext(name):
    stem, ext = os.path.splitext(name)
    return stem, ext


def is_copy_name(filename, names, ext=None):
    """`backprop (1).py` for backprop.py (any case; ext: the extension wanted instead, e.g. .ipynb)."""
    for name in names:
        stem, own = stem_and_ext(name)
        pattern = rf"(?:copy of\s+)?{re.escape(stem)}{COPY_MARK}*{re.escape(ext or own)}"
        if re.fullmatch(pattern, filename, re.IGNORECASE) and filename != name:
            return True
    return False


def kind_of(filename, names, sole_notebook):
    """0: a copy of the student file, 1: its notebook, 2: the only notebook, 3: a zip; None: nothing."""
    if filename.endswith(".py") and is_copy_name(filename, names):
        return 0
    if filename.lower().endswith(".ipynb"):
        return 1 if is_copy_name(filename, names, ".ipynb") or any(
            filename == stem_and_ext(n)[0] + ".ipynb" for n in names) else (2 if sole_notebook else None)
    if filename.lower().endswith(".zip"):
        return 3
    return None


def walk(folder):
    """(path, depth) of every file, skipping hidden and dunder folders (.ipynb_checkpoints, __MACOSX)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        depth = os.path.relpath(root, folder).count(os.sep) + (root != folder)
        for f in sorted(files):
            if not f.startswith("."):
                yield os.path.join(root, f), depth


def find_stand_in(submission, a):
    """What stands in for the student file when none has its name: (path, None), (None, problem) or (None, None).

    A single file: a copy's name, any notebook or any zip. A folder: the shallowest of those
    (a copy of the .py first, then the notebook, then the only notebook, then a zip).
    """
    names = [a.student_file] + list(a.also_accept)
    if os.path.isfile(submission):
        name = os.path.basename(submission)
        kind = kind_of(name, names, sole_notebook=True)
        return (submission, None) if kind is not None else (None, None)
    files = list(walk(submission))
    notebooks = [p for p, _ in files if p.lower().endswith(".ipynb")]
    ranked = sorted((depth, kind, path) for path, depth in files
                    for kind in [kind_of(os.path.basename(path), names, len(notebooks) == 1)] if kind is not None)
    if not ranked:
        return None, None
    best = [path for depth, kind, path in ranked if (depth, kind) == ranked[0][:2]]
    if len(best) == 1:
        return best[0], None
    shown = ", ".join(os.path.relpath(p, submission) for p in best)
    return None, (f"Your submission has no file named {a.student_file}, and more than one file that could be it "
                  f"({shown}); upload exactly one, named {a.student_file}.")


# ---- making it the student file -----------------------------------------------------

def prepare(submission, a):
    """The Upload to grade for a submission (a file or a folder): never raises for what a student uploads."""
    from .core import locate  # core asks find_stand_in; this asks core's locate
    path, problem = locate(submission, a)
    if problem or not path:
        return Upload(problem=problem)
    return make_gradable(path, a, within=os.path.dirname(path) if os.path.isdir(submission) else None)


def make_gradable(path, a, within=None, zipped=False):
    name = os.path.basename(path)
    if name.lower().endswith(".zip"):
        return open_zip(path, a, zipped)
    if name.lower().endswith(".ipynb"):
        return from_notebook(path, a, within)
    with open(path, "rb") as f:
        data = f.read()
    text, encoding = decode(data)
    names = [a.student_file] + list(a.also_accept)
    notes = []
    if name not in names:
        notes.append(f"Your file is named `{name}`; it was graded as {a.student_file}. "
                     f"Name it {a.student_file} next time.")
    if encoding:
        notes.append(f"Your {a.student_file} is not saved as UTF-8, the encoding Python reads: it was read as "
                     f"{encoding}, so check that its accented letters and symbols look as you wrote them, "
                     "and save it as UTF-8 next time.")
    if not notes:
        return Upload(path)  # the student file as it is: nothing staged
    target = name if name in names else a.student_file
    upload = staged(within, a)
    upload.path = os.path.join(upload.folders[0], target)
    if encoding:
        with open(upload.path, "w", encoding="utf-8", newline="") as f:
            f.write(without_coding_cookie(text))
    else:
        shutil.copyfile(path, upload.path)  # its own bytes: a coding cookie stays true
    upload.notes = notes
    return upload


def staged(within, a):
    """A fresh staging folder holding the student's other files (from `within`, the student file's folder)."""
    folder = tempfile.mkdtemp(prefix="autograder-upload-")
    os.chmod(folder, 0o755)
    if within:
        for root, dirs, files in os.walk(within):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git") and not os.path.islink(os.path.join(root, d))]
            for f in files:
                source = os.path.join(root, f)
                if os.path.islink(source) or not os.path.isfile(source) or os.path.getsize(source) > COPY_LIMIT:
                    continue
                dest = os.path.join(folder, os.path.relpath(source, within))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(source, dest)
    return Upload(folders=[folder])


def open_zip(path, a, zipped):
    name = os.path.basename(path)
    if zipped:
        return Upload(problem=f"Your zip holds another zip ({name}); upload {a.student_file} itself, or one zip of your folder.")
    upload = staged(None, a)
    try:
        archives.safe_extract(path, upload.folders[0], archives.UPLOAD_LIMITS)
    except archives.UnsafeArchive as exc:
        upload.close()
        reason = str(exc).split(": ", 1)[-1]
        return Upload(problem=f"Your zip {name} could not be opened: {reason}. Upload {a.student_file} itself instead.")
    from .core import locate
    found, problem = locate(upload.folders[0], a)
    if problem or not found:
        upload.close()
        return Upload(problem=problem)
    inner = make_gradable(found, a, within=os.path.dirname(found), zipped=True)
    inner.folders += upload.folders
    if not inner.problem:
        inner.notes.insert(0, f"Your zip {name} was opened: graded {os.path.relpath(found, upload.folders[0])} from it.")
    return inner


# ---- encodings --------------------------------------------------------------------

def decode(data):
    """(text, None) when Python reads these bytes as they are (UTF-8, a BOM, CRLF, a coding cookie);
    else (text, the encoding they were read as)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # a coding cookie that names no encoding Python knows
        encoding = "utf-8"
    try:
        return data.decode(encoding), None
    except (UnicodeDecodeError, LookupError):
        pass
    try:
        return data.decode("cp1252"), "Latin-1 (Windows-1252)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1 (ISO-8859-1)"


def without_coding_cookie(text):
    """The text re-saved as UTF-8 must not declare another encoding (PEP 263: the first two lines)."""
    lines = text.lstrip("\ufeff").split("\n")
    for i in range(min(2, len(lines))):
        if re.match(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", lines[i]):
            lines[i] = "# (encoding declaration removed: the file was read and re-saved as UTF-8)"
    return "\n".join(lines)


# ---- notebooks ----------------------------------------------------------------------

class NotebookError(Exception):
    """The file is not a notebook nbformat can read."""


def from_notebook(path, a, within):
    name = os.path.basename(path)
    try:
        if os.path.getsize(path) > NOTEBOOK_LIMIT:
            raise NotebookError(f"it is larger than {NOTEBOOK_LIMIT >> 20} MB; clear its outputs")
        with open(path, "rb") as f:
            source, cells = notebook_source(f.read())
    except (NotebookError, OSError) as exc:
        return Upload(problem=f"Your notebook {name} could not be read as a Jupyter notebook ({exc}). "
                              f"Download it again (File → Download → .ipynb), or upload {a.student_file}.")
    if not any(cells):
        return Upload(problem=f"Your notebook {name} has no code cells.")
    upload = staged(within, a)
    upload.path = os.path.join(upload.folders[0], a.student_file)
    with open(upload.path, "w", encoding="utf-8") as f:
        f.write(source)
    upload.lines = LineMap(name, a.student_file, cells)
    upload.notes = [NOTEBOOK_NOTE.format(name=name, student=a.student_file)]
    return upload


def notebook_source(data):
    """(the Python source of a notebook's code cells, [(cell, line) or None per generated line]).

    Read by nbformat (any notebook format version, converted to version 4); every cell is
    counted, markdown included, as a student counts them from the top.
    """
    import logging

    import nbformat
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not UTF-8: {exc.reason}") from None
    quiet = logging.getLogger("traitlets")  # nbformat logs, rather than raises, a schema it does not like
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
        cells = [(c.get("cell_type"), c.get("source", "")) for c in notebook.cells]
    except Exception as exc:  # not JSON, not a notebook, a version nbformat does not know
        raise NotebookError(str(exc).split("\n")[0][:200] or type(exc).__name__) from None
    finally:
        quiet.setLevel(level)
    lines, where = [], []
    for number, (kind, cell) in enumerate(cells, start=1):
        if kind != "code":
            continue
        cell = cell if isinstance(cell, str) else "".join(cell)
        for i, line in enumerate(python_lines(cell), start=1):
            lines.append(line)
            where.append((number, i))
        lines.append("")
        where.append(None)
    return "\n".join(lines) + "\n", where


def python_lines(cell):
    """A code cell's lines as Python, one for one: IPython-only lines become blank (or `pass` inside a block)."""
    lines = cell.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0].strip()
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return [""] * len(lines)  # %%bash, %%writefile, %%html...: not Python
        lines[0] = ""
    starts, reached = statement_rows(cell)
    out = []
    for row, line in enumerate(lines, start=1):
        stripped = line.strip()
        ipython = stripped.startswith(("%", "!")) or HELP_LINE.match(stripped) or MAGIC_ASSIGNMENT.match(stripped)
        if ipython and (row in starts or row > reached):
            indent = line[:len(line) - len(line.lstrip())]
            out.append(indent + "pass" if indent else "")
        else:
            out.append(line)
    return out


def statement_rows(cell):
    """(rows where a statement begins, the last row tokenize reached).

    Only a line that begins a statement can be IPython's: a line inside a multi-line string
    (a docstring's `% of ...`) or inside brackets (`(a\n % b)`) is Python, whatever it starts with.
    Rows past what tokenize could read (an unclosed bracket) are judged line by line.
    """
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    starts, reached, at_start = set(), 0, True
    try:
        for token in tokenize.generate_tokens(io.StringIO(cell).readline):
            if token.type not in skip:
                if at_start:
                    starts.add(token.start[0])
                at_start = token.type == tokenize.NEWLINE
            reached = max(reached, token.end[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return starts, reached
