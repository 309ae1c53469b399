"""What a student reads about a failed test: Gradescope's markdown, in the notes' notation.

Only words here: whether an answer is right is decided by `compare`, and which
misconception it shows by `diagnose`. Gradescope, local grading and the public tests
all write their failures with `explain`.
"""
import numpy as np

from .compare import Missing, Moved, OneOf, number, shape_text

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
HEADING = "This test checks"


def show(value, name="value"):
    """`name = value` lines as a student would write them, arrays with their shapes."""
    if isinstance(value, Missing):
        return f"{name} = (missing)"
    if isinstance(value, Moved):
        return f"{name}: {value.describe()}, where\n" + show(value.before, "before")
    if isinstance(value, OneOf):
        return f"{name}: one of\n" + "\n".join(show(o, f"{name} ({label})")
                                               for o, label in zip(value.options, value.labels))
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
                   error=None, stdout="", catalogued=False, notes=()):
    """The markdown a student reads for a failed test: diagnosis first, then the smallest example.

    notes: what the program went on after (a step of a try block that raised), one sentence each.
    """
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
    parts += [f"**Note:** {note}" for note in notes]
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


def explain(report, quantity, factor, *, student_file, show_output=True, diagnosis=None, catalogued=False,
            factors=None):
    """The markdown for one failed test's shrunk example (a judge.FailureReport).

    diagnosis: the catalogue's Misconception that explains it, if any; catalogued: whether
    the assignment has a catalogue at all (then an unexplained mismatch says so); factors:
    the assignment's own words for its factor kinds (assignment.yaml's `factors:`), over FACTORS.
    """
    words = (factors or {}).get(factor) or FACTORS.get(factor, factor)
    heading = f"{HEADING} `{quantity}`: {words}."
    stdout = report.stdout if show_output else ""
    if report.kind == "error":
        text = error_text(report.error, report.call, student_file)
        if report.error.get("during_import"):
            return text + ("\n\n**Your code printed:**\n" + code(stdout) if stdout else "")
        return heading + "\n\n" + render_failure(report.title, report.call, report.inputs,
                                                 error=text, stdout=stdout, notes=report.notes)
    if report.kind == "unreadable":
        text = f"**The returned value cannot be read as numbers:** {report.headline}."
        return heading + "\n\n" + render_failure(report.title, report.call, report.inputs,
                                                 error=text, stdout=stdout, notes=report.notes)
    mismatch = report.mismatch
    expected, got = (mismatch.expected, mismatch.got) if mismatch.path else (report.expected, report.got)
    return heading + "\n\n" + render_failure(
        report.title, report.call, report.inputs, expected=expected, got=got,
        mismatch=mismatch, diagnosis=diagnosis, stdout=stdout, catalogued=catalogued, notes=report.notes)


def first_line(text):
    """The line a summary shows of a failure: the first after the heading, without markdown's stars."""
    return next((line for line in text.splitlines()
                 if line.strip() and not line.startswith(HEADING)), "").replace("**", "")
