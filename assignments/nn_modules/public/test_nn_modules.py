"""Public tests for nn_modules.py: run them with `pytest` in this folder.

Each test has the name of a visible test on Gradescope, and runs the same program on your
modules (`lin = Linear(3, 2); lin.W = W; ...; Z = lin.forward(A); lin.backward(dLdZ)`) on
the same kind of input (one column or a batch, m = n or m ≠ n, ...). It checks the result
without the course's solution, in up to two ways:

1. definition checks: each backward against central finite differences of the forward it
   is the derivative of, as nn_modules.py's docstrings define that forward
   (Linear: Z = WᵀA + W0; Tanh: A = tanh(Z); ReLU: A = max(0, Z); NLL after SoftMax:
   L = −Σ Y log softmax(Z)), for a fixed upstream derivative G: L = Σ G ⊙ output.
   The definition, not your forward: a wrong forward costs the forward's tests, not the
   backward's, as on Gradescope;
2. fixed cases: a few inputs whose expected outputs the course's solution computed when
   this handout was made (tests/support/cases.json); they run after the definition checks,
   and are all there is for what is not a derivative (forward passes, updates, class_fun,
   SoftMax.backward, which passes dLdZ through by the course's convention).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as hs

from inputs import (ACTIVATIONS, PROGRAMS, activation_backward_inputs, layers, linear_backward_inputs, linear_z,
                    names, nll_inputs, sequential_backward_inputs, sequential_backward_program, softmax)
from support.judging.programs import program
from support.public import check, gradient, public
from support.strategies import batches, case, dims, layered, rectangular, square

ONE = hs.just(1)


# ---- the forward computations, as nn_modules.py's docstrings define them ------------------
# (Linear's z, the activations and softmax come with the inputs, in inputs.py)

def nll(Ypred, Y):
    """NLL.forward: −Σ Y log Ypred over classes and columns."""
    return -(Y * np.log(Ypred)).sum()


# ---- the programs: what your modules are asked to do (as on Gradescope) --------------------

P = {name: program(text) for name, text in PROGRAMS.items()}


# ---- expected values, by central differences of the definitions ---------------------------

def linear_by_differences(W, W0, A, dLdZ):
    """Z, and ∂L/∂W, ∂L/∂W0, ∂L/∂A of L = Σ dLdZ ⊙ Z with Z = WᵀA + W0."""
    W, W0, A = W.copy(), W0.copy(), A.copy()

    def L():
        return (dLdZ * linear_z(W, W0, A)).sum()
    return {"Z": linear_z(W, W0, A), "dLdW": gradient(L, W), "dLdW0": gradient(L, W0), "dLdA": gradient(L, A)}


def activation_by_differences(f):
    def expected(Z, dLdA):
        Z = Z.copy()
        return {"A": ACTIVATIONS[f](Z), "dLdZ": gradient(lambda: (dLdA * ACTIVATIONS[f](Z)).sum(), Z)}
    return expected


def nll_by_differences(Ypred, Y):
    """∂L/∂Z of L = −Σ Y log softmax(Z), at a Z whose softmax is Ypred (Z = log Ypred)."""
    Z = np.log(Ypred)
    return {"L": nll(Ypred, Y), "dLdZ": gradient(lambda: nll(softmax(Z), Y), Z)}


LINEAR_HOW = "central differences of L = Σ dLdZ ⊙ Z, Z = WᵀA + W0, with respect to "


# ---- Linear --------------------------------------------------------------------------------

@public("Linear.forward — one column (b = 1), m ≠ n")
def test_linear_forward_single():
    """A forward pass is not a derivative: fixed cases only."""


@public("Linear.forward — a batch (b > 1), m ≠ n")
def test_linear_forward_batch():
    """Fixed cases only."""


@public("Linear.forward — m = n (a transposed W keeps the shape)")
def test_linear_forward_square():
    """Fixed cases only."""


@public("Linear.backward:dLdW — one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_linear_backward_dLdW_single(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_by_differences, LINEAR_HOW + "W",
          output="dLdW", requires=("Z",))


@public("Linear.backward:dLdW — a batch (b > 1), summed over its columns, m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_linear_backward_dLdW_batch(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_by_differences, LINEAR_HOW + "W",
          output="dLdW", requires=("Z",))


@public("Linear.backward:dLdW — m = n (a transposed dLdW keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_linear_backward_dLdW_square(c):
    check(c, linear_backward_inputs, P["linear_dLdW"], linear_by_differences, LINEAR_HOW + "W",
          output="dLdW", requires=("Z",))


@public("Linear.backward:dLdW0 — one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_linear_backward_dLdW0_single(c):
    check(c, linear_backward_inputs, P["linear_dLdW0"], linear_by_differences, LINEAR_HOW + "W0",
          output="dLdW0", requires=("Z",))


@public("Linear.backward:dLdW0 — a batch (b > 1), summed over its columns, m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_linear_backward_dLdW0_batch(c):
    check(c, linear_backward_inputs, P["linear_dLdW0"], linear_by_differences, LINEAR_HOW + "W0",
          output="dLdW0", requires=("Z",))


@public("Linear.backward:dLdA — W with m ≠ n")
@given(case(m=dims(), n=dims(), b=batches(1, 4)).filter(rectangular))
def test_linear_backward_dLdA_rectangular(c):
    check(c, linear_backward_inputs, P["linear_dLdA"], linear_by_differences, LINEAR_HOW + "A",
          output="dLdA", requires=("Z",))


@public("Linear.backward:dLdA — m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_linear_backward_dLdA_square(c):
    check(c, linear_backward_inputs, P["linear_dLdA"], linear_by_differences, LINEAR_HOW + "A",
          output="dLdA", requires=("Z",))


@public("Linear.sgd_step — the W step, with dLdW set by the grader")
def test_linear_sgd_step_W():
    """An update is not a derivative: fixed cases only."""


@public("Linear.sgd_step — the W0 step, with dLdW0 set by the grader")
def test_linear_sgd_step_W0():
    """Fixed cases only."""


# ---- activations: the within-layer term ------------------------------------------------------

@public("Tanh.forward — Z of shape (n, b)")
def test_tanh_forward():
    """Fixed cases only."""


@public("Tanh.backward — after Tanh.forward on the same Z, shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_tanh_backward(c):
    check(c, activation_backward_inputs, P["tanh_backward"], activation_by_differences("tanh"),
          "central differences of L = Σ dLdA ⊙ tanh(Z) with respect to Z", output="dLdZ", requires=("A",))


@public("ReLU.forward — Z of shape (n, b), no entry at the kink z = 0")
def test_relu_forward():
    """Fixed cases only."""


@public("ReLU.backward — after ReLU.forward on the same Z, both signs, no z = 0")
@given(case(n=dims(), b=batches(1, 4)))
def test_relu_backward(c):
    check(c, activation_backward_inputs, P["relu_backward"], activation_by_differences("relu"),
          "central differences of L = Σ dLdA ⊙ max(0, Z) with respect to Z", output="dLdZ", requires=("A",))


# ---- SoftMax and NLL ----------------------------------------------------------------------------

@public("SoftMax.forward — one column (b = 1), K classes")
def test_softmax_forward_single():
    """Fixed cases only."""


@public("SoftMax.forward — a batch (b > 1): each column is normalised")
def test_softmax_forward_batch():
    """Fixed cases only."""


@public("SoftMax.backward — after SoftMax.forward: dLdZ passes through")
def test_softmax_backward():
    """By the course's convention SoftMax.backward returns dLdZ unchanged (NLL.backward already
    includes softmax's derivative), so it is not the derivative of SoftMax.forward: fixed cases only."""


@public("SoftMax.class_fun — K ≠ b, no forward before it, a flat (b,) or a (1, b) answer")
def test_softmax_class_fun():
    """Fixed cases only."""


@public("SoftMax.class_fun — after SoftMax.forward on other data: the classes of its own Ypred")
def test_softmax_class_fun_after_forward():
    """Fixed cases only: class_fun must read its argument, not what forward kept."""


@public("NLL.forward — one column (b = 1)")
def test_nll_forward_single():
    """A loss is not a derivative: fixed cases only."""


@public("NLL.forward — a batch (b > 1), summed over its columns")
def test_nll_forward_batch():
    """Fixed cases only."""


NLL_HOW = "central differences of L = −Σ Y log softmax(Z) with respect to Z, at Z = log Ypred"


@public("NLL.backward — one column (b = 1)")
@given(case(K=dims(2, 5), b=ONE))
def test_nll_backward_single(c):
    check(c, nll_inputs, P["nll_backward"], nll_by_differences, NLL_HOW, output="dLdZ", requires=("L",))


@public("NLL.backward — a batch (b > 1), one column per example")
@given(case(K=dims(2, 5), b=batches()))
def test_nll_backward_batch(c):
    check(c, nll_inputs, P["nll_backward"], nll_by_differences, NLL_HOW, output="dLdZ", requires=("L",))


# ---- Sequential: your modules together -------------------------------------------------------

def layouts(**sizes):
    """Three Linear layers; tanh and relu between them (in either order); softmax and nll at the end."""
    return layered((dims(1, 3), dims(2, 4), dims(2, 4), dims(2, 4)), ("tanh", "relu"), "softmax", "nll", **sizes)


def last_linear_output(X, Ws, W0s, activations):
    """Z of the last Linear (SoftMax's input): the hidden layers' a = f(WᵀA + W0) first."""
    A = X
    for W, W0, f in zip(Ws[:-1], W0s[:-1], activations):
        A = ACTIVATIONS[f](linear_z(W, W0, A))
    return linear_z(Ws[-1], W0s[-1], A)


def sequential_backward(c):
    run = program(sequential_backward_program(c))

    def expected(X, Ws, W0s, delta):
        Ws, W0s = [W.copy() for W in Ws], [W0.copy() for W0 in W0s]

        def L():  # delta is dL/dZ of SoftMax's input, which SoftMax.backward passes on unchanged
            return (delta * last_linear_output(X, Ws, W0s, c.activations[:-1])).sum()
        out = {"Ypred": softmax(last_linear_output(X, Ws, W0s, c.activations[:-1]))}
        for l in layers(c):
            out[f"l{l}_dLdW"], out[f"l{l}_dLdW0"] = gradient(L, Ws[l - 1]), gradient(L, W0s[l - 1])
        return out
    check(c, sequential_backward_inputs, run, expected,
          "central differences of L = Σ delta ⊙ Z, Z the last Linear's output (delta is dL/dZ there), "
          "with respect to every Linear's W and W0", output=names(c, "dLdW", "dLdW0"), requires=("Ypred",))


@public("Sequential.forward — Linear, tanh and relu, Linear, softmax: one column or a batch")
def test_sequential_forward():
    """Fixed cases only."""


@public("Sequential.backward — one column (b = 1): every Linear's dLdW and dLdW0 (zero before)")
@given(layouts(b=ONE))
def test_sequential_backward_single(c):
    sequential_backward(c)


@public("Sequential.backward — a batch (b > 1): every Linear's dLdW and dLdW0 (zero before)")
@given(layouts(b=batches()))
def test_sequential_backward_batch(c):
    sequential_backward(c)


@public("Sequential.sgd_step — every module steps, with gradients set by the grader")
def test_sequential_sgd_step():
    """An update is not a derivative: fixed cases only."""


@public("Sequential.sgd — k iterations on N identical columns: k steps on that point, whichever columns are drawn")
def test_sequential_sgd():
    """Fixed cases only."""


@public("Sequential.sgd — one-hot columns through a Linear and SoftMax: every column is drawn "
        "(each moves its own row of W)")
def test_sequential_sgd_every_column():
    """Fixed cases only: with X the identity, column j moves row j of W alone, so the rows that
    moved are the columns your sgd drew (numpy seeded, as on Gradescope)."""


@public("Sequential.sgd — one-hot columns: each net.sgd(X, Y, iters=1) from the same W is one step on one column")
def test_sequential_sgd_one_column_per_step():
    """Fixed cases only: each call's W must be one of the N steps the course's solution takes,
    one per column."""
