"""The course's files read together: what the graded tests grade, and whether the stub and reference define it.

    undefined(a, tests)         [(where, what)]: a graded quantity that the stub or the reference does not define
    defined(path)               {"function", "Class.method", ...} defined at the top level of a Python file
"""
import ast

from ..config import where_of


def defined(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    names, methods, bases = set(), {}, {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            methods[node.name] = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
        elif isinstance(node, ast.Assign):  # `LOSSES = {...}`, `Tanh = ...`: a name, whatever it holds
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    def inherited(cls, seen=()):
        found = set(methods.get(cls, ()))
        for base in bases.get(cls, ()):
            if base not in seen:
                found |= inherited(base, seen + (cls,))
        return found
    for cls in methods:
        names |= {f"{cls}.{m}" for m in inherited(cls)}
    return names


def undefined(a, tests):
    import os
    out = []
    for what, path in (("the stub", os.path.join(a.folder, a.student_file)), ("the reference", a.reference)):
        if not os.path.isfile(path):
            out.append((where_of(path), f"{what} is missing"))
            continue
        try:
            names = defined(path)
        except SyntaxError as exc:
            out.append((f"{where_of(path)}, line {exc.lineno}", f"{what} is not Python: {exc.msg}"))
            continue
        for t in tests:
            name = t.quantity.split(":")[0]
            if name not in names:
                out.append((t.at, f"{t.function} grades {name}, which {what} ({where_of(path)}) does not define"))
    return out
