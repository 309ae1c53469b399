# 6.390 backprop homework
import numpy as np


# ---------- activations ----------

def linear(z):
    return z


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh(z):
    return np.tanh(z)


def relu(z):
    return np.maximum(0, z)


def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


# ---------- losses ----------

def square_loss(a, y):
    return float(np.sum((a - y) ** 2))  # square loss


def nll_loss(a, y):
    return float(-np.sum(y * np.log(a)))  # nll loss


def square_loss_grad(a, y):
    return 2 * (a - y)  # square loss unit


def nll_loss_grad(a, y):
    return -y / a  # nll loss unit


# ---------- within-layer terms da/dz ----------

def linear_grad(z):
    return np.ones_like(z, dtype=float)  # linear derivative


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)  # sigmoid derivative


def tanh_grad(z):
    return 1 - np.tanh(z) ** 2  # tanh derivative


def relu_grad(z):
    return (z > 0).astype(float)  # relu derivative


def softmax_jacobian(z):
    a = softmax(z)  # softmax_jacobian: one column
    return np.diagflat(a) - a @ a.T  # softmax jacobian


ACTIVATIONS = {"linear": linear, "sigmoid": sigmoid, "tanh": tanh,
               "relu": relu, "softmax": softmax}
ACT_GRADS = {"linear": linear_grad, "sigmoid": sigmoid_grad,
             "tanh": tanh_grad, "relu": relu_grad}
LOSS_GRADS = {"square": square_loss_grad, "nll": nll_loss_grad}


# ---------- chain rule factors ----------

def link_term(W):
    return W  # link term


def weight_term(a_prev):
    return a_prev  # weight term


def dL_dz(dL_da, da_dz):
    return dL_da * da_dz  # within layer, elementwise


def dL_dW(a_prev, dL_dz):
    return a_prev @ dL_dz.T  # weight gradient, summed over batch


def dL_dW0(dL_dz):
    return np.sum(dL_dz, axis=1, keepdims=True)  # offset gradient


def dL_da_prev(W, dL_dz):
    return W @ dL_dz  # back through the link term


# ---------- whole network ----------

def forward(x, Ws, W0s, activations):
    Zs = []
    As = [x]
    for W, W0, act in zip(Ws, W0s, activations):
        Z = W.T @ As[-1] + W0  # pre-activation
        Zs.append(Z)
        As.append(ACTIVATIONS[act](Z))
    return Zs, As


def backprop(x, y, Ws, W0s, activations, loss):
    Zs, As = forward(x, Ws, W0s, activations)
    L = len(Ws)
    b = x.shape[1]
    dWs = [np.zeros_like(W, dtype=float) for W in Ws]
    dW0s = [np.zeros_like(W0, dtype=float) for W0 in W0s]
    dA = LOSS_GRADS[loss](As[-1], y)  # loss unit dL/da^L
    for l in range(L - 1, -1, -1):  # Ws[l] is W^(l+1), from the last layer back
        if activations[l] == "softmax":
            # full Jacobian, one column at a time: dL/dz = J^T dL/da
            dZ = np.hstack([softmax_jacobian(Zs[l][:, [j]]).T @ dA[:, [j]] for j in range(b)])
        else:
            dZ = dL_dz(dA, ACT_GRADS[activations[l]](Zs[l]))  # within layer da/dz
        dWs[l] = dL_dW(As[l], dZ)  # weight term is a^(l-1) = As[l]
        dW0s[l] = dL_dW0(dZ)
        dA = dL_da_prev(Ws[l], dZ)  # link to the layer below
    return dWs, dW0s


def two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss):
    z1 = w1.T @ x + w01  # layer 1 forward
    a1 = ACTIVATIONS[f1](z1)
    z2 = w2.T @ a1 + w02  # layer 2 forward
    a2 = ACTIVATIONS[f2](z2)

    dL_da2 = LOSS_GRADS[loss](a2, y)
    da2_dz2 = ACT_GRADS[f2](z2)
    dz2_dw2 = weight_term(a1)  # layer 2 weight term
    dz2_da1 = link_term(w2)  # layer 2 link term
    da1_dz1 = ACT_GRADS[f1](z1)
    dz1_dw1 = weight_term(x)  # layer 1 weight term

    dL_dz2 = dL_da2 * da2_dz2  # layer 2 within layer
    dL_dw2 = dL_dz2 * dz2_dw2
    dL_dw02 = dL_dz2
    dL_da1 = dL_dz2 * dz2_da1  # link layer 2 -> layer 1
    dL_dz1 = dL_da1 * da1_dz1  # layer 1 within layer
    dL_dw1 = dL_dz1 * dz1_dw1
    dL_dw01 = dL_dz1

    return {
        "dL_da2": dL_da2, "da2_dz2": da2_dz2, "dz2_dw2": dz2_dw2,
        "dz2_da1": dz2_da1, "da1_dz1": da1_dz1, "dz1_dw1": dz1_dw1,
        "dL_da1": dL_da1, "dL_dw2": dL_dw2, "dL_dw02": dL_dw02,
        "dL_dw1": dL_dw1, "dL_dw01": dL_dw01,
    }
