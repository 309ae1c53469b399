"""Checks reference/nn_modules.py against central finite differences and reference/backprop.py.

Every backward is a product of the notes' factors (loss unit dL/da^L, within-layer da/dz,
link term dz/da^(l-1) = W, weight term dz/dw = a^(l-1)); here each one is checked against
the forward pass it differentiates, not against a second copy of the same formulas.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reference import nn_modules as nn  # noqa: E402

H = 1e-6


def fd_grad(f, x):
    """Central differences of the scalar f() with respect to every entry of x (changed in place)."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + H
        up = f()
        x[idx] = old - H
        down = f()
        x[idx] = old
        g[idx] = (up - down) / (2 * H)
    return g


def close(a, b):
    assert np.shape(a) == np.shape(b)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def one_hot(rng, K, b):
    return np.eye(K)[:, rng.integers(K, size=b)]


def network(rng, dims, hidden):
    """Linear/hidden.../Linear/SoftMax + NLL with random nonzero weights and offsets."""
    mods = []
    for i, (m, n) in enumerate(zip(dims[:-1], dims[1:])):
        lin = nn.Linear(m, n)
        lin.W, lin.W0 = rng.normal(size=(m, n)), rng.normal(size=(n, 1))
        mods.append(lin)
        mods.append(hidden[i]() if i < len(dims) - 2 else nn.SoftMax())
    return nn.Sequential(mods, nn.NLL())


@pytest.mark.parametrize("m,n,b", [(1, 1, 1), (3, 2, 4), (2, 5, 3), (4, 4, 1)])
def test_linear_backward_matches_finite_differences(m, n, b):
    rng = np.random.default_rng(m * 100 + n * 10 + b)
    lin = nn.Linear(m, n)
    lin.W, lin.W0 = rng.normal(size=(m, n)), rng.normal(size=(n, 1))
    A, G = rng.normal(size=(m, b)), rng.normal(size=(n, b))  # G: a fixed upstream dL/dZ
    Z = lin.forward(A)
    close(Z, lin.W.T @ A + lin.W0)
    dLdA = lin.backward(G)

    def f():
        return np.sum(G * (lin.W.T @ A + lin.W0))  # Z = W^T A + W0, contracted with G

    close(lin.dLdW, fd_grad(f, lin.W))    # weight term a^(l-1)
    close(lin.dLdW0, fd_grad(f, lin.W0))  # summed over the batch: (n, 1)
    close(dLdA, fd_grad(f, A))            # link term W


@pytest.mark.parametrize("cls", [nn.Tanh, nn.ReLU])
def test_activation_backward_matches_forward(cls):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(3, 5))
    Z[np.abs(Z) < 0.05] = 0.5  # keep finite differences away from relu's kink
    G = rng.normal(size=Z.shape)
    act = cls()
    act.forward(Z)
    dLdZ = act.backward(G)  # within-layer derivative da/dz times dL/da
    close(dLdZ, fd_grad(lambda: np.sum(G * cls().forward(Z)), Z))


def test_relu_derivative_at_zero_is_zero():
    relu = nn.ReLU()
    relu.forward(np.array([[-1.0, 0.0, 2.0]]))
    close(relu.backward(np.ones((1, 3))), np.array([[0.0, 0.0, 1.0]]))


def test_nll_of_softmax_backward_matches_loss():
    rng = np.random.default_rng(2)
    K, b = 4, 3
    Z, Y = rng.normal(size=(K, b)), one_hot(rng, K, b)
    sm, nll = nn.SoftMax(), nn.NLL()
    Ypred = sm.forward(Z)
    close(Ypred.sum(axis=0), np.ones(b))
    loss = nll.forward(Ypred, Y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(-np.sum(Y * np.log(Ypred)))  # summed over classes and batch
    dLdZ = sm.backward(nll.backward())
    close(dLdZ, fd_grad(lambda: nn.NLL().forward(nn.SoftMax().forward(Z), Y), Z))


def test_softmax_class_fun_and_overflow():
    Ypred = np.array([[0.1, 0.7], [0.6, 0.2], [0.3, 0.1]])
    out = nn.SoftMax().class_fun(Ypred)
    assert out.shape == (2,) and out.tolist() == [1, 0]
    close(nn.SoftMax().forward(np.array([[1000.0], [1000.0]])), np.array([[0.5], [0.5]]))


@pytest.mark.parametrize("dims,hidden", [
    ([3, 2], []),
    ([3, 4, 2], [nn.Tanh]),
    ([2, 3, 4, 3], [nn.Tanh, nn.ReLU]),
    ([2, 3, 3, 4], [nn.ReLU, nn.Tanh]),
])
def test_sequential_backward_matches_finite_differences_of_the_loss(dims, hidden):
    rng = np.random.default_rng(len(dims))
    net = network(rng, dims, hidden)
    X, Y = rng.normal(size=(dims[0], 5)), one_hot(rng, dims[-1], 5)

    def loss():
        return nn.NLL().forward(net.forward(X), Y)

    net.loss.forward(net.forward(X), Y)
    net.backward(net.loss.backward())
    for lin in net.modules[::2]:
        close(lin.dLdW, fd_grad(loss, lin.W))
        close(lin.dLdW0, fd_grad(loss, lin.W0))


def test_linear_init_order_and_shapes():
    np.random.seed(0)
    lin = nn.Linear(3, 2)
    np.random.seed(0)
    close(lin.W, np.random.normal(0, 3 ** -.5, [3, 2]))
    close(lin.W0, np.zeros((2, 1)))


def test_sgd_step_arithmetic():
    rng = np.random.default_rng(3)
    net = network(rng, [3, 4, 2], [nn.Tanh])
    before = [(lin.W.copy(), lin.W0.copy()) for lin in net.modules[::2]]
    for lin in net.modules[::2]:
        lin.dLdW, lin.dLdW0 = rng.normal(size=lin.W.shape), rng.normal(size=lin.W0.shape)
    net.sgd_step(0.25)  # Module.sgd_step on Tanh/SoftMax must do nothing
    for (W, W0), lin in zip(before, net.modules[::2]):
        close(lin.W, W - 0.25 * lin.dLdW)
        close(lin.W0, W0 - 0.25 * lin.dLdW0)


def explicit_steps(net, cols, X, Y, lrate):
    for i in cols:
        net.loss.forward(net.forward(X[:, i:i + 1]), Y[:, i:i + 1])
        net.backward(net.loss.backward())
        net.sgd_step(lrate)


def weights(net):
    return [w.copy() for lin in net.modules[::2] for w in (lin.W, lin.W0)]


def twins(seed, dims, hidden):
    return network(np.random.default_rng(seed), dims, hidden), network(np.random.default_rng(seed), dims, hidden)


def test_sgd_on_identical_columns_is_k_explicit_steps():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(3, 1)), one_hot(rng, 2, 1)
    X, Y = np.tile(x, 6), np.tile(y, 6)
    a, b = twins(5, [3, 4, 4, 2], [nn.ReLU, nn.Tanh])
    a.sgd(X, Y, iters=7, lrate=0.1)
    explicit_steps(b, [0] * 7, X, Y, 0.1)
    for u, v in zip(weights(a), weights(b)):
        close(u, v)


def test_sgd_draws_one_column_per_iteration_like_the_course_code():
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(2, 5)), one_hot(rng, 3, 5)
    a, b = twins(7, [2, 3, 3], [nn.Tanh])
    np.random.seed(11)
    a.sgd(X, Y, iters=9, lrate=0.05)
    np.random.seed(11)
    explicit_steps(b, [np.random.randint(5) for _ in range(9)], X, Y, 0.05)
    for u, v in zip(weights(a), weights(b)):
        close(u, v)


def test_module_network_agrees_with_reference_backprop():
    if not (ROOT / "reference" / "backprop.py").exists():
        pytest.skip("reference/backprop.py is not written yet")
    from reference.backprop import backprop
    rng = np.random.default_rng(8)
    dims, hidden, names = [3, 4, 5, 3], [nn.Tanh, nn.ReLU], ["tanh", "relu", "softmax"]
    net = network(rng, dims, hidden)
    X, Y = rng.normal(size=(3, 6)), one_hot(rng, 3, 6)
    net.loss.forward(net.forward(X), Y)
    net.backward(net.loss.backward())
    lins = net.modules[::2]
    dWs, dW0s = backprop(X, Y, [l.W for l in lins], [l.W0 for l in lins], names, "nll")
    for lin, dW, dW0 in zip(lins, dWs, dW0s):
        close(lin.dLdW, dW)
        close(lin.dLdW0, dW0)
