"""The peer: what a course would write instead of this project, for the benchmark only.

(Named peer_backprop.py, not test_*.py, so that no pytest run of the repository collects it.)

A plain unittest autograder in the gradescope-utils style. It imports the student's
backprop.py into this very process (no sandbox), draws every example with numpy's
random generator, computes the expected answer inline with the reference solution
and compares with numpy. One test method per graded test of
assignments/backprop/tests/test_backprop.py, with the same names, the same regimes
(shapes, batch sizes, activations, losses) and the same points; each checks
`EXAMPLES` examples (run_tests.py sets it from assignment.yaml:
examples.hypothesis x examples.instances).

No shrinking, no misconception diagnosis, no isolation: it is the fast baseline the
project is measured against, not a grader to use.
"""
import unittest

import numpy as np
from gradescope_utils.autograder_utils.decorators import weight

from reference import backprop as ref

student = None        # the student's module, set by run_tests.py
EXAMPLES = 100        # examples per test, set by run_tests.py
SEED = 6390
RTOL, ATOL = 1e-4, 1e-6
ELEMENTWISE = ("linear", "sigmoid", "tanh", "relu")


# ---- drawing inputs with numpy's generator ------------------------------------------

def entries(rng, *shape):
    """Readable numbers, two decimals, magnitude in [0.05, 2], never zero."""
    size = rng.integers(5, 201, size=shape) / 100.0
    return size * rng.choice((-1.0, 1.0), size=shape)


def positive(rng, *shape):
    return rng.integers(5, 201, size=shape) / 100.0


def one_hot(rng, k, b):
    y = np.zeros((k, b))
    y[rng.integers(0, k, size=b), np.arange(b)] = 1.0
    return y


def probabilities(rng, k, b):
    e = np.exp(entries(rng, k, b))
    return e / e.sum(axis=0, keepdims=True)


def two_distinct(rng, low, high):
    m = int(rng.integers(low, high + 1))
    n = int(rng.integers(low, high))
    return m, (n + 1 if n >= m else n)


def network(rng, layers, loss, equal_widths=False):
    """Widths, activations, x, y, Ws, W0s for a random network; redrawn away from relu's kink."""
    L = int(rng.integers(layers[0], layers[1] + 1))
    loss = loss or ("square", "nll")[int(rng.integers(2))]
    if equal_widths:
        widths = [int(rng.integers(2, 5))] * (L + 1)
    else:
        widths = [int(w) for w in rng.integers(1, 5, size=L + 1)]
    acts = [ELEMENTWISE[int(i)] for i in rng.integers(0, 4, size=L - 1)]
    if loss == "nll":
        widths[-1] = max(widths[-1], 2)
        acts.append("softmax")
    else:
        acts.append(ELEMENTWISE[int(rng.integers(4))])
    b = int(rng.integers(1, 4))
    for _ in range(50):
        x = entries(rng, widths[0], b)
        Ws = [entries(rng, m, n) / np.sqrt(m) for m, n in zip(widths, widths[1:])]
        W0s = [entries(rng, n, 1) for n in widths[1:]]
        Zs, _ = ref.forward(x, Ws, W0s, acts)
        if all(np.abs(Z).min() > 0.01 for Z, f in zip(Zs, acts) if f == "relu"):
            break
    y = one_hot(rng, widths[-1], b) if loss == "nll" else entries(rng, widths[-1], b)
    return dict(x=x, y=y, Ws=Ws, W0s=W0s, activations=acts, loss=loss)


# ---- comparing ----------------------------------------------------------------------

def assert_close(got, want, where="answer"):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            raise AssertionError(f"{where}: expected a dict, got {type(got).__name__}")
        for key in want:
            if key not in got:
                raise AssertionError(f"{where}: missing key {key!r}")
            assert_close(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, (list, tuple)):
        if len(got) != len(want):
            raise AssertionError(f"{where}: expected {len(want)} items, got {len(got)}")
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{where}[{i}]")
    else:
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            raise AssertionError(f"{where}: expected shape {want.shape}, got {got.shape}")
        if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            raise AssertionError(f"{where}: expected\n{want}\ngot\n{got}")


class TestBackprop(unittest.TestCase):
    def examples(self, name, make, function=None, reference=None):
        """EXAMPLES times: inputs = make(rng); student's `name`(**inputs) against the reference's."""
        rng = np.random.default_rng([SEED, sum(map(ord, name))])
        student_fn = getattr(student, function or name)
        reference_fn = reference or getattr(ref, function or name)
        for _ in range(EXAMPLES):
            inputs = make(rng)
            want = reference_fn(**inputs)
            got = student_fn(*inputs.values())
            try:
                assert_close(got, want)
            except AssertionError as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in inputs.items())
                self.fail(f"{function or name}({shown}):\n{exc}")

    # -- loss and loss unit
    @weight(1)
    def test_square_loss_single(self):
        """square_loss, one column"""
        def make(r):
            n = int(r.integers(1, 5))
            return dict(a=entries(r, n, 1), y=entries(r, n, 1))
        self.examples("square_loss_single", make, "square_loss")

    @weight(1)
    def test_square_loss_batch(self):
        """square_loss, a batch"""
        def make(r):
            n, b = int(r.integers(1, 5)), int(r.integers(2, 5))
            return dict(a=entries(r, n, b), y=entries(r, n, b))
        self.examples("square_loss_batch", make, "square_loss")

    @weight(1)
    def test_nll_loss(self):
        """nll_loss"""
        def make(r):
            n, b = int(r.integers(2, 6)), int(r.integers(1, 5))
            return dict(a=probabilities(r, n, b), y=one_hot(r, n, b))
        self.examples("nll_loss", make)

    @weight(1)
    def test_square_loss_grad_single(self):
        """square_loss_grad, one column"""
        def make(r):
            n = int(r.integers(1, 5))
            return dict(a=entries(r, n, 1), y=entries(r, n, 1))
        self.examples("square_loss_grad_single", make, "square_loss_grad")

    @weight(1)
    def test_square_loss_grad_batch(self):
        """square_loss_grad, a batch"""
        def make(r):
            n, b = int(r.integers(1, 5)), int(r.integers(2, 5))
            return dict(a=entries(r, n, b), y=entries(r, n, b))
        self.examples("square_loss_grad_batch", make, "square_loss_grad")

    @weight(1)
    def test_nll_loss_grad(self):
        """nll_loss_grad"""
        def make(r):
            n, b = int(r.integers(2, 6)), int(r.integers(1, 5))
            return dict(a=probabilities(r, n, b), y=one_hot(r, n, b))
        self.examples("nll_loss_grad", make)

    # -- within-layer terms
    def within(self, name):
        def make(r):
            return dict(z=entries(r, int(r.integers(1, 5)), int(r.integers(1, 5))))
        self.examples(name, make)

    @weight(1)
    def test_sigmoid_grad(self):
        """sigmoid_grad"""
        self.within("sigmoid_grad")

    @weight(1)
    def test_tanh_grad(self):
        """tanh_grad"""
        self.within("tanh_grad")

    @weight(1)
    def test_relu_grad(self):
        """relu_grad"""
        self.within("relu_grad")

    @weight(1)
    def test_linear_grad(self):
        """linear_grad"""
        self.within("linear_grad")

    @weight(1)
    def test_softmax_jacobian(self):
        """softmax_jacobian, one column"""
        self.examples("softmax_jacobian", lambda r: dict(z=entries(r, int(r.integers(2, 6)), 1)))

    # -- link and weight terms
    @weight(1)
    def test_link_term_rectangular(self):
        """link_term, m != n"""
        self.examples("link_term_rectangular", lambda r: dict(W=entries(r, *two_distinct(r, 1, 4))),
                      "link_term")

    @weight(1)
    def test_link_term_square(self):
        """link_term, m = n"""
        def make(r):
            n = int(r.integers(2, 5))
            return dict(W=entries(r, n, n))
        self.examples("link_term_square", make, "link_term")

    @weight(1)
    def test_weight_term_single(self):
        """weight_term, one column"""
        self.examples("weight_term_single", lambda r: dict(a_prev=entries(r, int(r.integers(1, 5)), 1)),
                      "weight_term")

    @weight(1)
    def test_weight_term_batch(self):
        """weight_term, a batch"""
        self.examples("weight_term_batch",
                      lambda r: dict(a_prev=entries(r, int(r.integers(1, 5)), int(r.integers(2, 5)))),
                      "weight_term")

    # -- chain steps
    @weight(1)
    def test_dL_dz_single(self):
        """dL_dz, one column"""
        def make(r):
            n = int(r.integers(1, 5))
            return dict(dL_da=entries(r, n, 1), da_dz=positive(r, n, 1))
        self.examples("dL_dz_single", make, "dL_dz")

    @weight(1)
    def test_dL_dz_square_batch(self):
        """dL_dz, n = b"""
        def make(r):
            n = int(r.integers(2, 5))
            return dict(dL_da=entries(r, n, n), da_dz=positive(r, n, n))
        self.examples("dL_dz_square_batch", make, "dL_dz")

    @weight(1)
    def test_dL_dW_single(self):
        """dL_dW, one column"""
        def make(r):
            m, n = int(r.integers(1, 5)), int(r.integers(1, 5))
            return dict(a_prev=entries(r, m, 1), dL_dz=entries(r, n, 1))
        self.examples("dL_dW_single", make, "dL_dW")

    @weight(1)
    def test_dL_dW_batch(self):
        """dL_dW, a batch, m != n"""
        def make(r):
            (m, n), b = two_distinct(r, 1, 4), int(r.integers(2, 5))
            return dict(a_prev=entries(r, m, b), dL_dz=entries(r, n, b))
        self.examples("dL_dW_batch", make, "dL_dW")

    @weight(1)
    def test_dL_dW0_single(self):
        """dL_dW0, one column"""
        self.examples("dL_dW0_single", lambda r: dict(dL_dz=entries(r, int(r.integers(1, 5)), 1)), "dL_dW0")

    @weight(1)
    def test_dL_dW0_batch(self):
        """dL_dW0, a batch"""
        self.examples("dL_dW0_batch",
                      lambda r: dict(dL_dz=entries(r, int(r.integers(1, 5)), int(r.integers(2, 5)))),
                      "dL_dW0")

    @weight(1)
    def test_dL_da_prev_single(self):
        """dL_da_prev, one column, m != n"""
        def make(r):
            m, n = two_distinct(r, 1, 4)
            return dict(W=entries(r, m, n), dL_dz=entries(r, n, 1))
        self.examples("dL_da_prev_single", make, "dL_da_prev")

    @weight(1)
    def test_dL_da_prev_batch(self):
        """dL_da_prev, a batch, m != n"""
        def make(r):
            (m, n), b = two_distinct(r, 1, 4), int(r.integers(2, 5))
            return dict(W=entries(r, m, n), dL_dz=entries(r, n, b))
        self.examples("dL_da_prev_batch", make, "dL_da_prev")

    @weight(1)
    def test_dL_da_prev_square(self):
        """dL_da_prev, m = n"""
        def make(r):
            n, b = int(r.integers(2, 5)), int(r.integers(1, 5))
            return dict(W=entries(r, n, n), dL_dz=entries(r, n, b))
        self.examples("dL_da_prev_square", make, "dL_da_prev")

    # -- forward pass and end to end
    def forward(self, name, layers, loss):
        def make(r):
            net = network(r, layers, loss)
            return dict(x=net["x"], Ws=net["Ws"], W0s=net["W0s"], activations=net["activations"])
        self.examples(name, make, "forward")

    @weight(2)
    def test_forward_one_layer(self):
        """forward, one layer"""
        self.forward("forward_one_layer", (1, 1), "square")

    @weight(2)
    def test_forward_deep(self):
        """forward, two or three layers"""
        self.forward("forward_deep", (2, 3), None)

    def backprop(self, name, layers, loss, equal_widths=False):
        self.examples(name, lambda r: network(r, layers, loss, equal_widths), "backprop")

    @weight(3)
    def test_backprop_one_layer(self):
        """backprop, one layer, square loss"""
        self.backprop("backprop_one_layer", (1, 1), "square")

    @weight(3)
    def test_backprop_two_layers(self):
        """backprop, two layers, square loss"""
        self.backprop("backprop_two_layers", (2, 2), "square")

    @weight(3)
    def test_backprop_deep(self):
        """backprop, three or four layers, square loss"""
        self.backprop("backprop_deep", (3, 4), "square")

    @weight(3)
    def test_backprop_equal_widths(self):
        """backprop, two or three layers of equal width"""
        self.backprop("backprop_equal_widths", (2, 3), "square", equal_widths=True)

    @weight(3)
    def test_backprop_nll_softmax(self):
        """backprop, softmax output with the nll loss"""
        self.backprop("backprop_nll_softmax", (1, 3), "nll")

    def two_neuron(self, name, loss):
        def make(r):
            m = int(r.integers(1, 5))
            f1 = ELEMENTWISE[int(r.integers(4))]
            f2 = "sigmoid" if loss == "nll" else ELEMENTWISE[int(r.integers(4))]
            for _ in range(50):
                x, w1 = entries(r, m, 1), entries(r, m, 1)
                w01, w2, w02 = entries(r, 1, 1), entries(r, 1, 1), entries(r, 1, 1)
                z1 = w1.T @ x + w01
                z2 = w2 * ref.ACTIVATIONS[f1][0](z1) + w02
                if min(abs(z1.item()), abs(z2.item())) > 0.01:
                    break
            y = one_hot(r, 1, 1) if loss == "nll" else entries(r, 1, 1)
            return dict(x=x, y=y, w1=w1, w01=w01, w2=w2, w02=w02, f1=f1, f2=f2, loss=loss)
        self.examples(name, make, "two_neuron_backprop")

    @weight(3)
    def test_two_neuron_square(self):
        """two_neuron_backprop, square loss"""
        self.two_neuron("two_neuron_square", "square")

    @weight(3)
    def test_two_neuron_nll(self):
        """two_neuron_backprop, nll loss"""
        self.two_neuron("two_neuron_nll", "nll")
