"""Backprop homework -- I do everything in single precision to save memory."""
import numpy as np

DT = np.float32


def f32(v):
    return np.asarray(v).astype(np.float32)


def linear(z):
    return f32(z)


def sigmoid(z):
    z = f32(z)
    return (DT(1) / (DT(1) + np.exp(-z))).astype(DT)


def tanh(z):
    return np.tanh(f32(z))


def relu(z):
    return np.maximum(f32(z), DT(0))


def softmax(z):
    z = f32(z)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def square_loss(a, y):
    return float(np.sum((f32(a) - f32(y)) ** 2))


def nll_loss(a, y):
    return float(-np.sum(f32(y) * np.log(f32(a))))


def square_loss_grad(a, y):
    return DT(2) * (f32(a) - f32(y))


def nll_loss_grad(a, y):
    return -f32(y) / f32(a)


def linear_grad(z):
    return np.ones_like(f32(z))


def sigmoid_grad(z):
    # s * (1 - s), but 1 - s computed as sigmoid(-z) so float32 keeps its digits
    z = f32(z)
    return sigmoid(z) * sigmoid(-z)


def tanh_grad(z):
    # 1 - tanh^2 = 1 / cosh^2 (no cancellation in float32)
    with np.errstate(over="ignore"):
        c = np.cosh(f32(z))
        return DT(1) / (c * c)


def relu_grad(z):
    return (f32(z) > 0).astype(DT)


def softmax_jacobian(z):
    a = softmax(f32(z).reshape(-1, 1))
    return np.diagflat(a) - a @ a.T


def link_term(W):
    return f32(W)


def weight_term(a_prev):
    return f32(a_prev)


def dL_dz(dL_da, da_dz):
    return f32(dL_da) * f32(da_dz)


def dL_dW(a_prev, dL_dz):
    return f32(a_prev) @ f32(dL_dz).T


def dL_dW0(dL_dz):
    return f32(dL_dz).sum(axis=1, keepdims=True)


def dL_da_prev(W, dL_dz):
    return f32(W) @ f32(dL_dz)


ACT = {"linear": (linear, linear_grad), "sigmoid": (sigmoid, sigmoid_grad),
       "tanh": (tanh, tanh_grad), "relu": (relu, relu_grad), "softmax": (softmax, None)}
LOSS_GRAD = {"square": square_loss_grad, "nll": nll_loss_grad}


def forward(x, Ws, W0s, activations):
    As = [f32(x)]
    Zs = []
    for i in range(len(Ws)):
        Zs.append(f32(Ws[i]).T @ As[i] + f32(W0s[i]))
        As.append(ACT[activations[i]][0](Zs[i]))
    return Zs, As


def backprop(x, y, Ws, W0s, activations, loss):
    Zs, As = forward(x, Ws, W0s, activations)
    dLdA = LOSS_GRAD[loss](As[-1], y)
    dWs, dW0s = [], []
    for i in reversed(range(len(Ws))):
        if activations[i] == "softmax":
            cols = [softmax_jacobian(Zs[i][:, [k]]).T @ dLdA[:, [k]] for k in range(dLdA.shape[1])]
            dLdZ = np.concatenate(cols, axis=1)
        else:
            dLdZ = dL_dz(dLdA, ACT[activations[i]][1](Zs[i]))
        dWs.insert(0, dL_dW(As[i], dLdZ))
        dW0s.insert(0, dL_dW0(dLdZ))
        dLdA = dL_da_prev(Ws[i], dLdZ)
    return dWs, dW0s


def two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss):
    x, y, w1, w01, w2, w02 = (f32(v) for v in (x, y, w1, w01, w2, w02))
    z1 = w1.T @ x + w01
    a1 = ACT[f1][0](z1)
    z2 = w2.T @ a1 + w02
    a2 = ACT[f2][0](z2)
    d = {}
    d["dL_da2"] = LOSS_GRAD[loss](a2, y)
    d["da2_dz2"] = ACT[f2][1](z2)
    d["dz2_dw2"] = weight_term(a1)
    d["dz2_da1"] = link_term(w2)
    d["da1_dz1"] = ACT[f1][1](z1)
    d["dz1_dw1"] = weight_term(x)
    dLdz2 = d["dL_da2"] * d["da2_dz2"]
    d["dL_dw2"] = dLdz2 * d["dz2_dw2"]
    d["dL_dw02"] = dLdz2
    d["dL_da1"] = dLdz2 * d["dz2_da1"]
    dLdz1 = d["dL_da1"] * d["da1_dz1"]
    d["dL_dw1"] = dLdz1 * d["dz1_dw1"]
    d["dL_dw01"] = dLdz1
    return d
