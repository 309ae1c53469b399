"""How graded tests call student code and judge one answer: numpy only, no grader state.

- `function(name)` and `program("lin = Linear(*W.shape); ...")` turn an instance's inputs
  into steps for the worker (`Calls`), and into the text a student reads.
- `judge` reads one answer back, compares it and builds the `Failure` that feedback.py
  explains. The graded tests (`testing.check`) and the handout's public tests both judge
  with it; the handout ships this file as it is, beside feedback.py.
"""
import ast
import textwrap
from dataclasses import dataclass, field

import numpy as np

from . import feedback
from .feedback import Unreadable, compare, readback


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


def judge(title, plan, inputs, full, result, quantity, rtol, atol,
          output=None, requires=(), accept=None, parts=()):
    """One instance: the student's `result` of `plan` against the expected `full`.

    Returns (the judged expected value, the student's value read back, a Failure for a
    wrong value or None); raises Failure at once when the code raised or returned something
    unreadable. full is the expected value, or the dict of named outputs from which `output`
    picks the judged one(s); `requires` names outputs run first, only to say so when they are
    wrong too; `accept` maps an acceptable variant of an answer to the expected form; `parts`
    names the items of a returned tuple as the contract does (backprop's ("dWs", "dW0s")).
    """
    __tracebackhide__ = True
    error = result.get("error")
    if error:
        raise Failure(dict(kind="error", title=title, call=failing_step(plan, error), inputs=inputs,
                           error=error, stdout=result.get("stdout", ""), headline=error.get("message", "")))
    several = isinstance(output, (list, tuple))
    want = full if output is None else {k: full[k] for k in output} if several else full[output]
    outs = dict(zip(plan.outputs, result["outputs"]))

    def read(name, like):
        try:
            got = readback(outs[name], like)
        except (Unreadable, KeyError) as exc:
            what = f"`{plan.labels[name]}`" if name in plan.labels else "the returned value"
            raise Failure(dict(kind="unreadable", title=title, call=plan.shown, inputs=inputs,
                               headline=f"cannot read {what}: {exc}", output=name,
                               stdout=result.get("stdout", ""))) from None
        return accept(got, like) if accept else got

    got = {k: read(k, want[k]) for k in output} if several else read(output or plan.outputs[0], want)
    with np.errstate(all="ignore"):
        judged = [(k, want[k], got[k]) for k in output] if several else [(output, want, got)]
        name, mismatch, shown_want, shown_got = next(
            ((k, m, w, g) for k, w, g in judged for m in [compare(w, g, rtol, atol)] if m), (None,) * 4)
    if not mismatch:
        return want, got, None
    if plan.labels:
        mismatch = named(mismatch, plan, name or plan.outputs[0],
                         earlier_wrong(outs, full, requires, plan, rtol, atol))
    elif parts and mismatch.path.startswith("["):
        first, rest = mismatch.path[1:].split("]", 1)
        mismatch.path = f"{parts[int(first)]}{rest}"
    return want, got, Failure(dict(kind="mismatch", title=title, call=plan.shown, inputs=inputs,
                                   expected=shown_want, got=shown_got, mismatch=mismatch, quantity=quantity,
                                   instances=[(inputs, want, got)], stdout=result.get("stdout", ""),
                                   headline=mismatch.what))


def find_failure(exc, depth=0):
    """Our Failure inside whatever Hypothesis raised (itself, a cause, or a flaky group)."""
    if exc is None or depth > 6:
        return None
    if isinstance(exc, Failure):
        return exc
    for inner in list(getattr(exc, "exceptions", ())) + [exc.__cause__, exc.__context__]:
        found = find_failure(inner, depth + 1)
        if found:
            return found
    return None


def named(mismatch, plan, name, note):
    """A program's mismatch, as the student reads it: which output (`lin.dLdW`), and what it depends on."""
    what = f"`{plan.labels.get(name, name)}{mismatch.path}`: {mismatch.what}"
    if note:
        label, earlier = note
        what += (f". Note: `{label}`, which this test runs first on the same inputs, is wrong too "
                 f"({earlier}); this result may be wrong only because of it, so fix that step first")
    return feedback.Mismatch("", what, mismatch.expected, mismatch.got)


def earlier_wrong(outs, expected, requires, plan, rtol, atol):
    """(label, what is wrong) for the first required output that is wrong, else None."""
    for name in requires:
        try:
            got = readback(outs[name], expected[name])
        except (Unreadable, KeyError) as exc:
            return plan.labels.get(name, name), f"it cannot be read: {exc}"
        with np.errstate(all="ignore"):
            m = compare(expected[name], got, rtol, atol)
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
