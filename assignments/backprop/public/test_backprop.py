"""Public tests for backprop.py: run them with `pytest` in this folder.

Each test has the name of a visible test on Gradescope, and checks the same function on
the same kind of input (the same "regime": one column or a batch, m = n or m ≠ n, ...).
It does so without the course's solution, in two ways:

1. fixed cases: a few inputs whose expected outputs the course's solution computed when
   this handout was made (tests/support/cases.json); they run first, for every test;
2. definition checks: each derivative against central finite differences of the
   computation it is the derivative of, as written below from backprop.py's docstrings.
   The link term against z(a) = Wᵀa + W0, the within-layer terms against the activations,
   the loss units against the losses, the chain steps against L = Σ G ⊙ Z for a fixed
   upstream G = ∂L/∂Z, and backprop against the loss of the whole network.

Losses and the forward pass are not derivatives: only their fixed cases check them.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as hs

from inputs import (ACTIVATIONS, W_inputs, a_prev_inputs, column_z, dL_da_prev_inputs, dL_dW0_inputs, nll_inputs,
                    dL_dW_inputs, dL_dz_inputs, network_inputs, pre_activation, square_loss_inputs,
                    two_neuron_inputs, z_inputs)
from support.public import check, derivative, gradient, jacobian, point, public
from support.strategies import ELEMENTWISE, batches, case, dims, networks, rectangular, square

ONE = hs.just(1)


# ---- the forward computations, as backprop.py's docstrings define them ----------------
# (the activations, z = Wᵀa + W0 and the forward pass come with the inputs, in inputs.py)

def softmax(z):  # one column
    e = np.exp(z - np.max(z))
    return e / e.sum()


LOSSES = {"square": lambda a, y: ((a - y) ** 2).sum(),      # L = Σ (a − y)²
          "nll": lambda a, y: -(y * np.log(a)).sum()}        # L = −Σ y log a


def network_loss(x, y, Ws, W0s, activations, loss):
    """L of the whole network: each layer z = Wᵀa + W0, a = f(z); then the loss of the last a."""
    a = x
    for W, W0, f in zip(Ws, W0s, activations):
        a = ACTIVATIONS[f](pre_activation(W, W0, a))
    return LOSSES[loss](a, y)


# ---- expected values, by central differences -----------------------------------------

def loss_unit_by_differences(loss):
    def expected(a, y):
        a = a.copy()
        return gradient(lambda: LOSSES[loss](a, y), a)
    return expected


def within_layer_by_differences(f):
    return lambda z: derivative(ACTIVATIONS[f], z)


def softmax_jacobian_by_differences(z):
    z = z.copy()
    return jacobian(lambda: softmax(z), z)  # [i, j] = ∂a_i/∂z_j


def link_term_by_differences(W):
    """[i, j] = ∂z_j/∂a_i of z(a) = Wᵀa + W0 (z is linear in a: any a and W0 will do)."""
    m, n = W.shape
    a, W0 = point(m, 1), point(n, 1)
    return jacobian(lambda: pre_activation(W, W0, a), a).T


def weight_term_by_differences(a_prev):
    """Column k: ∂z/∂w of one unit's z = wᵀa + w0 at data point k (any w and w0 will do)."""
    m, b = a_prev.shape
    w, w0 = point(m, 1), point(1, 1)
    return jacobian(lambda: pre_activation(w, w0, a_prev), w).T


def dL_dz_by_differences(dL_da, da_dz):
    """∂L/∂z of L = Σ G ⊙ f(z) with G = dL_da, for an elementwise f with f′(z) = da_dz."""
    z = point(*dL_da.shape)
    return gradient(lambda: (dL_da * (da_dz * z)).sum(), z)


def upstream(m, n, b, A=None, W=None, W0=None):
    """The pieces of L = Σ G ⊙ Z, Z = WᵀA + W0, for those not given."""
    A = point(m, b) if A is None else A.copy()
    W = point(m, n) if W is None else W.copy()
    W0 = point(n, 1) if W0 is None else W0.copy()
    return A, W, W0


def dL_dW_by_differences(a_prev, dL_dz):
    A, W, W0 = upstream(a_prev.shape[0], dL_dz.shape[0], dL_dz.shape[1], A=a_prev)
    return gradient(lambda: (dL_dz * pre_activation(W, W0, A)).sum(), W)


def dL_dW0_by_differences(dL_dz):
    A, W, W0 = upstream(2, dL_dz.shape[0], dL_dz.shape[1])
    return gradient(lambda: (dL_dz * pre_activation(W, W0, A)).sum(), W0)


def dL_da_prev_by_differences(W, dL_dz):
    A, W, W0 = upstream(W.shape[0], W.shape[1], dL_dz.shape[1], W=W)
    return gradient(lambda: (dL_dz * pre_activation(W, W0, A)).sum(), A)


def backprop_by_differences(x, y, Ws, W0s, activations, loss):
    Ws, W0s = [W.copy() for W in Ws], [W0.copy() for W0 in W0s]
    L = lambda: network_loss(x, y, Ws, W0s, activations, loss)  # noqa: E731
    return [gradient(L, W) for W in Ws], [gradient(L, W0) for W0 in W0s]


def two_neuron_by_differences(x, y, w1, w01, w2, w02, f1, f2, loss):
    x, w1, w01, w2, w02 = x.copy(), w1.copy(), w01.copy(), w2.copy(), w02.copy()
    f1, f2, loss_of = ACTIVATIONS[f1], ACTIVATIONS[f2], LOSSES[loss]
    z1 = pre_activation(w1, w01, x)
    a1 = f1(z1)
    z2 = pre_activation(w2, w02, a1)
    a2 = f2(z2)

    def L_of_a1():
        return loss_of(f2(pre_activation(w2, w02, a1)), y)

    def L():
        return loss_of(f2(pre_activation(w2, w02, f1(pre_activation(w1, w01, x)))), y)

    return dict(
        dL_da2=gradient(lambda: loss_of(a2, y), a2),
        da2_dz2=derivative(f2, z2),
        dz2_dw2=gradient(lambda: pre_activation(w2, w02, a1).item(), w2),
        dz2_da1=gradient(lambda: pre_activation(w2, w02, a1).item(), a1),
        da1_dz1=derivative(f1, z1),
        dz1_dw1=gradient(lambda: pre_activation(w1, w01, x).item(), w1),
        dL_da1=gradient(L_of_a1, a1),
        dL_dw2=gradient(L, w2), dL_dw02=gradient(L, w02), dL_dw1=gradient(L, w1), dL_dw01=gradient(L, w01))


# ---- the loss and the loss unit ∂L/∂a^L ----------------------------------------------
# A loss is not a derivative: its fixed cases check it.

@public("square_loss — one column (b = 1)")
def test_square_loss_single():
    """Fixed cases only."""


@public("square_loss — a batch (b > 1), summed over its columns")
def test_square_loss_batch():
    """Fixed cases only."""


@public("nll_loss — a batch of one-hot columns")
def test_nll_loss():
    """Fixed cases only."""


@public("square_loss_grad — one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_square_loss_grad_single(c):
    check(c, square_loss_inputs, "square_loss_grad", loss_unit_by_differences("square"),
          "central differences of L = Σ (a − y)² with respect to a")


@public("square_loss_grad — a batch (b > 1)")
@given(case(n=dims(), b=batches()))
def test_square_loss_grad_batch(c):
    check(c, square_loss_inputs, "square_loss_grad", loss_unit_by_differences("square"),
          "central differences of L = Σ (a − y)² with respect to a")


@public("nll_loss_grad — one-hot columns, softmax outputs")
@given(case(n=dims(2, 5), b=batches(1, 4)))
def test_nll_loss_grad(c):
    check(c, nll_inputs, "nll_loss_grad", loss_unit_by_differences("nll"),
          "central differences of L = −Σ y log a with respect to a")


# ---- the within-layer term ∂a^ℓ/∂z^ℓ ----------------------------------------------------

@public("sigmoid_grad — z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_sigmoid_grad(c):
    check(c, z_inputs, "sigmoid_grad", within_layer_by_differences("sigmoid"),
          "central differences of a = 1 / (1 + e^(−z)), entry by entry")


@public("tanh_grad — z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_tanh_grad(c):
    check(c, z_inputs, "tanh_grad", within_layer_by_differences("tanh"),
          "central differences of a = tanh(z), entry by entry")


@public("relu_grad — z of shape (n, b), no entry at the kink z = 0")
@given(case(n=dims(), b=batches(1, 4)))
def test_relu_grad(c):
    check(c, z_inputs, "relu_grad", within_layer_by_differences("relu"),
          "central differences of a = max(z, 0), entry by entry")


@public("linear_grad — z of shape (n, b)")
@given(case(n=dims(), b=batches(1, 4)))
def test_linear_grad(c):
    check(c, z_inputs, "linear_grad", within_layer_by_differences("linear"),
          "central differences of a = z, entry by entry")


@public("softmax_jacobian — one column z of shape (n, 1)")
@given(case(n=dims(2, 5)))
def test_softmax_jacobian(c):
    check(c, column_z, "softmax_jacobian", softmax_jacobian_by_differences,
          "central differences of a = softmax(z): entry [i, j] is ∂a_i/∂z_j")


# ---- the link term ∂z^ℓ/∂a^(ℓ-1) and the weight term ∂z^ℓ/∂w^ℓ ---------------------------

@public("link_term — W^ℓ with m ≠ n")
@given(case(m=dims(), n=dims()).filter(rectangular))
def test_link_term_rectangular(c):
    check(c, W_inputs, "link_term", link_term_by_differences,
          "central differences of z(a) = Wᵀa + W0: entry [i, j] is ∂z_j/∂a_i")


@public("link_term — W^ℓ with m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4)).filter(square))
def test_link_term_square(c):
    check(c, W_inputs, "link_term", link_term_by_differences,
          "central differences of z(a) = Wᵀa + W0: entry [i, j] is ∂z_j/∂a_i")


@public("weight_term — one column (b = 1)")
@given(case(m=dims(), b=ONE))
def test_weight_term_single(c):
    check(c, a_prev_inputs, "weight_term", weight_term_by_differences,
          "central differences of one unit's z = wᵀa + w0 with respect to w, one column per data point")


@public("weight_term — a batch (b > 1)")
@given(case(m=dims(), b=batches()))
def test_weight_term_batch(c):
    check(c, a_prev_inputs, "weight_term", weight_term_by_differences,
          "central differences of one unit's z = wᵀa + w0 with respect to w, one column per data point")


# ---- chain steps: L = Σ G ⊙ Z for a fixed upstream G = ∂L/∂Z ------------------------------

DZ = "central differences of L = Σ dL_da ⊙ f(z), for an elementwise f with f′(z) = da_dz, with respect to z"


@public("dL_dz — one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_dL_dz_single(c):
    check(c, dL_dz_inputs, "dL_dz", dL_dz_by_differences, DZ)


@public("dL_dz — a batch with n = b (a matrix product also runs)")
@given(case(n=dims(2, 4)).map(lambda c: type(c)({**c.dims, "b": c.n}, c.seed)))
def test_dL_dz_square_batch(c):
    check(c, dL_dz_inputs, "dL_dz", dL_dz_by_differences, DZ)


DW = "central differences of L = Σ dL_dz ⊙ Z, Z = Wᵀa_prev + W0, with respect to W"


@public("dL_dW — one column (b = 1)")
@given(case(m=dims(), n=dims(), b=ONE))
def test_dL_dW_single(c):
    check(c, dL_dW_inputs, "dL_dW", dL_dW_by_differences, DW)


@public("dL_dW — a batch (b > 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_dL_dW_batch(c):
    check(c, dL_dW_inputs, "dL_dW", dL_dW_by_differences, DW)


DW0 = "central differences of L = Σ dL_dz ⊙ Z, Z = WᵀA + W0, with respect to W0"


@public("dL_dW0 — one column (b = 1)")
@given(case(n=dims(), b=ONE))
def test_dL_dW0_single(c):
    check(c, dL_dW0_inputs, "dL_dW0", dL_dW0_by_differences, DW0)


@public("dL_dW0 — a batch (b > 1)")
@given(case(n=dims(), b=batches()))
def test_dL_dW0_batch(c):
    check(c, dL_dW0_inputs, "dL_dW0", dL_dW0_by_differences, DW0)


DA = "central differences of L = Σ dL_dz ⊙ Z, Z = WᵀA + W0, with respect to A"


@public("dL_da_prev — one column (b = 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=ONE).filter(rectangular))
def test_dL_da_prev_single(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", dL_da_prev_by_differences, DA)


@public("dL_da_prev — a batch (b > 1), m ≠ n")
@given(case(m=dims(), n=dims(), b=batches()).filter(rectangular))
def test_dL_da_prev_batch(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", dL_da_prev_by_differences, DA)


@public("dL_da_prev — m = n (a transposed W keeps the shape)")
@given(case(m=dims(2, 4), n=dims(2, 4), b=batches(1, 4)).filter(square))
def test_dL_da_prev_square(c):
    check(c, dL_da_prev_inputs, "dL_da_prev", dL_da_prev_by_differences, DA)


# ---- the forward pass: not a derivative, so its fixed cases check it ----------------------

@public("forward — one layer")
def test_forward_one_layer():
    """Fixed cases only."""


@public("forward — two or three layers, every activation")
def test_forward_deep():
    """Fixed cases only."""


# ---- end to end: the whole chain against the loss of the whole network --------------------

NETWORK = "central differences of the network's loss with respect to every entry of every W^ℓ and W0^ℓ"


@public("backprop — one layer, square loss")
@given(networks(layers=(1, 1), loss="square"))
def test_backprop_one_layer(c):
    check(c, network_inputs, "backprop", backprop_by_differences, NETWORK, parts=("dWs", "dW0s"))


@public("backprop — two layers, square loss")
@given(networks(layers=(2, 2), loss="square"))
def test_backprop_two_layers(c):
    check(c, network_inputs, "backprop", backprop_by_differences, NETWORK, parts=("dWs", "dW0s"))


@public("backprop — two or three layers of equal width (a transposed W keeps the shape)")
@given(networks(layers=(2, 3), widths=dims(2, 4), loss="square", equal_widths=True))
def test_backprop_equal_widths(c):
    check(c, network_inputs, "backprop", backprop_by_differences, NETWORK, parts=("dWs", "dW0s"))


def two_neuron_case(loss):
    f2 = hs.just("sigmoid") if loss == "nll" else hs.sampled_from(ELEMENTWISE)
    return hs.builds(lambda c, f1, f2: type(c)({**c.dims, "f1": f1, "f2": f2}, c.seed, loss=loss),
                     case(m=dims(1, 4)), hs.sampled_from(ELEMENTWISE), f2)


TWO = "central differences of each factor's own computation (z¹, a¹, z², a², L)"


@public("two_neuron_backprop — the notes' two-neuron network, square loss")
@given(two_neuron_case("square"))
def test_two_neuron_square(c):
    check(c, two_neuron_inputs, "two_neuron_backprop", two_neuron_by_differences, TWO)


@public("two_neuron_backprop — the two-neuron network, sigmoid output, nll loss")
@given(two_neuron_case("nll"))
def test_two_neuron_nll(c):
    check(c, two_neuron_inputs, "two_neuron_backprop", two_neuron_by_differences, TWO)
