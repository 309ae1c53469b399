"""Checks reference/backprop.py against central finite differences (h = 1e-6, float64) of the
forward computation each derivative belongs to. The forward math is re-written here, so no
reference derivative is used to check another."""
import numpy as np
import pytest

import reference.backprop as rb

H, TOL = 1e-6, 1e-6
F = {  # the forward math, written independently of the reference
    "linear": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=0, keepdims=True),
}
LOSS = {"square": lambda a, y: np.sum((a - y) ** 2), "nll": lambda a, y: -np.sum(y * np.log(a))}
ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu"]
OUTPUTS = [("linear", "square"), ("sigmoid", "square"), ("tanh", "square"), ("relu", "square"),
           ("softmax", "nll"), ("sigmoid", "nll")]


def rel_err(a, b):
    """‖a − b‖ / (‖a‖ + ‖b‖), 0 when both are 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def num_jac(f, x):
    """Central differences in the course's layout: out[idx_x][idx_f] = ∂f[idx_f]/∂x[idx_x]."""
    x = np.array(x, dtype=float)
    out = np.zeros(x.shape + np.shape(f(x)))
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += H
        xm[idx] -= H
        out[idx] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * H)
    return out


def away_from_kink(rng, shape):
    z = rng.normal(size=shape)
    return np.where(np.abs(z) < 0.05, 0.5, z)


def one_hot(rng, n, b):
    return np.eye(n)[:, rng.integers(n, size=b)]


def full_loss(x, y, Ws, W0s, acts, loss):
    a = x
    for W, W0, act in zip(Ws, W0s, acts):
        a = F[act](W.T @ a + W0)
    return LOSS[loss](a, y)


def network(seed, dims, acts, loss, b):
    """Random x, y, Ws, W0s whose relu layers keep every |z| ≥ 0.05 (clear of relu's kink)."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.normal(size=(dims[0], b))
        Ws = [rng.normal(size=(m, n)) for m, n in zip(dims, dims[1:])]
        W0s = [rng.normal(size=(n, 1)) for n in dims[1:]]
        a, ok = x, True
        for W, W0, act in zip(Ws, W0s, acts):
            z = W.T @ a + W0
            ok &= act != "relu" or np.abs(z).min() >= 0.05
            a = F[act](z)
        if ok:
            y = one_hot(rng, dims[-1], b) if loss == "nll" else rng.normal(size=(dims[-1], b))
            return x, y, Ws, W0s


# ---- activations, losses, single factors ----

@pytest.mark.parametrize("name", list(F))
def test_activation_matches_forward_math(name):
    z = np.random.default_rng(0).normal(size=(4, 3)) * 3
    assert rel_err(rb.ACTIVATIONS[name][0](z), F[name](z)) < 1e-12
    assert getattr(rb, name)(z).dtype == np.float64


@pytest.mark.parametrize("loss", list(LOSS))
def test_loss_and_loss_unit(loss):
    rng = np.random.default_rng(1)
    a, y = rng.uniform(0.1, 1, size=(3, 4)), one_hot(rng, 3, 4)
    L, L_grad = getattr(rb, f"{loss}_loss"), getattr(rb, f"{loss}_loss_grad")
    assert isinstance(L(a, y), float) and abs(L(a, y) - LOSS[loss](a, y)) < 1e-12
    assert rel_err(L_grad(a, y), num_jac(lambda a_: LOSS[loss](a_, y), a)) < TOL


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_within_layer_elementwise(name):
    z = away_from_kink(np.random.default_rng(2), (3, 5)) * 2
    got = getattr(rb, f"{name}_grad")(z)
    assert got.shape == z.shape and got.dtype == np.float64
    assert rel_err(got, (F[name](z + H) - F[name](z - H)) / (2 * H)) < TOL


def test_relu_grad_at_zero_is_zero():
    assert np.array_equal(rb.relu_grad(np.array([[0.0, -1.0, 2.0]])), [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize("n", [1, 2, 4])
def test_softmax_jacobian(n):
    z = np.random.default_rng(n).normal(size=(n, 1)) * 2
    assert rel_err(rb.softmax_jacobian(z), num_jac(F["softmax"], z).reshape(n, n)) < TOL


@pytest.mark.parametrize("m,n", [(3, 3), (4, 2), (1, 3)])
def test_link_and_weight_terms(m, n):
    rng = np.random.default_rng(m * 10 + n)
    W, W0, a, A = rng.normal(size=(m, n)), rng.normal(size=(n, 1)), rng.normal(size=(m, 1)), rng.normal(size=(m, 5))
    assert rel_err(rb.link_term(W), num_jac(lambda a_: W.T @ a_ + W0, a).reshape(m, n)) < TOL
    w, w0 = W[:, [0]], W0[0, 0]  # one unit: z(w) = wᵀ a + w0, per column
    assert rel_err(rb.weight_term(A), num_jac(lambda w_: w_.T @ A + w0, w).reshape(m, 5)) < TOL


@pytest.mark.parametrize("m,n,b", [(3, 3, 1), (4, 2, 5), (2, 3, 4)])
def test_layer_gradients_from_upstream(m, n, b):
    """With a fixed upstream ∂L/∂Z = G, i.e. L = Σ G ⊙ Z, Z = Wᵀ A + W0."""
    rng = np.random.default_rng(b)
    W, W0, A, G = (rng.normal(size=s) for s in [(m, n), (n, 1), (m, b), (n, b)])
    L = lambda W_, W0_, A_: np.sum(G * (W_.T @ A_ + W0_))  # noqa: E731
    assert rel_err(rb.dL_dW(A, G), num_jac(lambda W_: L(W_, W0, A), W)) < TOL
    assert rel_err(rb.dL_dW0(G), num_jac(lambda W0_: L(W, W0_, A), W0)) < TOL
    assert rel_err(rb.dL_da_prev(W, G), num_jac(lambda A_: L(W, W0, A_), A)) < TOL
    z = away_from_kink(rng, (n, b))  # dL_dz: L = Σ G ⊙ sigmoid(z)
    assert rel_err(rb.dL_dz(G, rb.sigmoid_grad(z)), num_jac(lambda z_: np.sum(G * F["sigmoid"](z_)), z)) < TOL


# ---- whole networks ----

CASES = list(enumerate(  # (seed, (dims, activations, loss, b))
    [([3, 3], [o], loss, b) for o, loss in OUTPUTS for b in (1, 4)]
    + [([4, 2], [o], loss, 3) for o, loss in OUTPUTS]
    + [([3, 4, 2], [h, o], loss, b) for h in ELEMENTWISE for (o, loss), b in zip(OUTPUTS, [1, 3] * 3)]
    + [([2, 3, 3, 4], [h, ELEMENTWISE[(i + 1) % 4], o], loss, 2 + i % 2)
       for i, (h, (o, loss)) in enumerate(zip(ELEMENTWISE * 2, OUTPUTS + OUTPUTS[:2]))]
))


@pytest.mark.parametrize("seed,case", CASES, ids=[f"{len(c[1])}layer-{'-'.join(c[1])}-{c[2]}-b{c[3]}" for _, c in CASES])
def test_backprop_against_finite_differences(seed, case):
    dims, acts, loss, b = case
    x, y, Ws, W0s = network(seed, dims, acts, loss, b)
    Zs, As = rb.forward(x, Ws, W0s, acts)
    assert len(Zs) == len(Ws) and len(As) == len(Ws) + 1 and np.array_equal(As[0], x)
    assert abs(rb.LOSSES[loss][0](As[-1], y) - full_loss(x, y, Ws, W0s, acts, loss)) < 1e-9
    dWs, dW0s = rb.backprop(x, y, Ws, W0s, acts, loss)
    for i in range(len(Ws)):
        def loss_at(W=None, W0=None):
            Ws_, W0s_ = list(Ws), list(W0s)
            Ws_[i], W0s_[i] = (Ws[i] if W is None else W), (W0s[i] if W0 is None else W0)
            return full_loss(x, y, Ws_, W0s_, acts, loss)
        assert dWs[i].dtype == np.float64 and dW0s[i].dtype == np.float64
        assert rel_err(dWs[i], num_jac(lambda W: loss_at(W=W), Ws[i])) < TOL, f"dWs[{i}]"
        assert rel_err(dW0s[i], num_jac(lambda W0: loss_at(W0=W0), W0s[i])) < TOL, f"dW0s[{i}]"


TWO_NEURON = [(f1, f2, "square") for f1 in ELEMENTWISE for f2 in ELEMENTWISE] + [(f1, "sigmoid", "nll") for f1 in ELEMENTWISE]


@pytest.mark.parametrize("f1,f2,loss", TWO_NEURON)
def test_two_neuron_factors_and_backprop(f1, f2, loss):
    m = 3
    x, y, (w1, w2), (w01, w02) = network(7, [m, 1, 1], [f1, f2], loss, 1)
    got = rb.two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss)
    z1 = w1.T @ x + w01
    a1 = F[f1](z1)
    z2 = w2.T @ a1 + w02
    a2 = F[f2](z2)
    L2 = lambda a2_: LOSS[loss](a2_, y)  # noqa: E731  loss of a2
    L1 = lambda a1_: L2(F[f2](w2.T @ a1_ + w02))  # noqa: E731  loss of a1
    expected = {  # each factor: (the forward function it differentiates, where)
        "dL_da2": (L2, a2), "da2_dz2": (F[f2], z2), "dz2_dw2": (lambda w: w.T @ a1 + w02, w2),
        "dz2_da1": (lambda a: w2.T @ a + w02, a1), "da1_dz1": (F[f1], z1), "dz1_dw1": (lambda w: w.T @ x + w01, w1),
        "dL_da1": (L1, a1), "dL_dw2": (lambda w: L2(F[f2](w.T @ a1 + w02)), w2),
        "dL_dw02": (lambda w0: L2(F[f2](w2.T @ a1 + w0)), w02),
        "dL_dw1": (lambda w: L1(F[f1](w.T @ x + w01)), w1), "dL_dw01": (lambda w0: L1(F[f1](w1.T @ x + w0)), w01),
    }
    assert set(got) == set(expected)
    for key, (f, at) in expected.items():
        want = num_jac(f, at).reshape(at.shape if key in ("dz1_dw1", "dL_dw1") else (1, 1))
        assert got[key].shape == want.shape and got[key].dtype == np.float64, key
        assert rel_err(got[key], want) < TOL, key
    dWs, dW0s = rb.backprop(x, y, [w1, w2], [w01, w02], [f1, f2], loss)
    for a, b in [(dWs[0], got["dL_dw1"]), (dW0s[0], got["dL_dw01"]), (dWs[1], got["dL_dw2"]), (dW0s[1], got["dL_dw02"])]:
        assert rel_err(a, b) < 1e-12
