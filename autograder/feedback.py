"""Judging one answer: read it back from plain data, compare it, name the misconception, say it in markdown.

This is the only place that decides whether a student's value is right, and the only
place that writes what a student reads about it. Local grading, Gradescope and the
public tests all go through it.
"""
import os
from dataclasses import dataclass

import numpy as np

FACTORS = {  # the notes' words for each kind of factor, as students read them
    "loss-unit": "the loss unit ∂L/∂a^L",
    "within-layer": "the within-layer term ∂a^ℓ/∂z^ℓ (the activation's derivative)",
    "link-term": "the link term ∂z^ℓ/∂a^(ℓ-1), which carries the chain back one layer",
    "weight-term": "the weight term ∂z^ℓ/∂w^ℓ, which ends the chain at layer ℓ's weights",
    "chain-step": "one step of the chain rule",
    "forward": "the forward pass",
    "end-to-end": "the whole chain, end to end",
    "update": "the gradient-descent update",
}


class Unreadable(Exception):
    """The student's value is not numbers in a form that can stand for the expected one."""


# ---- reading a student's value back --------------------------------------------

def readback(tree, like):
    """The worker's plain tree as a structure shaped like `like` (float, ndarray, list, tuple, dict)."""
    if "unreadable" in tree:
        raise Unreadable(tree["unreadable"])
    if isinstance(like, dict):
        if "dict" not in tree:
            raise Unreadable("it is not a dict")
        got = tree["dict"]
        return {k: readback(got[k], v) if k in got else Missing(k) for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        if "list" in tree:
            items = tree["list"]
        elif "array" in tree and tree["array"][0] and tree["array"][0][0] == len(like):
            shape, flat = tree["array"]
            items = [{"array": [shape[1:], list(chunk)]}
                     for chunk in np.array(flat).reshape(shape[0], -1)]
        else:
            raise Unreadable(f"it is not a list of {len(like)} items")
        if len(items) != len(like):
            raise Unreadable(f"it has {len(items)} items where {len(like)} were expected")
        return type(like)(readback(t, l) for t, l in zip(items, like))
    if "list" in tree:  # a list of equal-shaped arrays stands for an array
        try:
            return np.stack([readback(t, np.zeros(0)) for t in tree["list"]])
        except (ValueError, Unreadable):
            raise Unreadable("it is a list of arrays of different shapes, not one array") from None
    if "array" not in tree:
        raise Unreadable("it is not an array of numbers")
    shape, flat = tree["array"]
    arr = np.array(flat, dtype=np.float64).reshape(shape)
    if isinstance(like, float):
        if arr.size != 1:
            raise Unreadable(f"it has shape {shape_text(arr.shape)} where a single number was expected")
        return float(arr.reshape(()))
    return arr


@dataclass
class Missing:
    key: str


# ---- comparing -------------------------------------------------------------------

@dataclass
class Mismatch:
    path: str        # where in the answer: "", "[1]", "['dL_da1']"
    what: str        # one sentence for the student
    expected: object = None
    got: object = None


def compare(expected, got, rtol, atol, path=""):
    """None when `got` is `expected` within tolerance; else the first Mismatch."""
    if isinstance(got, Missing):
        return Mismatch(path, f"the key {got.key!r} is missing")
    if isinstance(expected, dict):
        for k in expected:
            m = compare(expected[k], got[k], rtol, atol, f"{path}[{k!r}]")
            if m:
                return m
        return None
    if isinstance(expected, (list, tuple)):
        for i, (e, g) in enumerate(zip(expected, got)):
            m = compare(e, g, rtol, atol, f"{path}[{i}]")
            if m:
                return m
        return None
    e, g = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if e.shape != g.shape:
        return Mismatch(path, f"the shape is {shape_text(g.shape)}, but it should be {shape_text(e.shape)}",
                        expected, got)
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f" at {index_text(where)}" if where else ""
        return Mismatch(path, f"it contains {g[where]}{at}", expected, got)
    # Relative to each entry, but never tighter than to a tenth of the largest: float32
    # arithmetic errs relative to the magnitudes it sums, not to a small result.
    scale = np.maximum(np.abs(e), 0.1 * np.abs(e).max(initial=0.0))
    close = (np.abs(g - e) <= atol + rtol * scale) | (g == e)
    if not close.all():
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        at = f"at {index_text(where)} " if where else ""
        return Mismatch(path, f"{at}it is {number(g[where])}, but it should be {number(e[where])}",
                        expected, got)
    return None


# ---- naming the misconception ----------------------------------------------------

@dataclass
class Misconception:
    id: str
    quantities: list
    wrong: str       # a Python expression over the inputs, `expected`, `np`, `ref`, `with_factors`
    says: str        # one or two sentences, in the notes' notation


def load_catalogue(path):
    """The assignment's misconceptions.yaml: a list of {id, in, wrong, says}."""
    if not path or not os.path.exists(path):
        return []
    import yaml  # only the grader reads catalogues: the students' copy of this module needs numpy alone

    with open(path, encoding="utf-8") as f:
        entries = yaml.safe_load(f) or []
    return [Misconception(e["id"], list(e["in"]), str(e["wrong"]), " ".join(str(e["says"]).split()))
            for e in entries]


def with_factors(fn, **replacements):
    """fn from the reference, run with some of its module's factor functions replaced.

    The catalogue uses it to compute what a student who got one factor wrong returns:
    `with_factors(ref.backprop, dL_dz=lambda dL_da, da_dz: dL_da)(x, y, Ws, W0s, activations, loss)`.
    """
    module = fn.__globals__

    def run(*args, **kwargs):
        saved = {k: module[k] for k in replacements}
        module.update(replacements)
        try:
            return fn(*args, **kwargs)
        finally:
            module.update(saved)
    return run


def evaluate(text, names):
    """A catalogue's `wrong`: an expression, or statements that set `wrong` (staff-written, trusted)."""
    try:
        return eval(compile(text, "<misconception>", "eval"), names)
    except SyntaxError:
        exec(compile(text, "<misconception>", "exec"), names)
        return names["wrong"]


def diagnose(catalogue, quantity, instances, reference, rtol, atol):
    """The misconception that explains every instance and changes at least one answer, if only one does.

    instances: [(inputs, expected, got)]. An entry whose wrong answer equals the right one
    on every instance (a symmetric W makes Wᵀ = W) proves nothing and is not reported; nor is
    anything when two misconceptions explain the example equally well (with b = 2, averaging
    over the batch and dropping the square loss's 2 give the same numbers): another regime
    of the same function tells them apart.
    """
    found = [entry for entry in catalogue if explains(entry, quantity, instances, reference, rtol, atol)]
    return found[0] if len({entry.id for entry in found}) == 1 else None


def explains(entry, quantity, instances, reference, rtol, atol):
    if quantity not in entry.quantities:
        return False
    telling = False
    for inputs, expected, got in instances:
        names = {**inputs, "expected": expected, "np": np, "ref": reference, "with_factors": with_factors}
        try:
            wrong = evaluate(entry.wrong, names)
            with np.errstate(all="ignore"):
                if compare(wrong, got, rtol, atol) is not None:
                    return False
                telling = telling or compare(expected, wrong, rtol, atol) is not None
        except Exception:
            return False
    return telling


# ---- saying it -------------------------------------------------------------------

def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def index_text(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def number(x):
    return np.format_float_positional(float(x), precision=6, trim="-") if np.isfinite(x) else str(x)


def show(value, name="value"):
    """`name = value` lines as a student would write them, arrays with their shapes."""
    if isinstance(value, Missing):
        return f"{name} = (missing)"
    if isinstance(value, dict):
        return "\n".join(show(v, f"{name}[{k!r}]") for k, v in value.items())
    if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
        return "\n".join(show(v, f"{name}[{i}]") for i, v in enumerate(value))
    if isinstance(value, (list, tuple, str)):
        return f"{name} = {value!r}"
    if isinstance(value, float):
        return f"{name} = {number(value)}"
    arr = np.asarray(value, dtype=np.float64)
    prefix = f"{name} = "
    text = np.array2string(arr, precision=6, suppress_small=True, separator=", ", max_line_width=88,
                           threshold=60, prefix=prefix)
    return f"{prefix}{text}   shape {shape_text(arr.shape)}"


def code(text):
    """A fenced block that nothing a student prints can break out of."""
    return "```\n" + str(text).replace("```", "'''") + "\n```"


def render_failure(title, call, inputs, expected=None, got=None, mismatch=None, diagnosis=None,
                   error=None, stdout="", catalogued=False):
    """The markdown a student reads for a failed test: diagnosis first, then the smallest example."""
    parts = []
    if diagnosis:
        parts.append(f"**Likely misconception:** {diagnosis.says}")
    if error:
        parts.append(error)
    elif mismatch:
        path = mismatch.path if not mismatch.path.startswith("[") else call.split("(")[0] + mismatch.path
        where = f"`{path}`: " if mismatch.path else ""
        parts.append(f"**Wrong value:** {where}{mismatch.what}.")
        if catalogued and not diagnosis:
            parts.append("This does not match any common mistake the grader knows; "
                         "compare the expected and returned values below.")
    parts.append(f"**Smallest failing example** ({title}):\n" + code(
        f"{call} with\n" + "\n".join(show(v, k) for k, v in inputs.items())))
    if expected is not None and got is not None:
        parts.append("**Expected:**\n" + code(show(expected, "expected")) + "\n**Returned:**\n"
                     + code(show(got, "returned")))
    if stdout:
        parts.append("**Your code printed:**\n" + code(stdout))
    return "\n\n".join(parts)


def error_text(error, call, student_file):
    """What went wrong when the student's code did not return at all."""
    kind, message = error.get("kind"), error.get("message", "")
    if error.get("during_import"):
        if kind == "syntax":
            return f"**Your {student_file} could not be imported:** {error.get('type')}: {message}."
        if kind == "missing":
            return f"**{message}**"
        detail = f"{error.get('type')}: {message}" if kind == "exception" else message
        text = f"**Importing your {student_file} failed:** {detail}."
        return text + ("\n" + code(error["traceback"]) if error.get("traceback") else "")
    if kind == "exception":
        text = f"**`{call}` raised {error.get('type')}:** {message}"
        if error.get("type") == "NotImplementedError":
            text = f"**`{call.split('(')[0]}` is not implemented yet** ({message})."
        return text + ("\n" + code(error["traceback"]) if error.get("traceback") else "")
    if kind == "forbidden-import":
        return f"**Course rule:** {message}; write the computation with numpy."
    if kind in ("budget", "skipped"):
        return f"**Not graded:** {message}."
    return f"**`{call}` {message}.**" if kind in ("timeout", "memory", "cpu") else f"**{message}.**"


def explain(report, info, catalogue, reference, assignment):
    """(markdown, diagnosis id or None) for one failed test's shrunk example."""
    heading = f"This test checks `{info['quantity']}`: {FACTORS.get(info['factor'], info['factor'])}."
    stdout = report.get("stdout", "") if assignment.show_student_output else ""
    if report["kind"] == "error":
        text = error_text(report["error"], report["call"], assignment.student_file)
        if report["error"].get("during_import"):
            return text + ("\n\n**Your code printed:**\n" + code(stdout) if stdout else ""), None
        return heading + "\n\n" + render_failure(report["title"], report["call"], report["inputs"],
                                                 error=text, stdout=stdout), None
    if report["kind"] == "unreadable":
        text = f"**The returned value cannot be read as numbers:** {report['headline']}."
        return heading + "\n\n" + render_failure(report["title"], report["call"], report["inputs"],
                                                 error=text, stdout=stdout), None
    found = diagnose(catalogue, report["quantity"], report["instances"], reference,
                     assignment.rtol, assignment.atol)
    mismatch = report["mismatch"]
    expected, got = (mismatch.expected, mismatch.got) if mismatch.path else (report["expected"], report["got"])
    return heading + "\n\n" + render_failure(
        report["title"], report["call"], report["inputs"], expected=expected, got=got,
        mismatch=mismatch, diagnosis=found, stdout=stdout, catalogued=bool(catalogue)), (found.id if found else None)
