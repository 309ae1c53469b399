"""Hypothesis strategies for network shapes and weights, shared by every assignment.

Data first: a strategy draws a *regime* (the shapes, the activations, the loss, a seed)
and the numbers come from numpy's generator seeded by it. Hypothesis pays its cost
per regime, not per number, and shrinks the regime (fewer layers, smaller widths,
seed 0) when a test fails; each regime yields several numeric instances that are
checked in one round trip to the worker (`Case.instances`).

    case(m=dims(), n=dims(), b=batches())       # one layer, W^ℓ of shape (m, n), b columns
    case(m=dims(), n=dims()).filter(square)     # m = n: a transposed W keeps the shape
    networks(layers=(2, 2), loss="nll")         # widths n^0..n^L, activations, loss

Values are multiples of 0.01 in ±[0.05, 2.00]: small enough to read in feedback,
never exactly 0 (no relu kink, no entry that hides a missing factor).
"""
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as hs

ELEMENTWISE = ("linear", "sigmoid", "tanh", "relu")


def _examples_independent_of_loaded_modules():
    """Hypothesis (6.13x and later) sometimes draws numbers it found in the source of the
    "local" modules loaded in the process, so the regimes a test sees would depend on what
    else happened to be imported. Grading must not: every student, every regrade, the
    handout's build and the public tests must draw the same regimes. Hypothesis has no
    setting for this, so its (private) hook is replaced when it is there."""
    try:
        from hypothesis.internal.conjecture import providers
        nothing = providers.Constants()
        providers._get_local_constants = lambda: nothing
    except (ImportError, AttributeError):  # an older Hypothesis, without local constants
        pass


_examples_independent_of_loaded_modules()


def dims(low=1, high=4):
    """A layer width m or n."""
    return hs.integers(low, high)


def batches(low=2, high=4):
    """A batch size b > 1 (use `hs.just(1)` for a single column)."""
    return hs.integers(low, high)


def seeds():
    return hs.integers(0, 2**32 - 1)


@dataclass(frozen=True)
class Case:
    """One regime: named sizes (m, n, b, ...), optional network layout, and the seed of its numbers."""
    dims: dict
    seed: int
    widths: tuple = ()          # n^0, n^1, ..., n^L for a network
    activations: tuple = ()     # f^1..f^L
    loss: str = ""

    def __getattr__(self, name):
        try:
            return self.__dict__["dims"][name]
        except KeyError:
            raise AttributeError(name) from None

    def instances(self, build, k):
        """k numeric instances: build(draw, case) -> dict of named inputs, in the contract's order."""
        return [build(Draw(np.random.default_rng([self.seed, i])), self) for i in range(k)]

    def describe(self):
        parts = [f"{k} = {v}" for k, v in self.dims.items()]
        if self.widths:
            parts.append(f"L = {len(self.widths) - 1}, widths {list(self.widths)}")
            parts.append(f"activations {list(self.activations)}")
        if self.loss:
            parts.append(f"loss {self.loss!r}")
        return ", ".join(parts)


def case(**sizes):
    """A regime of named sizes: case(m=dims(), n=dims(), b=hs.just(1))."""
    return hs.builds(lambda d, s: Case(dict(d), s), hs.fixed_dictionaries(sizes), seeds())


def square(c):
    return c.m == c.n


def rectangular(c):
    return c.m != c.n


@hs.composite
def networks(draw, layers=(1, 3), widths=dims(), loss=None, batch=batches(1, 3),
             hidden=ELEMENTWISE, last=None, equal_widths=False):
    """A network regime: L layers, widths n^0..n^L, activations f^1..f^L, a loss and a batch size b.

    With the nll loss the last layer is softmax over K >= 2 classes, as the course pairs them.
    equal_widths: every W^ℓ square (m = n), where a transposed W keeps its shape.
    """
    L = draw(hs.integers(*layers))
    loss = draw(hs.sampled_from(("square", "nll"))) if loss is None else loss
    ns = [draw(widths)] * (L + 1) if equal_widths else [draw(widths) for _ in range(L + 1)]
    acts = [draw(hs.sampled_from(hidden)) for _ in range(L - 1)]
    if loss == "nll":
        ns[-1] = max(ns[-1], 2)
        acts.append("softmax")
    else:
        acts.append(draw(hs.sampled_from(last or ELEMENTWISE)))
    return Case({"b": draw(batch)}, draw(seeds()), tuple(ns), tuple(acts), loss)


class Draw:
    """Numbers for one instance, from a seeded numpy generator (cheap, reproducible, readable)."""

    def __init__(self, rng):
        self.rng = rng

    def values(self, *shape):
        """Multiples of 0.01 in ±[0.05, 2.00], never 0."""
        magnitude = self.rng.integers(5, 201, size=shape) / 100
        return np.where(self.rng.random(shape) < 0.5, -magnitude, magnitude)

    def positive(self, *shape):
        return self.rng.integers(5, 201, size=shape) / 100

    def one_hot(self, k, b):
        """b one-hot columns over k classes."""
        y = np.zeros((k, b))
        y[self.rng.integers(0, k, size=b), np.arange(b)] = 1.0
        return y

    def probabilities(self, k, b):
        """Columns of a softmax output: positive, summing to 1, none near 0."""
        z = self.values(k, b)
        e = np.exp(z - z.max(axis=0))
        return e / e.sum(axis=0)

    def weights(self, widths):
        """Ws[l] of shape (n^l, n^(l+1)), scaled by 1/sqrt(n^l) as a course initialises them
        (deep networks then neither saturate nor explode), and W0s[l] of shape (n^(l+1), 1)."""
        Ws = [np.round(self.values(m, n) / np.sqrt(m), 2) for m, n in zip(widths, widths[1:])]
        Ws = [np.where(W == 0, 0.01, W) for W in Ws]
        W0s = [self.values(n, 1) for n in widths[1:]]
        return Ws, W0s

    def targets(self, loss, k, b):
        return self.one_hot(k, b) if loss == "nll" else self.values(k, b)


def profile(examples, derandomize=False, shrink=True):
    """The one Hypothesis settings profile: grading, the handout's recording and the public tests.

    No example database, no deadline, no health checks (a regime's numbers are cheap, its
    filters deliberate), one bug reported; `shrink` off where only the examples are wanted.
    """
    from hypothesis import HealthCheck, Phase, settings
    phases = (Phase.explicit, Phase.generate) + ((Phase.shrink,) if shrink else ())
    return settings(max_examples=int(examples), database=None, deadline=None, derandomize=derandomize,
                    print_blob=False, report_multiple_bugs=False, suppress_health_check=list(HealthCheck),
                    phases=phases)


def layered(widths, hidden, last, loss, **sizes):
    """A network regime whose hidden layers use each activation of `hidden` once, in any order.

    widths: a strategy for each width n^0..n^L (L = len(hidden) + 1); `last` is the output
    layer's activation and `loss` the loss; sizes: more named sizes, as in `case`.
        layered((dims(1, 3), dims(2, 4), dims(2, 4), dims(2, 4)), ("tanh", "relu"), "softmax", "nll")
    """
    if len(widths) != len(hidden) + 2:
        raise ValueError(f"layered: {len(hidden)} hidden activations need {len(hidden) + 2} widths, "
                         f"got {len(widths)}")
    return hs.builds(lambda d, ns, order, s: Case(dict(d), s, ns, tuple(order) + (last,), loss),
                     hs.fixed_dictionaries(sizes), hs.tuples(*widths), hs.permutations(list(hidden)), seeds())
