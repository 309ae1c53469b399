"""What graded tests import: `graded` to label a test, `check` to run one regime through the student's code.

A graded test is a Hypothesis property over regimes (see `strategies`). For each regime,
`check` builds k instances, asks the worker to run the student's code on all of them in
one round trip, compares every answer with the reference, and raises `Failure` with
everything needed to explain the first wrong one. The plugin turns the Failure that
Hypothesis shrank into the student's feedback.
"""
import ast
import textwrap
import time
from dataclasses import dataclass, field

import numpy as np
from gradescope_utils.autograder_utils.decorators import tags

from . import feedback
from .feedback import FACTORS, Unreadable, compare, readback
from .sandbox import WorkerError

_session = None  # the student being graded; set by the plugin for the length of a pytest session


def session():
    if _session is None:
        raise RuntimeError("graded tests run only under the autograder's plugin (python -m autograder grade)")
    return _session


def graded(quantity, factor, regime):
    """Labels a graded test: which student quantity it calls, which factor of the chain, which regime.

    The tags name the function (or Class.method[:quantity]) and the factor's kind; points,
    visibility and numbers come from assignment.yaml, applied by the plugin.
    """
    if factor not in FACTORS:
        raise ValueError(f"unknown factor kind {factor!r}; one of {sorted(FACTORS)}")

    def label(test):
        test = tags(quantity.split(":")[0], factor, *([quantity] if ":" in quantity else []))(test)
        test.__graded__ = {"quantity": quantity, "factor": factor, "regime": regime}
        return test
    return label


class Failure(AssertionError):
    """A wrong, unreadable or crashing answer, with what feedback needs to explain it."""

    def __init__(self, report):
        super().__init__(report.get("headline", "wrong answer"))
        self.report = report


# ---- what the worker is asked to do ---------------------------------------------

def encode(value):
    """Inputs as plain JSON for the worker: arrays by shape and numbers, nothing callable."""
    if isinstance(value, np.ndarray):
        return {"array": [list(value.shape), value.astype(np.float64).ravel().tolist()]}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


@dataclass
class Calls:
    """Steps for the worker on one instance, and how to show them to a student.

    `function(name)` covers a module function called with the inputs in order; a
    module-style assignment builds its own steps (construct, set, call a method, get),
    most simply with `program(...)`, whose `shown` has one statement a line.
    """
    steps: list
    shown: str
    outputs: list = field(default_factory=list)  # names of the steps marked "out", in order
    labels: dict = field(default_factory=dict)   # programs only: output name -> how a student reads it
    texts: list = field(default_factory=list)    # programs only: each step as a student reads it


def function(name):
    def build(inputs):
        args = ", ".join(inputs)
        return Calls([{"call": name, "args": encode(list(inputs.values())), "out": True}],
                     f"{name}({args})", [name])
    return build


def check(case, build, calls, expected, quantity=None, output=None, requires=(), accept=None, parts=()):
    """Runs one regime: k instances of build(draw, case), the student's `calls`, the reference `expected`.

    calls: a function name (the student's module function, called with the inputs in order)
    or a builder inputs -> Calls (e.g. `program(...)`). expected: the reference, called with
    the inputs by name; it returns the expected value (or a dict of named outputs, with
    `output` naming the one this test judges).

    For programs (module-style assignments) three more options:
    - output may be a list of names, all judged, in order; the first wrong one is reported.
    - requires: names of outputs computed before the judged one that it depends on (a
      module's forward before its backward). They are not judged, but when the judged
      output is wrong and one of these is wrong too, the feedback says so.
    - accept: a hook (got, expected) -> got that maps an acceptable variant of an answer to
      the expected form before it is compared, e.g. `squeezed`.

    parts: names of the items of a returned tuple, as the contract names them (backprop's
    ("dWs", "dW0s")), so that feedback says `dWs[1]` rather than `backprop[0][1]`.
    """
    s = session()
    calls = function(calls) if isinstance(calls, str) else calls
    quantity = quantity or s.current["quantity"]
    inputs = case.instances(build, s.config.instances)
    plans = [calls(i) for i in inputs]
    full = [expected(**i) for i in inputs]
    several = isinstance(output, (list, tuple))
    if output is None:
        wanted = full
    elif several:
        wanted = [{k: w[k] for k in output} for w in full]
    else:
        wanted = [w[output] for w in full]
    results = s.run([p.steps for p in plans])
    title = case.describe()
    judged = []
    for inp, plan, want, result in zip(inputs, plans, wanted, results):
        error = result.get("error")
        if error:
            raise Failure(dict(kind="error", title=title, call=failing_step(plan, error), inputs=inp,
                               error=error, stdout=result.get("stdout", ""), headline=error.get("message", "")))
        outs = dict(zip(plan.outputs, result["outputs"]))

        def read(name, like):
            try:
                got = readback(outs[name], like)
            except (Unreadable, KeyError) as exc:
                what = f"`{plan.labels[name]}`" if name in plan.labels else "the returned value"
                raise Failure(dict(kind="unreadable", title=title, call=plan.shown, inputs=inp,
                                   headline=f"cannot read {what}: {exc}", output=name,
                                   stdout=result.get("stdout", ""))) from None
            return accept(got, like) if accept else got

        if several:
            got = {k: read(k, want[k]) for k in output}
        else:
            got = read(output or plan.outputs[0], want)
        judged.append((inp, want, got, result.get("stdout", ""), outs))
    for index, (inp, want, got, stdout, outs) in enumerate(judged):
        with np.errstate(all="ignore"):
            if several:
                name, mismatch = next(((k, m) for k in output
                                       for m in [compare(want[k], got[k], s.config.rtol, s.config.atol)] if m),
                                      (None, None))
            else:
                name, mismatch = output, compare(want, got, s.config.rtol, s.config.atol)
        if mismatch:
            usable = [(i, w, g) for i, w, g, _, _ in judged]
            shown_want, shown_got = (want[name], got[name]) if several else (want, got)
            if plans[index].labels:
                mismatch = named(mismatch, plans[index], name or plans[index].outputs[0],
                                 earlier_wrong(outs, full[index], requires, plans[index], s.config))
            elif parts and mismatch.path.startswith("["):
                first, rest = mismatch.path[1:].split("]", 1)
                mismatch.path = f"{parts[int(first)]}{rest}"
            raise Failure(dict(kind="mismatch", title=title, call=plans[0].shown, inputs=inp,
                               expected=shown_want, got=shown_got, mismatch=mismatch, quantity=quantity,
                               instances=usable, stdout=stdout, headline=mismatch.what))


def named(mismatch, plan, name, note):
    """A program's mismatch, as the student reads it: which output (`lin.dLdW`), and what it depends on."""
    what = f"`{plan.labels.get(name, name)}{mismatch.path}`: {mismatch.what}"
    if note:
        label, earlier = note
        what += (f". Note: `{label}`, which this test runs first on the same inputs, is wrong too "
                 f"({earlier}); this result may be wrong only because of it, so fix that step first")
    return feedback.Mismatch("", what, mismatch.expected, mismatch.got)


def earlier_wrong(outs, expected, requires, plan, config):
    """(label, what is wrong) for the first required output that is wrong, else None."""
    for name in requires:
        try:
            got = readback(outs[name], expected[name])
        except (Unreadable, KeyError) as exc:
            return plan.labels.get(name, name), f"it cannot be read: {exc}"
        with np.errstate(all="ignore"):
            m = compare(expected[name], got, config.rtol, config.atol)
        if m:
            return plan.labels.get(name, name), m.what
    return None


def failing_step(plan, error):
    """How to show a program that raised: `the step (step k of: the program)`, on one line."""
    whole = plan.shown.replace("\n", "; ")  # error messages show it inline: one line
    step = error.get("step")
    if not plan.texts or step is None or len(plan.steps) < 2:
        return whole if plan.texts else plan.shown
    return f"{plan.texts[step]} (step {step + 1} of: {whole})"


class Session:
    """One submission under grading: its worker, its budget, and what earlier calls taught us."""

    def __init__(self, config, worker):
        self.config, self.worker = config, worker
        self.started = time.monotonic()
        self.current = {}
        self.import_report = None
        self.stopped = {}  # test id -> the limit it hit: its later examples fail at once

    def begin(self, test_id, graded_info):
        self.test_id, self.current = test_id, graded_info or {}

    def run(self, programs):
        limit_hit = self.stopped.get(self.test_id)
        if limit_hit:
            return [{"error": limit_hit}] * len(programs)
        if time.monotonic() - self.started > self.config.limits["submission_seconds"]:
            return [{"error": {"kind": "budget", "message":
                     f"not run: grading this submission used up its time budget of "
                     f"{self.config.limits['submission_seconds']:g} s"}}] * len(programs)
        report = self.ensure_started()
        if report.get("import_error"):
            return [{"error": {**report["import_error"], "during_import": True}}] * len(programs)
        try:
            results = self.worker.run(programs)
        except WorkerError as exc:
            error = {"kind": exc.kind, "message": exc.message}
            self.stopped[self.test_id] = error
            return [{"error": error}] * len(programs)
        for r in results:
            if r.get("error", {}).get("kind") in ("timeout", "memory"):
                self.stopped[self.test_id] = r["error"]
        missing = [{"error": {"kind": "skipped", "message": "not run: an earlier call hit a limit"}}]
        return results + missing * (len(programs) - len(results))

    def ensure_started(self):
        if self.worker is None:  # no student file: import_report says why
            return self.import_report
        if self.import_report is not None and self.worker.proc is not None:
            return self.import_report
        if self.import_report and self.import_report.get("import_error"):
            return self.import_report  # a broken import stays broken: do not pay for it again
        try:
            self.import_report = self.worker.start()
        except WorkerError as exc:
            self.import_report = {"import_error": {"kind": exc.kind, "message": exc.message}}
        return self.import_report


# ---- programs on objects: module-style assignments ------------------------------------
#
# A module-style assignment (classes with forward/backward) is graded through programs:
# a few statements that construct the student's objects, set their attributes to inputs
# the grader chose, call their methods and read attributes back. Tests write them as the
# Python a student would write, and a failing test shows them the same way:
#
#     program("lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; Z = lin.forward(A); "
#             "lin.backward(dLdZ); dLdW = lin.dLdW")
#
# is shown as `lin = Linear(3, 2)`, `lin.W = W`, ... `dLdW = lin.dLdW`, a statement a line
# (and on one line, `; `-separated, where an error names the step that raised), and
# `check(..., output="dLdW", requires=("Z",))`
# judges dLdW, names it `lin.dLdW` in the feedback, and says so when lin.forward(A) was
# already wrong. The worker decodes every input afresh for each step, so a student's
# in-place update (`self.W -= ...`) never touches another step's, instance's or the grader's
# arrays.

def program(text, outputs=None):
    """A builder inputs -> Calls, from statements over the inputs' names.

    One statement per line or between semicolons, each one step for the worker:

        x = Name(args)          construct (or call) Name from the student's module; bind x
        x = obj.method(args)    call a method of an object bound earlier; bind x to the result
        obj.method(args)        the same, the result not kept (also `Name(args)`)
        obj.attr = value        set an attribute
        x = obj.attr            read an attribute at this point of the program
        np.random.seed(n)       seed numpy's global generator in the worker

    An argument (or a set value, or a keyword argument) is one of: the name of an object
    bound earlier (passed by reference); an input's name (passed as its value, shown by
    name); a constant; a list or tuple of these; or any other expression over the inputs
    and `np`, evaluated by the grader and shown by its value when that is a number
    (`Linear(*W.shape)` is shown as `Linear(3, 2)`).

    outputs: the bound names whose values come back, by default every name bound by a
    method call or an attribute read. They are the keys of the reference's dict of named
    outputs (`check(..., output="dLdW")`); feedback names each by its right-hand side
    (`lin.dLdW`, `lin.backward(dLdZ)`).
    """
    statements = _parse_program(text)
    chosen = outputs if outputs is not None else [
        st.bind for st in statements if st.bind and st.kind in ("method", "get")]
    unknown = set(chosen) - {st.bind for st in statements if st.bind}
    if unknown:
        raise ValueError(f"program outputs {sorted(unknown)} are not bound by any statement")

    def build(inputs):
        steps, texts, shown, labels, names = [], [], [], {}, []
        for st in statements:
            step, rhs = st.step(inputs)
            statement = f"{st.bind} = {rhs}" if st.bind else rhs
            if st.bind:
                step["as"] = st.bind
                if st.bind in chosen:
                    step["out"] = True
                    labels[st.bind] = rhs
                    names.append(st.bind)
            steps.append(step)
            shown.append(statement)
            texts.append(rhs if st.kind in ("method", "get") else statement)
        return Calls(steps, "\n".join(shown), names, labels, texts)
    return build


def squeezed(got, expected):
    """An `accept` hook for check: an array whose shape differs from the expected one only by
    axes of length 1 (a (1, b) row where a flat (b,) array is expected) is read as the expected shape."""
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape != expected.shape \
            and got.size == expected.size \
            and [d for d in got.shape if d != 1] == [d for d in expected.shape if d != 1]:
        return got.reshape(expected.shape)
    return got


@dataclass
class _Statement:
    kind: str            # "call", "method", "set", "get", "seed"
    node: object         # the ast node of the right-hand side (a Call, an Attribute) or of the set value
    bind: str = None     # the name a call or read binds
    target: tuple = ()   # (obj, attr) of a set or get, (obj, method) of a method call
    objects: frozenset = frozenset()  # the names bound before this statement

    def step(self, inputs):
        """(the worker's step, the right-hand side as shown) for one instance."""
        if self.kind == "seed":
            (arg,), _ = self.arguments(inputs, self.node.args, [])
            return {"seed": arg[0]}, f"np.random.seed({arg[1]})"
        if self.kind == "get":
            obj, attr = self.target
            return {"get": [obj, attr]}, f"{obj}.{attr}"
        if self.kind == "set":
            obj, attr = self.target
            (value,), _ = self.arguments(inputs, [self.node], [])
            return {"set": [obj, attr], "value": value[0]}, f"{obj}.{attr} = {value[1]}"
        args, kwargs = self.arguments(inputs, self.node.args, self.node.keywords)
        text = ", ".join([a[1] for a in args] + [f"{k}={v[1]}" for k, v in kwargs.items()])
        step = {"args": [a[0] for a in args]}
        if kwargs:
            step["kwargs"] = {k: v[0] for k, v in kwargs.items()}
        if self.kind == "method":
            obj, method = self.target
            return {"method": [obj, method], **step}, f"{obj}.{method}({text})"
        return {"call": self.node.func.id, **step}, f"{self.node.func.id}({text})"

    def arguments(self, inputs, args, keywords):
        values = []
        for node in args:
            if isinstance(node, ast.Starred):
                for v in self.evaluate(node.value, inputs):
                    values.append((encode(v), _literal(v) or ast.unparse(node)))
            else:
                values.append(self.value(node, inputs))
        return values, {k.arg: self.value(k.value, inputs) for k in keywords}

    def value(self, node, inputs):
        """(plain data for the worker, the text a student reads)."""
        if isinstance(node, ast.Name) and node.id in self.objects:
            return {"ref": node.id}, node.id
        if isinstance(node, ast.Name) and node.id in inputs:
            return encode(inputs[node.id]), node.id
        if isinstance(node, ast.Constant):
            return node.value, ast.unparse(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(n, inputs) for n in node.elts]
            return [i[0] for i in items], "[" + ", ".join(i[1] for i in items) + "]"
        v = self.evaluate(node, inputs)
        return encode(v), _literal(v) or ast.unparse(node)

    def evaluate(self, node, inputs):
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if used & self.objects:
            raise ValueError(f"program: {ast.unparse(node)!r} uses an object inside an expression")
        return eval(compile(ast.Expression(node), "<program>", "eval"), {"np": np}, dict(inputs))


def _literal(value):
    """A number, or a tuple of numbers, as source text; None for anything else."""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, tuple) and all(_literal(v) for v in value):
        return ", ".join(_literal(v) for v in value)
    return None


def _parse_program(text):
    statements, bound = [], set()
    for node in ast.parse(textwrap.dedent(text)).body:
        objects = frozenset(bound)
        where = ast.unparse(node)
        bind, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                if target.value.id not in objects:
                    raise ValueError(f"program: {where!r} sets an attribute of an unknown object")
                statements.append(_Statement("set", value, target=(target.value.id, target.attr),
                                             objects=objects))
                continue
            if not isinstance(target, ast.Name):
                raise ValueError(f"program: {where!r}: assign to a name or to obj.attr")
            bind = target.id
        elif isinstance(node, ast.Expr):
            value = node.value
        else:
            raise ValueError(f"program: {where!r} is not a call, a set or a read")
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and bind:
            if value.value.id not in objects:
                raise ValueError(f"program: {where!r} reads an attribute of an unknown object")
            st = _Statement("get", value, bind, (value.value.id, value.attr), objects)
        elif isinstance(value, ast.Call) and ast.unparse(value.func) == "np.random.seed" and not bind:
            st = _Statement("seed", value, objects=objects)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and isinstance(value.func.value, ast.Name) and value.func.value.id in objects:
            st = _Statement("method", value, bind, (value.func.value.id, value.func.attr), objects)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            st = _Statement("call", value, bind, objects=objects)
        else:
            raise ValueError(f"program: {where!r} is not a call, a set or a read")
        statements.append(st)
        if bind:
            bound.add(bind)
    return statements
