"""Reference solution: backpropagation as the 6.390 notes build it.

A batch is stored in columns. Layer ℓ = 1..L takes A^(ℓ-1) (m, b) to
Z^ℓ = (W^ℓ)^T A^(ℓ-1) + W0^ℓ (n, b) and A^ℓ = f(Z^ℓ); A^0 = x. The loss is
summed over the batch. Backprop walks from the loss unit ∂L/∂a^L down the
layers; in each layer it multiplies by the within-layer term ∂a^ℓ/∂z^ℓ, then
either by the weight term ∂z^ℓ/∂w^ℓ (to get the weight gradient) or by the
link term ∂z^ℓ/∂a^(ℓ-1) (to reach the layer below). Python lists are 0-based:
Ws[0] is W^1.

`backprop` calls every factor by its module-level name at call time, so
replacing one of them (say `link_term`) in this module changes what it returns.
"""
import functools

import numpy as np


def _float64(fn):
    """Take every array argument as a fresh float64 copy, so outputs are float64 and never alias inputs."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return fn(*(np.array(v, dtype=np.float64) for v in args),
                  **{k: np.array(v, dtype=np.float64) for k, v in kwargs.items()})
    return wrapped


# ---- activations a = f(z), applied to every entry (softmax: to every column) ----

@_float64
def linear(z):
    return z


@_float64
def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow


@_float64
def tanh(z):
    return np.tanh(z)


@_float64
def relu(z):
    return np.maximum(z, 0)


@_float64
def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))  # subtract the column max for stability
    return e / e.sum(axis=0, keepdims=True)


# ---- within-layer term ∂a/∂z: for an elementwise f, its diagonal, shaped like z ----

@_float64
def linear_grad(z):
    return np.ones_like(z)


@_float64
def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)


@_float64
def tanh_grad(z):
    return 1 - np.tanh(z) ** 2


@_float64
def relu_grad(z):
    return (z > 0).astype(np.float64)  # relu'(0) = 0


@_float64
def softmax_jacobian(z):
    """Within-layer term of softmax for one column z (n, 1): the full (n, n) Jacobian (symmetric)."""
    a = softmax(z.reshape(-1, 1))
    return np.diagflat(a) - a @ a.T


# ---- the loss and the loss unit ∂L/∂a^L ----

@_float64
def square_loss(a, y):
    return float(np.sum((a - y) ** 2))


@_float64
def nll_loss(a, y):
    return float(-np.sum(y * np.log(a)))


@_float64
def square_loss_grad(a, y):
    return 2 * (a - y)


@_float64
def nll_loss_grad(a, y):
    return -y / a


ACTIVATIONS = {  # name -> (f, within-layer term)
    "linear": (linear, linear_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "softmax": (softmax, softmax_jacobian),
}
LOSSES = {"square": (square_loss, square_loss_grad), "nll": (nll_loss, nll_loss_grad)}  # name -> (L, loss unit)


def _current(pair):
    """The functions of a table entry, looked up again as module globals now (a substituted one wins)."""
    return tuple(globals()[fn.__name__] for fn in pair)


# ---- the factors of one layer's chain rule ----

@_float64
def link_term(W):
    """Link term ∂z^ℓ/∂a^(ℓ-1), (m, n): entry [i, j] = ∂z_j/∂a_i = W_ij, so it is W itself."""
    return W


@_float64
def weight_term(a_prev):
    """Weight term ∂z^ℓ/∂w^ℓ for one unit's weight vector, per column (m, b): it is a^(ℓ-1) itself."""
    return a_prev


@_float64
def dL_dz(dL_da, da_dz):
    """∂L/∂z^ℓ = ∂L/∂a^ℓ * ∂a^ℓ/∂z^ℓ (elementwise within-layer term), (n, b)."""
    return dL_da * da_dz


@_float64
def dL_dW(a_prev, dL_dz):
    """∂L/∂W^ℓ = weight term times ∂L/∂z^ℓ, summed over the batch's columns, (m, n)."""
    return a_prev @ dL_dz.T


@_float64
def dL_dW0(dL_dz):
    """∂L/∂W0^ℓ = ∂L/∂z^ℓ (since ∂z/∂w0 = 1), summed over the batch's columns, (n, 1)."""
    return dL_dz.sum(axis=1, keepdims=True)


@_float64
def dL_da_prev(W, dL_dz):
    """∂L/∂A^(ℓ-1) = link term times ∂L/∂z^ℓ, (m, b)."""
    return W @ dL_dz


# ---- the whole network ----

def forward(x, Ws, W0s, activations):
    """Zs[i] = Z^(i+1); As[0] = x and As[i] = A^i."""
    Zs, As = [], [np.array(x, dtype=np.float64)]
    for W, W0, name in zip(Ws, W0s, activations):
        f, _ = _current(ACTIVATIONS[name])
        Zs.append(np.asarray(W, dtype=np.float64).T @ As[-1] + W0)
        As.append(f(Zs[-1]))
    return Zs, As


def backprop(x, y, Ws, W0s, activations, loss):
    """(dWs, dW0s): ∂L/∂W^ℓ and ∂L/∂W0^ℓ for every layer, loss summed over the batch."""
    Zs, As = forward(x, Ws, W0s, activations)
    _, loss_grad = _current(LOSSES[loss])
    dLdA = loss_grad(As[-1], y)  # loss unit ∂L/∂a^L
    dWs, dW0s = [None] * len(Ws), [None] * len(Ws)
    for ell in range(len(Ws), 0, -1):  # layer ℓ, from L down to 1
        Z, A_prev, W = Zs[ell - 1], As[ell - 1], Ws[ell - 1]
        if activations[ell - 1] == "softmax":  # within-layer: the full Jacobian, one column at a time
            dLdZ = np.hstack([softmax_jacobian(Z[:, [k]]).T @ dLdA[:, [k]] for k in range(Z.shape[1])])
        else:  # within-layer: elementwise, ∂a/∂z as its diagonal
            _, f_grad = _current(ACTIVATIONS[activations[ell - 1]])
            dLdZ = dL_dz(dLdA, f_grad(Z))
        dWs[ell - 1] = dL_dW(weight_term(A_prev), dLdZ)  # weight term ∂z^ℓ/∂w^ℓ
        dW0s[ell - 1] = dL_dW0(dLdZ)
        if ell > 1:
            dLdA = dL_da_prev(link_term(W), dLdZ)  # link term ∂z^ℓ/∂a^(ℓ-1): down to layer ℓ-1
    return dWs, dW0s


def two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss):
    """The notes' two-neuron network x -> z1 -> a1 -> z2 -> a2 -> L: every factor of its chain rule."""
    (f1, f1_grad), (f2, f2_grad) = _current(ACTIVATIONS[f1]), _current(ACTIVATIONS[f2])  # names -> functions
    _, loss_grad = _current(LOSSES[loss])
    w1, w2 = np.asarray(w1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    z1 = w1.T @ x + w01
    a1 = f1(z1)
    z2 = w2.T @ a1 + w02
    a2 = f2(z2)
    dL_da2 = loss_grad(a2, y)            # loss unit
    da2_dz2 = f2_grad(z2)                # layer 2: within layer
    dz2_dw2 = weight_term(a1)            # layer 2: weight term
    dz2_da1 = link_term(w2)              # layer 2: link term
    da1_dz1 = f1_grad(z1)                # layer 1: within layer
    dz1_dw1 = weight_term(x)             # layer 1: weight term, (m, 1)
    dL_dw2 = dL_da2 * da2_dz2 * dz2_dw2  # notes eq. (1)
    dL_dw02 = dL_da2 * da2_dz2
    dL_da1 = dL_da2 * da2_dz2 * dz2_da1  # notes eq. (4)
    dL_dw1 = dL_da1 * da1_dz1 * dz1_dw1  # notes eq. (6)-(7): loss unit . layer 2 . layer 1
    dL_dw01 = dL_da1 * da1_dz1
    return dict(dL_da2=dL_da2, da2_dz2=da2_dz2, dz2_dw2=dz2_dw2, dz2_da1=dz2_da1, da1_dz1=da1_dz1,
                dz1_dw1=dz1_dw1, dL_da1=dL_da1, dL_dw2=dL_dw2, dL_dw02=dL_dw02, dL_dw1=dL_dw1, dL_dw01=dL_dw01)
