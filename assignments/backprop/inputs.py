"""The inputs of backprop.py's tests, as the contract names them: shared by the graded and the public tests.

Each builder takes a `Draw` (numbers from a seeded generator) and a regime `c` (its sizes,
layout and seed; see autograder/strategies.py) and returns the inputs by name, in the
contract's order. The graded tests (tests/) and the public tests (public/, shipped in the
handout as tests/inputs.py) draw the same inputs from the same regime. Nothing here calls
the course's solution: the forward pass below is only what the builders need to keep
inputs away from relu's kink.
"""
import numpy as np


# ---- the forward computations the builders need ------------------------------------------

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    """Each column exponentiated, then divided by its sum."""
    e = np.exp(z - np.max(z, axis=0))
    return e / e.sum(axis=0)


ACTIVATIONS = {"linear": lambda z: z, "sigmoid": sigmoid, "tanh": np.tanh,
               "relu": lambda z: np.maximum(z, 0), "softmax": softmax}


def pre_activation(W, W0, a):
    """z = Wᵀa + W0: the layer's linear part."""
    return W.T @ a + W0


def pre_activations(x, Ws, W0s, activations):
    """z^1..z^L of the network's forward pass."""
    zs, a = [], x
    for W, W0, f in zip(Ws, W0s, activations):
        zs.append(pre_activation(W, W0, a))
        a = ACTIVATIONS[f](zs[-1])
    return zs


# ---- one function's inputs -----------------------------------------------------------------

def square_loss_inputs(draw, c):
    return dict(a=draw.values(c.n, c.b), y=draw.values(c.n, c.b))


def nll_inputs(draw, c):
    return dict(a=draw.probabilities(c.n, c.b), y=draw.one_hot(c.n, c.b))


def z_inputs(draw, c):
    return dict(z=draw.values(c.n, c.b))


def column_z(draw, c):
    return dict(z=draw.values(c.n, 1))


def W_inputs(draw, c):
    return dict(W=draw.values(c.m, c.n))


def a_prev_inputs(draw, c):
    return dict(a_prev=draw.values(c.m, c.b))


def dL_dz_inputs(draw, c):
    return dict(dL_da=draw.values(c.n, c.b), da_dz=draw.positive(c.n, c.b))


def dL_dW_inputs(draw, c):
    return dict(a_prev=draw.values(c.m, c.b), dL_dz=draw.values(c.n, c.b))


def dL_dW0_inputs(draw, c):
    return dict(dL_dz=draw.values(c.n, c.b))


def dL_da_prev_inputs(draw, c):
    return dict(W=draw.values(c.m, c.n), dL_dz=draw.values(c.n, c.b))


# ---- a network's inputs ----------------------------------------------------------------------

def network_inputs(draw, c, with_targets=True):
    """x, y, Ws, W0s for the regime's widths; redrawn while a relu input sits near its kink at 0
    (a derivative there is ambiguous, and central differences would straddle it)."""
    for _ in range(50):
        x = draw.values(c.widths[0], c.b)
        Ws, W0s = draw.weights(c.widths)
        zs = pre_activations(x, Ws, W0s, c.activations)
        if all(abs(z).min() > 0.01 for z, f in zip(zs, c.activations) if f == "relu"):
            break
    if not with_targets:
        return dict(x=x, Ws=Ws, W0s=W0s, activations=list(c.activations))
    return dict(x=x, y=draw.targets(c.loss, c.widths[-1], c.b), Ws=Ws, W0s=W0s,
                activations=list(c.activations), loss=c.loss)


def forward_inputs(draw, c):
    return network_inputs(draw, c, with_targets=False)


def two_neuron_inputs(draw, c):
    """The notes' two-neuron network: x, w1 (m, 1); w01, w2, w02, y (1, 1); z¹ and z² away from 0."""
    for _ in range(50):
        x, w1, w01, w2, w02 = (draw.values(c.m, 1), draw.values(c.m, 1), draw.values(1, 1),
                               draw.values(1, 1), draw.values(1, 1))
        z1 = pre_activation(w1, w01, x)
        z2 = pre_activation(w2, w02, ACTIVATIONS[c.f1](z1))
        if min(abs(z1.item()), abs(z2.item())) > 0.01:
            break
    y = draw.one_hot(1, 1) if c.loss == "nll" else draw.values(1, 1)
    return dict(x=x, y=y, w1=w1, w01=w01, w2=w2, w02=w02, f1=c.f1, f2=c.f2, loss=c.loss)
