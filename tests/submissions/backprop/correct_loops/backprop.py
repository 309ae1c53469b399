import math
import numpy as np


def activate(name, z):
    z = np.asarray(z, dtype=float)
    out = np.zeros(z.shape)
    if name == "softmax":
        for j in range(z.shape[1]):
            col = [math.exp(z[i, j] - max(z[:, j])) for i in range(z.shape[0])]
            total = sum(col)
            for i in range(z.shape[0]):
                out[i, j] = col[i] / total
        return out
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = z[i, j]
            if name == "linear":
                out[i, j] = v
            elif name == "sigmoid":
                out[i, j] = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
            elif name == "tanh":
                out[i, j] = math.tanh(v)
            elif name == "relu":
                out[i, j] = v if v > 0 else 0.0
            else:
                raise ValueError(name)
    return out


def square_loss(a, y):
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += (a[i, j] - y[i, j]) ** 2
    return float(total)


def nll_loss(a, y):
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    total = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if y[i, j] != 0:
                total -= y[i, j] * math.log(a[i, j])
    return float(total)


def square_loss_grad(a, y):
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    return [[2 * (a[i, j] - y[i, j]) for j in range(a.shape[1])] for i in range(a.shape[0])]


def nll_loss_grad(a, y):
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    return [[-y[i, j] / a[i, j] for j in range(a.shape[1])] for i in range(a.shape[0])]


def _elementwise(fn, z):
    z = np.asarray(z, dtype=float)
    return np.array([[fn(z[i, j]) for j in range(z.shape[1])] for i in range(z.shape[0])])


def sigmoid_grad(z):
    def g(v):
        s = activate("sigmoid", np.array([[v]]))[0, 0]
        return s * (1 - s)
    return _elementwise(g, z)


def tanh_grad(z):
    return _elementwise(lambda v: 1 - math.tanh(v) ** 2, z)


def relu_grad(z):
    return _elementwise(lambda v: 1.0 if v > 0 else 0.0, z)


def linear_grad(z):
    return _elementwise(lambda v: 1.0, z)


def softmax_jacobian(z):
    a = activate("softmax", z)[:, 0]
    n = len(a)
    J = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                J[i][j] = a[i] * (1 - a[i])
            else:
                J[i][j] = -a[i] * a[j]
    return J


def link_term(W):
    W = np.asarray(W, dtype=float)
    m, n = W.shape
    # dz_j / da_i = W[i, j]
    return [[W[i, j] for j in range(n)] for i in range(m)]


def weight_term(a_prev):
    a_prev = np.asarray(a_prev, dtype=float)
    return np.array([[a_prev[i, k] for k in range(a_prev.shape[1])] for i in range(a_prev.shape[0])])


def dL_dz(dL_da, da_dz):
    dL_da, da_dz = np.asarray(dL_da, dtype=float), np.asarray(da_dz, dtype=float)
    out = np.zeros(dL_da.shape)
    for i in range(dL_da.shape[0]):
        for k in range(dL_da.shape[1]):
            out[i, k] = dL_da[i, k] * da_dz[i, k]
    return out


def dL_dW(a_prev, dL_dz):
    a_prev, dL_dz = np.asarray(a_prev, dtype=float), np.asarray(dL_dz, dtype=float)
    grad = np.zeros((a_prev.shape[0], dL_dz.shape[0]))
    for k in range(a_prev.shape[1]):  # one column of the batch at a time
        grad += np.outer(a_prev[:, k], dL_dz[:, k])
    return grad


def dL_dW0(dL_dz):
    dL_dz = np.asarray(dL_dz, dtype=float)
    return [[sum(dL_dz[i, k] for k in range(dL_dz.shape[1]))] for i in range(dL_dz.shape[0])]


def dL_da_prev(W, dL_dz):
    W, dL_dz = np.asarray(W, dtype=float), np.asarray(dL_dz, dtype=float)
    m, n = W.shape
    b = dL_dz.shape[1]
    out = np.zeros((m, b))
    for k in range(b):
        for i in range(m):
            s = 0.0
            for j in range(n):
                s += W[i, j] * dL_dz[j, k]
            out[i, k] = s
    return out


def forward(x, Ws, W0s, activations):
    Zs = []
    As = [np.asarray(x, dtype=float)]
    for l in range(len(Ws)):
        W = np.asarray(Ws[l], dtype=float)
        W0 = np.asarray(W0s[l], dtype=float)
        A = As[l]
        Z = np.zeros((W.shape[1], A.shape[1]))
        for k in range(A.shape[1]):
            for j in range(W.shape[1]):
                Z[j, k] = sum(W[i, j] * A[i, k] for i in range(W.shape[0])) + W0[j, 0]
        Zs.append(Z)
        As.append(activate(activations[l], Z))
    return Zs, As


def backprop(x, y, Ws, W0s, activations, loss):
    Zs, As = forward(x, Ws, W0s, activations)
    y = np.asarray(y, dtype=float)
    L = len(Ws)
    b = As[0].shape[1]
    grads = {"square": square_loss_grad, "nll": nll_loss_grad}
    act_grads = {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad, "linear": linear_grad}
    dA = np.array(grads[loss](As[L], y))
    dWs = [None] * L
    dW0s = [None] * L
    for l in reversed(range(L)):
        if activations[l] == "softmax":
            dZ = np.zeros(dA.shape)
            for k in range(b):
                J = np.array(softmax_jacobian(Zs[l][:, k:k + 1]))
                dZ[:, k] = J.T.dot(dA[:, k])
        else:
            dZ = dL_dz(dA, act_grads[activations[l]](Zs[l]))
        dWs[l] = dL_dW(As[l], dZ)
        dW0s[l] = np.array(dL_dW0(dZ))
        dA = dL_da_prev(Ws[l], dZ)
    return dWs, dW0s


def two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss):
    x = np.asarray(x, dtype=float)
    m = x.shape[0]
    z1 = sum(float(w1[i][0]) * float(x[i][0]) for i in range(m)) + float(w01[0][0])
    a1 = activate(f1, [[z1]])[0, 0]
    z2 = float(w2[0][0]) * a1 + float(w02[0][0])
    a2 = activate(f2, [[z2]])[0, 0]

    grads = {"square": square_loss_grad, "nll": nll_loss_grad}
    act_grads = {"sigmoid": sigmoid_grad, "tanh": tanh_grad, "relu": relu_grad, "linear": linear_grad}
    dL_da2 = grads[loss]([[a2]], y)[0][0]
    da2_dz2 = act_grads[f2]([[z2]])[0, 0]
    da1_dz1 = act_grads[f1]([[z1]])[0, 0]
    dz2_dw2 = a1
    dz2_da1 = float(w2[0][0])

    dL_da1 = dL_da2 * da2_dz2 * dz2_da1
    dL_dz1 = dL_da1 * da1_dz1
    out = {
        "dL_da2": dL_da2,
        "da2_dz2": da2_dz2,
        "dz2_dw2": dz2_dw2,
        "dz2_da1": dz2_da1,
        "da1_dz1": da1_dz1,
        "dL_da1": dL_da1,
        "dL_dw2": dL_da2 * da2_dz2 * dz2_dw2,
        "dL_dw02": dL_da2 * da2_dz2,
        "dL_dw01": dL_dz1,
    }
    result = {k: np.array([[v]]) for k, v in out.items()}
    result["dz1_dw1"] = np.array([[x[i][0]] for i in range(m)])
    result["dL_dw1"] = np.array([[dL_dz1 * x[i][0]] for i in range(m)])
    return result
