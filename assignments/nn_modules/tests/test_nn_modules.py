"""Graded tests for nn_modules.py, method by method, in the order the notes build the chain.

Module tests run one module of the student's on inputs the grader draws: a backward runs
right after that module's own forward (which keeps what backward needs), never after the
student's other modules, so a wrong Tanh costs Tanh's points and nothing of Linear's.
Where forward raises, the grader sets what the contract says forward keeps (Linear's A,
NLL's Ypred and Y) and grades backward on that, so a broken forward costs forward's points
only. Linear.backward is graded as three quantities (dLdW, the weight term; dLdW0, the
offset; the returned dLdA, the link term), each its own test, read even when backward
raises after setting them. When a backward is wrong and the forward before it was wrong
too, the feedback says so. class_fun is graded on a Ypred of its own, with no forward
before it and after a forward on other data.

The Sequential tests run the student's modules together, end to end: forward, backward
(with a delta the grader chose, so NLL is not involved), sgd_step (with gradients the grader
set), and sgd, graded on what holds for any correct way of drawing columns (randint, choice,
a permutation): on N identical columns, k iterations are k steps on that point; on one-hot
columns, every column is drawn, and one iteration is one step on a single column. numpy is
seeded in the worker, so each grading sees the same draws. An optional test (off unless
assignment.yaml's `optional_tests` names it) asks for the course's exact values at seed 0.

Regimes are separate tests, so partial credit means something: one column against a batch,
m ≠ n against m = n (where a transposed answer keeps its shape).
"""
from hypothesis import given
from hypothesis import strategies as hs

from autograder.strategies import batches, case, dims, layered, rectangular, square
from autograder.testing import check, graded, program, squeezed
import numpy as np

from autograder.judging.compare import Moved, OneOf
from inputs import (PROGRAMS, SGD_LRATE, STEP_CALLS, activation_backward_inputs, class_fun_after_forward_inputs,
                    class_fun_inputs, layers, linear_backward_inputs, linear_inputs, linear_sgd_step_inputs, names,
                    network, nll_inputs, reads, seeded_network, seeded_sgd_inputs, sequential_backward_inputs,
                    sequential_backward_program, sequential_inputs, sequential_sgd_inputs, sequential_sgd_step_inputs,
                    sgd_columns_inputs, sgd_step_inputs, softmax_backward_inputs, softmax_inputs, z_inputs)
from reference import nn_modules as ref

ONE = hs.just(1)


# ---- the reference, on the grader's side ----------------------------------------------

def linear(W, W0):
    """A reference Linear holding W and W0 (without __init__'s random draw)."""
    lin = ref.Linear.__new__(ref.Linear)
    lin.m, lin.n = W.shape
    lin.W, lin.W0 = W, W0
    return lin


def linear_forward(W, W0, A):
    return {"Z": linear(W, W0).forward(A)}


def linear_backward(W, W0, A, dLdZ):
    lin = linear(W, W0)
    Z = lin.forward(A)
    dLdA = lin.backward(dLdZ)
    return {"Z": Z, "dLdA": dLdA, "dLdW": lin.dLdW, "dLdW0": lin.dLdW0}


def linear_sgd_step(W, W0, dLdW, dLdW0, lrate):
    lin = linear(W, W0)
    lin.dLdW, lin.dLdW0 = dLdW, dLdW0
    lin.sgd_step(lrate)
    return {"W_after": lin.W, "W0_after": lin.W0}


def activation(cls):
    def forward_backward(Z, dLdA=None):
        f = cls()
        A = f.forward(Z)
        return {"A": A} if dLdA is None else {"A": A, "dLdZ": f.backward(dLdA)}
    return forward_backward


def softmax(Z, dLdZ=None):
    sm = ref.SoftMax()
    Ypred = sm.forward(Z)
    return {"Ypred": Ypred} if dLdZ is None else {"Ypred": Ypred, "returned": sm.backward(dLdZ)}


def class_fun(Ypred, Z=None):
    """The classes of Ypred itself (after a forward on Z, when there is one)."""
    return {"classes": ref.SoftMax().class_fun(Ypred)}


def nll(Ypred, Y):
    loss = ref.NLL()
    return {"L": loss.forward(Ypred, Y), "dLdZ": loss.backward()}


# ---- programs: what the student's code is asked to do ------------------------------------

P = {name: program(text) for name, text in PROGRAMS.items()}


# ---- Linear: forward, the three quantities of backward, sgd_step ---------------------------

@graded("Linear.forward", "forward", "one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_linear_forward_single(c):
    check(c, linear_inputs, P["linear_forward"], linear_forward, output="Z")


@graded("Linear.forward", "forward", "a batch (b > 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_linear_forward_batch(c):
    check(c, linear_inputs, P["linear_forward"], linear_forward, output="Z")


@graded("Linear.forward", "forward", "m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_linear_forward_square(c):
    check(c, linear_inputs, P["linear_forward"], linear_forward, output="Z")


# dLdW and dLdW0 are read after backward, even when it raised after setting them: a backward
# that goes on to compute dLdA with a wrong shape (m ≠ n) costs the dLdA tests, not these.

@graded("Linear.backward:dLdW", "weight-term", "one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_linear_backward_dLdW_single(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_backward, output="dLdW", requires=("Z",))


@graded("Linear.backward:dLdW", "weight-term", "a batch (b > 1), summed over its columns, m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_linear_backward_dLdW_batch(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_backward, output="dLdW", requires=("Z",))


@graded("Linear.backward:dLdW", "weight-term", "m = n (a transposed dLdW keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_linear_backward_dLdW_square(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_backward, output="dLdW", requires=("Z",))


@graded("Linear.backward:dLdW0", "weight-term", "one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_linear_backward_dLdW0_single(c):
    check(c, linear_backward_inputs, P["linear_dLdW0"], linear_backward, output="dLdW0", requires=("Z",))


@graded("Linear.backward:dLdW0", "weight-term", "a batch (b > 1), summed over its columns, m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_linear_backward_dLdW0_batch(c):
    check(c, linear_backward_inputs, P["linear_dLdW0"], linear_backward, output="dLdW0", requires=("Z",))


@graded("Linear.backward:dLdA", "link-term", "W with m ≠ n")
@given(case(m=dims(), n=dims(), b=batches(1, 4)).filter(rectangular))
def test_linear_backward_dLdA_rectangular(c):
    check(c, linear_backward_inputs, P["linear_dLdA"], linear_backward, output="dLdA", requires=("Z",))


@graded("Linear.backward:dLdA", "link-term", "m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_linear_backward_dLdA_square(c):
    check(c, linear_backward_inputs, P["linear_dLdA"], linear_backward, output="dLdA", requires=("Z",))


@graded("Linear.sgd_step", "update", "the W step, with dLdW set by the grader")
@given(case(m=dims(), n=dims()))
def test_linear_sgd_step_W(c):
    check(c, linear_sgd_step_inputs, P["linear_sgd_step_W"], linear_sgd_step, output=("W_after",))


@graded("Linear.sgd_step", "update", "the W0 step, with dLdW0 set by the grader")
@given(case(m=dims(), n=dims()))
def test_linear_sgd_step_W0(c):
    check(c, linear_sgd_step_inputs, P["linear_sgd_step_W0"], linear_sgd_step, output=("W0_after",))


# ---- activations: the within-layer term ----------------------------------------------------

@graded("Tanh.forward", "forward", "Z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_tanh_forward(c):
    check(c, z_inputs, P["tanh_forward"], activation(ref.Tanh), output="A")


@graded("Tanh.backward", "within-layer", "after Tanh.forward on the same Z, shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_tanh_backward(c):
    check(c, activation_backward_inputs, P["tanh_backward"], activation(ref.Tanh), output="dLdZ", requires=("A",))


@graded("ReLU.forward", "forward", "Z of shape (n, b), no entry at the kink z = 0")
@given(case(n=dims(), b=batches(1, 4)))
def test_relu_forward(c):
    check(c, z_inputs, P["relu_forward"], activation(ref.ReLU), output="A")


@graded("ReLU.backward", "within-layer", "after ReLU.forward on the same Z, both signs, no z = 0")
@given(case(n=dims(), b=batches(1, 4)))
def test_relu_backward(c):
    check(c, activation_backward_inputs, P["relu_backward"], activation(ref.ReLU), output="dLdZ", requires=("A",))


# ---- SoftMax and NLL: the output layer and the loss unit -----------------------------------

@graded("SoftMax.forward", "forward", "one column (b = 1), K classes")
@given(case(K=dims(2, 5), b=ONE))
def test_softmax_forward_single(c):
    check(c, softmax_inputs, P["softmax_forward"], softmax, output="Ypred")


@graded("SoftMax.forward", "forward", "a batch (b > 1): each column is normalised")
@given(case(K=dims(2, 5), b=batches()))
def test_softmax_forward_batch(c):
    check(c, softmax_inputs, P["softmax_forward"], softmax, output="Ypred")


@graded("SoftMax.backward", "chain-step", "after SoftMax.forward: dLdZ passes through")
@given(case(K=dims(2, 5), b=batches(1, 4)))
def test_softmax_backward(c):
    check(c, softmax_backward_inputs, P["softmax_backward"], softmax, output="returned", requires=("Ypred",))


@graded("SoftMax.class_fun", "forward", "K ≠ b, no forward before it, a flat (b,) or a (1, b) answer")
@given(case(K=dims(2, 5), b=batches(1, 5)).filter(lambda c: c.K != c.b))
def test_softmax_class_fun(c):
    check(c, class_fun_inputs, P["class_fun"], class_fun, output="classes", accept=squeezed)


@graded("SoftMax.class_fun", "forward", "after SoftMax.forward on other data: the classes of its own Ypred")
@given(case(K=dims(2, 5), b=batches(1, 5)).filter(lambda c: c.K != c.b))
def test_softmax_class_fun_after_forward(c):
    check(c, class_fun_after_forward_inputs, P["class_fun_after_forward"], class_fun, output="classes",
          accept=squeezed)


@graded("NLL.forward", "forward", "one column (b = 1)")
@given(case(K=dims(2, 5), b=ONE))
def test_nll_forward_single(c):
    check(c, nll_inputs, P["nll_forward"], nll, output="L")


@graded("NLL.forward", "forward", "a batch (b > 1), summed over its columns")
@given(case(K=dims(2, 5), b=batches()))
def test_nll_forward_batch(c):
    check(c, nll_inputs, P["nll_forward"], nll, output="L")


@graded("NLL.backward", "loss-unit", "one column (b = 1)")
@given(case(K=dims(2, 5), b=ONE))
def test_nll_backward_single(c):
    check(c, nll_inputs, P["nll_backward"], nll, output="dLdZ", requires=("L",))


@graded("NLL.backward", "loss-unit", "a batch (b > 1), one column per example")
@given(case(K=dims(2, 5), b=batches()))
def test_nll_backward_batch(c):
    check(c, nll_inputs, P["nll_backward"], nll, output="dLdZ", requires=("L",))


# ---- Sequential: the student's modules together, end to end --------------------------------

REFERENCE = {"tanh": ref.Tanh, "relu": ref.ReLU, "softmax": ref.SoftMax}
LRATE = 0.1


def layouts(**sizes):
    """Three Linear layers; tanh and relu between them (in either order); softmax and nll at the end."""
    return layered((dims(1, 3), dims(2, 4), dims(2, 4), dims(2, 4)), ("tanh", "relu"), "softmax", "nll", **sizes)


def network_program(c, then):
    """Build the student's network with the grader's weights, then `then` (statements)."""
    return program(network(c, then))


def reference_network(Ws, W0s, activations):
    modules = []
    for W, W0, f in zip(Ws, W0s, activations):
        modules += [linear(W, W0), REFERENCE[f]()]
    return ref.Sequential(modules, ref.NLL())


def outputs(net, *attrs):
    lins = net.modules[::2]
    return {f"l{l}_{a}": getattr(lins[l - 1], a) for l in range(len(lins), 0, -1) for a in attrs}


@graded("Sequential.forward", "forward", "Linear, tanh and relu, Linear, softmax: one column or a batch")
@given(layouts(b=batches(1, 3)))
def test_sequential_forward(c):
    def expected(X, Ws, W0s):
        return {"Ypred": reference_network(Ws, W0s, c.activations).forward(X)}
    check(c, sequential_inputs, network_program(c, ["Ypred = net.forward(X)"]), expected, output="Ypred")


def sequential_backward(c):
    run = program(sequential_backward_program(c))

    def expected(X, Ws, W0s, delta):
        net = reference_network(Ws, W0s, c.activations)
        Ypred = net.forward(X)
        net.backward(delta)
        return {"Ypred": Ypred, **outputs(net, "dLdW", "dLdW0")}
    check(c, sequential_backward_inputs, run, expected, output=names(c, "dLdW", "dLdW0"), requires=("Ypred",))


@graded("Sequential.backward", "end-to-end", "one column (b = 1): every Linear's dLdW and dLdW0 (zero before)")
@given(layouts(b=ONE))
def test_sequential_backward_single(c):
    sequential_backward(c)


@graded("Sequential.backward", "end-to-end", "a batch (b > 1): every Linear's dLdW and dLdW0 (zero before)")
@given(layouts(b=batches()))
def test_sequential_backward_batch(c):
    sequential_backward(c)


@graded("Sequential.sgd_step", "update", "every module steps, with gradients set by the grader")
@given(layouts())
def test_sequential_sgd_step(c):
    sets = [f"l{l}.{a} = {a}s[{l - 1}]" for l in layers(c) for a in ("dLdW", "dLdW0")]
    run = network_program(c, sets + ["net.sgd_step(lrate)"] + reads(c, "W", "W0"))

    def expected(Ws, W0s, dLdWs, dLdW0s, lrate):
        net = reference_network(Ws, W0s, c.activations)
        for lin, dLdW, dLdW0 in zip(net.modules[::2], dLdWs, dLdW0s):
            lin.dLdW, lin.dLdW0 = dLdW, dLdW0
        net.sgd_step(lrate)
        return outputs(net, "W", "W0")
    check(c, sequential_sgd_step_inputs, run, expected, output=names(c, "W", "W0"))


@graded("Sequential.sgd", "end-to-end",
        "k iterations on N identical columns: k steps on that point, whichever columns are drawn")
@given(layouts(N=hs.integers(2, 4), k=hs.integers(1, 3)))
def test_sequential_sgd(c):
    run = network_program(c, ["np.random.seed(seed)", f"net.sgd(X, Y, iters={c.k}, lrate={LRATE})"]
                          + reads(c, "W", "W0"))

    def expected(X, Y, Ws, W0s, seed):
        net = reference_network(Ws, W0s, c.activations)
        for _ in range(c.k):
            net.loss.forward(net.forward(X[:, :1]), Y[:, :1])
            net.backward(net.loss.backward())
            net.sgd_step(LRATE)
        return outputs(net, "W", "W0")
    check(c, sequential_sgd_inputs, run, expected, output=names(c, "W", "W0"))


def one_layer(W, W0):
    return ref.Sequential([linear(W, W0), ref.SoftMax()], ref.NLL())


def one_step(X, Y, W, W0, j):
    """W after one reference sgd iteration on column j of X (a Linear, SoftMax and NLL)."""
    net = one_layer(W, W0)
    net.loss.forward(net.forward(X[:, j:j + 1]), Y[:, j:j + 1])
    net.backward(net.loss.backward())
    net.sgd_step(SGD_LRATE)
    return net.modules[0].W


@graded("Sequential.sgd", "end-to-end",
        "one-hot columns through a Linear and SoftMax: every column is drawn (each moves its own row of W)")
@given(case(N=dims(3, 4), K=dims(2, 4)))  # N >= 3: a sampler that misses one column is not one that draws one
def test_sequential_sgd_every_column(c):
    def expected(X, Y, W, W0, seed):
        return {"W_after": Moved(W, np.ones(len(W)))}
    check(c, sgd_columns_inputs, P["sgd_columns"], expected, output="W_after")


@graded("Sequential.sgd", "end-to-end",
        "one-hot columns: each net.sgd(X, Y, iters=1) from the same W is one step on one column")
@given(case(N=dims(2, 4), K=dims(2, 4)))
def test_sequential_sgd_one_column_per_step(c):
    def expected(X, Y, W, W0, seed):
        steps = OneOf([one_step(X, Y, W, W0, j) for j in range(X.shape[1])],
                      [f"one step on column {j}" for j in range(X.shape[1])])
        return {f"W_{t}": steps for t in range(1, STEP_CALLS + 1)}
    check(c, sgd_step_inputs, P["sgd_step"], expected, output=[f"W_{t}" for t in range(1, STEP_CALLS + 1)])


SEEDED_ITERS, SEEDED_LRATE = 10, 0.005


@graded("Sequential.sgd", "end-to-end", "the course's exact values: np.random.seed(0), the student's own "
        "initial weights, np.random.randint's columns", optional=True)
@given(layouts(N=hs.integers(2, 5)))
def test_sequential_sgd_seed0(c):
    then = [f"net.sgd(X, Y, iters={SEEDED_ITERS}, lrate={SEEDED_LRATE})"] + reads(c, "W", "W0")

    def expected(X, Y):
        saved = np.random.get_state()  # the grader's own global generator is left as it was
        try:
            np.random.seed(0)
            modules = []
            for (m, n), f in zip(zip(c.widths, c.widths[1:]), c.activations):
                modules += [ref.Linear(m, n), REFERENCE[f]()]
            net = ref.Sequential(modules, ref.NLL())
            net.sgd(X, Y, iters=SEEDED_ITERS, lrate=SEEDED_LRATE)
        finally:
            np.random.set_state(saved)
        return outputs(net, "W", "W0")
    check(c, seeded_sgd_inputs, program(seeded_network(c, then)), expected, output=names(c, "W", "W0"))
