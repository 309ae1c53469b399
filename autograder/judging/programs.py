"""How graded tests call student code: steps for the worker, and the same call as a student reads it.

- `function(name)`: a module function called with the inputs in order.
- `program("lin = Linear(*W.shape); lin.W = W; ...")`: statements over the student's
  objects, for module-style assignments.

Both turn one instance's inputs into `Calls`: the worker's steps and the text a student
reads. Shipped in the handout as it is (numpy only).
"""
import ast
import textwrap
from dataclasses import dataclass, field, replace

import numpy as np

from .protocol import encode


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
        try:                    run the indented statements; if one raises an Exception, the
            ...                 worker records it (the answer's "raised") and carries on with the
        except Exception:       statements under `except` (`pass`: none), then after the block;
            ...                 if none raises, the `except` statements are skipped

    A `try` block is how a test goes on past a student's exception: reading what
    `lin.backward(dLdZ)` had set before it raised, or calling backward on the state the
    contract says forward keeps when forward raised (`except Exception: lin.A = A`). Limits
    (a timeout, the memory limit) are never carried on, and blocks do not nest. A name bound
    in a `try` whose step raised stays unbound; as an output it comes back as not computed.

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
        block = None  # (group, role) of the block the last statement was in
        for st in statements:
            if st.block != block:  # a block's header lines, as the student reads them
                if block and block[1] == "try" and st.block != (block[0], "except"):
                    shown += ["except Exception:", "    pass"]  # the try before had nothing under except
                if st.block:
                    shown.append("try:" if st.block[1] == "try" else "except Exception:")
                block = st.block
            step, rhs = st.step(inputs)
            statement = f"{st.bind} = {rhs}" if st.bind else rhs
            if st.bind:
                step["as"] = st.bind
                if st.bind in chosen:
                    step["out"] = True
                    labels[st.bind] = rhs
                    names.append(st.bind)
            if st.block:
                step[st.block[1]] = st.block[0]
            steps.append(step)
            shown.append(("    " if st.block else "") + statement)
            texts.append(rhs if st.kind in ("method", "get") else statement)
        if block and block[1] == "try":
            shown += ["except Exception:", "    pass"]
        return Calls(steps, "\n".join(shown), names, labels, texts)
    return build


@dataclass
class _Statement:
    kind: str            # "call", "method", "set", "get", "seed"
    node: object         # the ast node of the right-hand side (a Call, an Attribute) or of the set value
    bind: str = None     # the name a call or read binds
    target: tuple = ()   # (obj, attr) of a set or get, (obj, method) of a method call
    objects: frozenset = frozenset()  # the names bound before this statement
    block: tuple = None  # (group, "try" or "except") inside a try block, else None

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
    for group, node in enumerate(ast.parse(textwrap.dedent(text)).body):
        if isinstance(node, ast.Try):
            body, handler = _try_block(node)
            for role, part in (("try", body), ("except", handler)):
                for st in _parse_statements(part, bound):
                    statements.append(replace(st, block=(group, role)))
            continue
        statements += _parse_statements([node], bound)
    return statements


def _try_block(node):
    """The body and the handler's body of `try: ... except Exception: ...`, the only form allowed."""
    where = ast.unparse(node).replace("\n", "; ")
    if len(node.handlers) != 1 or node.orelse or node.finalbody:
        raise ValueError(f"program: {where!r}: a try block has one `except Exception:` and nothing else")
    handler = node.handlers[0]
    if handler.name or (handler.type is not None and ast.unparse(handler.type) != "Exception"):
        raise ValueError(f"program: {where!r}: write `except Exception:` (without `as`)")
    parts = (node.body, [st for st in handler.body if not isinstance(st, ast.Pass)])
    if any(isinstance(st, ast.Try) for part in parts for st in part):
        raise ValueError(f"program: {where!r}: try blocks do not nest")
    return parts


def _parse_statements(nodes, bound):
    """The statements of `nodes` (no try blocks); adds the names they bind to `bound`."""
    statements = []
    for node in nodes:
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
