"""The handout's fixed cases: inputs from the graded tests' own regimes, expected values from the reference.

Each visible graded test is run as the record runs it (record.recorded_examples: its checks are
kept, not run, under the grading settings). One instance of each of its first regimes, the
regimes grading sees first (reseeded: not Gradescope's numbers), plus any hand-written in public/cases.yaml,
become fixed cases whose expected values the reference computes now and that are stored
as numbers. Each is judged on the reference itself, as a student's answer is, before it
is kept.
"""
import dataclasses
import json
import os

import numpy as np

from .. import public
from ..config import ConfigError
from ..judging import protocol
from ..judging.judge import ACCEPT_HOOKS, Failure, judge
from ..sandbox.runner import Runner
from ..record import recorded_examples

REGIMES = 2          # fixed cases drawn per visible test (one instance each)


def record(a, test, regimes):
    """The checks of a graded test's first `regimes` regimes: the very regimes grading sees first
    (record.recorded_examples, under the grading settings)."""
    checks = [c for example in recorded_examples(test.test, a.examples, a.seed)[:regimes] for c in example]
    for c in checks:
        accept = c.options.get("accept")
        if accept is not None and accept not in ACCEPT_HOOKS.values():
            raise ConfigError(f"{test.function}: its accept hook {accept!r} has no name a stored case can "
                              f"carry (autograder/judging/judge.py ACCEPT_HOOKS)")
    return checks


def _reseed(case, salt):
    """The regime with its own seed: not the numbers Gradescope's first examples use."""
    if dataclasses.is_dataclass(case) and hasattr(case, "seed"):
        seed = int(np.random.SeedSequence([salt, int(case.seed)]).generate_state(1)[0])
        return dataclasses.replace(case, seed=seed)
    return case


def fixed_cases(a, tests, reference=None, hand_written=None):
    """{test function: [fixed case]} for the given graded tests, expected values from the reference."""
    reference = reference or a.load_reference()
    hand_written = hand_written or {}
    out = {}
    with a.importable():
        for test in tests:
            recorded = record(a, test, REGIMES)
            cases = []
            for c in recorded:
                case = _reseed(c.case, a.seed)
                for inputs in case.instances(c.build, 1):
                    cases.append(_case(a, reference, test, c, case.describe(), inputs))
            for written in hand_written.get(test.function, []):
                for c in recorded[:1]:
                    cases.append(_written(a, reference, test, c, written))
            out[test.function] = cases
    return out


@dataclasses.dataclass
class WrittenCase:
    """A fixed case of public/cases.yaml: its title, its inputs by name, where it is written."""
    title: str
    inputs: dict
    at: str        # `file, line N`, for messages


def _written(a, reference, test, c, written):
    """A hand-written case, its inputs checked against (and put in the order of) the names the test's
    input builder gives: a mistake in it is the course's, named by its line."""
    names = list(c.case.instances(c.build, 1)[0])
    missing, unknown = [n for n in names if n not in written.inputs], [n for n in written.inputs if n not in names]
    if missing or unknown:
        what = "; ".join(part for part in (f"no {', '.join(missing)}" if missing else "",
                                           f"unknown {', '.join(unknown)}" if unknown else "") if part)
        raise ConfigError(f"{written.at}: {test.function}, case {written.title!r}: its inputs are not the "
                          f"test's ({what}); the test's inputs: {', '.join(names)}")
    try:
        return _case(a, reference, test, c, written.title, {n: written.inputs[n] for n in names})
    except Exception as exc:  # inputs the reference cannot take (a wrong shape), or gets wrong itself
        raise ConfigError(f"{written.at}: {test.function}, case {written.title!r}: the reference cannot be "
                          f"judged on these inputs: {type(exc).__name__}: {str(exc).strip()}") from None


def _case(a, reference, test, c, title, inputs):
    plan = c.calls(inputs)
    full = c.expected(**inputs)
    output, requires = c.options.get("output"), list(c.options.get("requires") or ())
    output = list(output) if isinstance(output, (list, tuple)) else output
    if output is not None:  # only what is judged, and what it requires: nothing more of the reference's
        full = {k: full[k] for k in ([output] if isinstance(output, str) else output) + requires}
    case = {"title": title, "call": plan.shown, "inputs": protocol.tag(dict(inputs)), "steps": plan.steps,
            "outputs": list(plan.outputs), "output": output,
            "quantity": c.options.get("quantity") or test.quantity, "expected": protocol.tag(full)}
    for key in ("labels", "texts"):
        if getattr(plan, key, None):
            case[key] = getattr(plan, key)
    if requires:
        case["requires"] = requires
    if c.options.get("accept") is not None:
        case["accept"] = c.options["accept"].__name__
    if c.options.get("parts"):
        case["parts"] = list(c.options["parts"])
    rtol, atol = test.tolerance(a, c.options)
    if (rtol, atol) != (a.rtol, a.atol):  # judged as on Gradescope: with the test's own tolerance
        case.update(rtol=rtol, atol=atol)
    _must_pass_on(reference, a, json.loads(json.dumps(case)))
    return case


def _must_pass_on(reference, a, case):
    """A fixed case the reference itself fails is this builder's bug, not a student's: judged as a student's is."""
    runner = Runner(a.reference, reference.__name__, {"call_seconds": 0, "import_seconds": 0})
    runner.module = reference
    plan = public.plan_of(case)
    outputs = runner.run_program(case["steps"])
    options = dataclasses.replace(public.options_of(case, case["quantity"]), rtol=case.get("rtol", a.rtol),
                                  atol=case.get("atol", a.atol))
    try:
        failure = judge(case["title"], plan, protocol.untag(case["inputs"]), protocol.untag(case["expected"]),
                        {"outputs": outputs}, options).failure
    except Failure as exc:
        failure = exc
    if failure:
        raise RuntimeError(f"a fixed case of {plan.shown} fails on the reference itself: {failure}")


def read_hand_written(a, public_dir, tests):
    """public/cases.yaml: {test function: [WrittenCase]}, for visible tests only, every key checked (and each
    case's inputs, against the test's own, when the fixed cases are made)."""
    path = os.path.join(public_dir, "cases.yaml")
    if not os.path.isfile(path):
        return {}
    from .. import yamlfile
    from ..config import where_of
    doc = yamlfile.read(path, where_of(path))
    data = doc.data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{doc.where}: expected test names, each with a list of cases ({{title, inputs}})")
    by_function = {t.function: t for t in tests}
    out = {}
    for function, cases in data.items():
        test = by_function.get(function)
        if test is None:
            raise ConfigError(f"{doc.at(function)}: {function!r} is not a graded test of {a.name}")
        if not test.public:
            raise ConfigError(f"{doc.at(function)}: {function!r} is {test.visibility} on Gradescope: "
                              f"the handout must not carry its expected values")
        if not isinstance(cases, list):
            raise ConfigError(f"{doc.at(function)}: {function}: expected a list of cases (- title: ..., inputs: ...)")
        for i, c in enumerate(cases):
            if not isinstance(c, dict) or set(c) != {"title", "inputs"} or not isinstance(c["inputs"], dict):
                raise ConfigError(f"{doc.at(function, i)}: {function}, case {i + 1}: expected exactly `title` "
                                  f"and `inputs` (the inputs by name)")
        out[function] = [WrittenCase(str(c["title"]), {k: _value(v) for k, v in c["inputs"].items()},
                                     doc.at(function, i)) for i, c in enumerate(cases)]
    return out


def _value(v):
    """A YAML input: nested lists of numbers are arrays (depth 3: a list of matrices); the rest as is."""
    def depth(x):
        return 1 + max((depth(i) for i in x), default=0) if isinstance(x, list) else 0
    if isinstance(v, list) and v and all(isinstance(i, (int, float, list)) for i in v):
        d = depth(v)
        if d <= 2:
            return np.array(v, dtype=np.float64)
        if d == 3:
            return [np.array(m, dtype=np.float64) for m in v]
    return v
