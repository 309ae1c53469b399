"""The inputs of nn_modules.py's tests, and the programs they run: shared by the graded and the public tests.

Each builder takes a `Draw` (numbers from a seeded generator) and a regime `c` (its sizes,
layout and seed; see autograder/strategies.py) and returns the inputs by name. PROGRAMS are
the statements each test runs on the student's modules (tests wrap them in `program`).
The graded tests (tests/) and the public tests (public/, shipped in the handout as
tests/inputs.py) draw the same inputs and run the same programs. Nothing here calls the
course's solution: the forward computations below are the docstrings' definitions, which
the builders need to keep inputs away from relu's kink.
"""
import numpy as np

# ---- the forward computations, as nn_modules.py's docstrings define them ------------------


def linear_z(W, W0, A):
    """Linear.forward: Z = WᵀA + W0."""
    return W.T @ A + W0


def softmax(Z):
    """SoftMax.forward: each column exponentiated, then divided by its sum."""
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


ACTIVATIONS = {"tanh": np.tanh, "relu": lambda Z: np.maximum(Z, 0), "softmax": softmax}
CLASSES = {"tanh": "Tanh", "relu": "ReLU", "softmax": "SoftMax"}


# ---- one module's inputs --------------------------------------------------------------------

def linear_inputs(draw, c):
    return dict(W=draw.values(c.m, c.n), W0=draw.values(c.n, 1), A=draw.values(c.m, c.b))


def linear_backward_inputs(draw, c):
    return dict(linear_inputs(draw, c), dLdZ=draw.values(c.n, c.b))


def lrate(draw):
    return float(draw.positive(1)[0])


def linear_sgd_step_inputs(draw, c):
    return dict(W=draw.values(c.m, c.n), W0=draw.values(c.n, 1), dLdW=draw.values(c.m, c.n),
                dLdW0=draw.values(c.n, 1), lrate=lrate(draw))


def z_inputs(draw, c):
    return dict(Z=draw.values(c.n, c.b))


def activation_backward_inputs(draw, c):
    return dict(Z=draw.values(c.n, c.b), dLdA=draw.values(c.n, c.b))


def softmax_inputs(draw, c):
    return dict(Z=draw.values(c.K, c.b))


def softmax_backward_inputs(draw, c):
    return dict(Z=draw.values(c.K, c.b), dLdZ=draw.values(c.K, c.b))


def class_fun_inputs(draw, c):
    """Softmax outputs whose largest entry in each column is clear (no ties to break)."""
    for _ in range(50):
        Ypred = draw.probabilities(c.K, c.b)
        top = np.sort(Ypred, axis=0)
        if (top[-1] - top[-2]).min() > 1e-3:
            break
    return dict(Ypred=Ypred)


def class_fun_after_forward_inputs(draw, c):
    """A Z for a forward first, and a Ypred for class_fun whose predicted classes differ from
    softmax(Z)'s in every column: an answer from what forward kept is wrong everywhere."""
    Ypred = class_fun_inputs(draw, c)["Ypred"]
    Z = np.empty((c.K, c.b))
    for j in range(c.b):
        z = draw.values(c.K)
        while np.diff(np.sort(z))[-1] < 1e-3:  # a clear largest entry
            z = draw.values(c.K)
        Z[:, j] = np.roll(z, 1) if np.argmax(z) == np.argmax(Ypred[:, j]) else z
    return dict(Z=Z, Ypred=Ypred)


def nll_inputs(draw, c):
    return dict(Ypred=draw.probabilities(c.K, c.b), Y=draw.one_hot(c.K, c.b))


# ---- a Sequential's inputs ---------------------------------------------------------------------

def weights_and_input(draw, c, columns):
    """Ws, W0s and an input with `columns` columns; redrawn until every relu input has both
    signs and no entry near the kink at 0."""
    for _ in range(50):
        X = draw.values(c.widths[0], columns)
        Ws, W0s = draw.weights(c.widths)
        a, fine = X, True
        for W, W0, f in zip(Ws, W0s, c.activations):
            z = linear_z(W, W0, a)
            if f == "relu":
                fine = fine and abs(z).min() > 0.01 and (z > 0).any() and (z < 0).any()
            a = ACTIVATIONS[f](z)
        if fine:
            break
    return X, Ws, W0s


def sequential_inputs(draw, c):
    X, Ws, W0s = weights_and_input(draw, c, c.b)
    return dict(X=X, Ws=Ws, W0s=W0s)


def sequential_backward_inputs(draw, c):
    return dict(sequential_inputs(draw, c), delta=draw.values(c.widths[-1], c.b))


def sequential_sgd_step_inputs(draw, c):
    _, Ws, W0s = weights_and_input(draw, c, 1)
    return dict(Ws=Ws, W0s=W0s, dLdWs=[draw.values(*W.shape) for W in Ws],
                dLdW0s=[draw.values(*W0.shape) for W0 in W0s], lrate=lrate(draw))


def sgd_seed(draw):
    """A seed for numpy's global generator in the worker: a sampler that is wrong only for some
    draws (one past the last column) is then wrong on the same examples at every grading."""
    return int(draw.rng.integers(0, 2**31))


def sequential_sgd_inputs(draw, c):
    """A data set of N columns that are all the same point x (with the same label y)."""
    x, Ws, W0s = weights_and_input(draw, c, 1)
    y = draw.one_hot(c.widths[-1], 1)
    return dict(X=np.repeat(x, c.N, axis=1), Y=np.repeat(y, c.N, axis=1), Ws=Ws, W0s=W0s, seed=sgd_seed(draw))


# ---- sgd on one-hot columns: which columns it draws, and what one iteration does ------------
#
# X is the N x N identity: column j is the one-hot e_j, so a step on column j changes only row j
# of the Linear's W (dLdW = x dLdZᵀ), and by W[j, y_j] at least lrate * (1 − Ypred[y_j]) > 0.
# The rows of W that moved say which columns sgd drew.

SGD_LRATE = 0.1
# Iterations for "every column is drawn". The seed is chosen so that np.random.randint(N),
# called once an iteration (np.random.choice(N) draws the same numbers), draws every column
# within them; a permutation of the columns draws each within N. An unseeded uniform sampler
# (np.random.default_rng().integers(N)) misses some column of N <= 4 with probability at most
# N (1 - 1/N)^60 <= 4 (3/4)^60 < 1.3e-7 per example, < 1.3e-5 for a test's 100 examples.
COVERAGE_ITERS = 60
STEP_CALLS = 8   # net.sgd(X, Y, iters=1) calls of "one iteration is one step on one column"


def one_hot_data(draw, c):
    """X = the N x N identity, one-hot labels Y (K, N), and a Linear's W (N, K), W0 (K, 1)."""
    return dict(X=np.eye(c.N), Y=draw.one_hot(c.K, c.N), W=draw.values(c.N, c.K), W0=draw.values(c.K, 1))


def covering_seed(draw, N, iters=COVERAGE_ITERS):
    """A seed at which `iters` calls of np.random.randint(N) draw every column 0..N-1."""
    while True:
        seed = sgd_seed(draw)
        state = np.random.RandomState(seed)
        if len({int(state.randint(N)) for _ in range(iters)}) == N:
            return seed


def sgd_columns_inputs(draw, c):
    return dict(one_hot_data(draw, c), seed=covering_seed(draw, c.N))


def sgd_step_inputs(draw, c):
    return dict(one_hot_data(draw, c), seed=sgd_seed(draw))


def seeded_sgd_inputs(draw, c):
    """The course's kind of test: a data set (d, N) with one-hot labels; the weights are the
    student's own Linear.__init__'s, after np.random.seed(0)."""
    return dict(X=draw.values(c.widths[0], c.N), Y=draw.one_hot(c.widths[-1], c.N))


# ---- the programs: what the student's modules are asked to do -------------------------------

# A backward runs after its own forward; when that forward raises, the grader sets what the
# contract (nn_modules.py's docstrings) says forward keeps, and backward is still graded:
# one bug costs one method's points. dLdW and dLdW0 are read even when backward raises after
# setting them (say, computing dLdA with a wrong shape).
LINEAR = "lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; Z = lin.forward(A)"
LINEAR_KEPT = """
lin = Linear(*W.shape); lin.W = W; lin.W0 = W0
try:
    Z = lin.forward(A)
except Exception:
    lin.A = A
"""
LINEAR_BACKWARD = LINEAR_KEPT + """
try:
    lin.backward(dLdZ)
except Exception:
    pass
"""
LINEAR_STEP = "lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; lin.dLdW = dLdW; lin.dLdW0 = dLdW0; lin.sgd_step(lrate)"
NLL_KEPT = """
nll = NLL()
try:
    L = nll.forward(Ypred, Y)
except Exception:
    nll.Ypred = Ypred; nll.Y = Y
"""
ONE_LAYER = "lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; sm = SoftMax(); loss = NLL(); net = Sequential([lin, sm], loss)"
PROGRAMS = {
    "linear_forward": LINEAR,
    "linear_dLdA": LINEAR_KEPT + "dLdA = lin.backward(dLdZ)",
    "linear_dLdW": LINEAR_BACKWARD + "dLdW = lin.dLdW",
    "linear_dLdW0": LINEAR_BACKWARD + "dLdW0 = lin.dLdW0",
    "linear_sgd_step_W": LINEAR_STEP + "; W_after = lin.W",
    "linear_sgd_step_W0": LINEAR_STEP + "; W0_after = lin.W0",
    "tanh_forward": "tanh = Tanh(); A = tanh.forward(Z)",
    "tanh_backward": "tanh = Tanh(); A = tanh.forward(Z); dLdZ = tanh.backward(dLdA)",
    "relu_forward": "relu = ReLU(); A = relu.forward(Z)",
    "relu_backward": "relu = ReLU(); A = relu.forward(Z); dLdZ = relu.backward(dLdA)",
    "softmax_forward": "sm = SoftMax(); Ypred = sm.forward(Z)",
    "softmax_backward": "sm = SoftMax()\ntry:\n    Ypred = sm.forward(Z)\nexcept Exception:\n    pass\n"
                        "returned = sm.backward(dLdZ)",  # by the contract, SoftMax.backward needs no state
    "class_fun": "sm = SoftMax(); classes = sm.class_fun(Ypred)",
    "class_fun_after_forward": "sm = SoftMax()\ntry:\n    sm.forward(Z)\nexcept Exception:\n    pass\n"
                               "classes = sm.class_fun(Ypred)",
    "nll_forward": "nll = NLL(); L = nll.forward(Ypred, Y)",
    "nll_backward": NLL_KEPT + "dLdZ = nll.backward()",
    "sgd_columns": ONE_LAYER + f"; np.random.seed(seed); net.sgd(X, Y, iters={COVERAGE_ITERS}, lrate={SGD_LRATE}); "
                               "W_after = lin.W",
    "sgd_step": ONE_LAYER + "; np.random.seed(seed)\n" + "\n".join(
        f"net.sgd(X, Y, iters=1, lrate={SGD_LRATE}); W_{t} = lin.W" + ("; lin.W = W; lin.W0 = W0" if t < STEP_CALLS else "")
        for t in range(1, STEP_CALLS + 1)),
}


def network(c, then):
    """The statements that build the student's network with the grader's weights, then `then`."""
    text, modules = [], []
    for l, f in enumerate(c.activations, start=1):
        text += [f"l{l} = Linear(*Ws[{l - 1}].shape)", f"l{l}.W = Ws[{l - 1}]", f"l{l}.W0 = W0s[{l - 1}]",
                 f"f{l} = {CLASSES[f]}()"]
        modules += [f"l{l}", f"f{l}"]
    text += ["loss = NLL()", f"net = Sequential([{', '.join(modules)}], loss)"] + list(then)
    return "; ".join(text)


def sequential_backward_program(c):
    """Every Linear's gradients set to zero first (a layer that backward never reaches keeps them),
    then forward, backward(delta) and every Linear's dLdW, dLdW0 read back."""
    zeros = [f"l{l}.{a} = np.zeros_like({w}s[{l - 1}])" for l in layers(c) for a, w in (("dLdW", "W"), ("dLdW0", "W0"))]
    return network(c, zeros + ["Ypred = net.forward(X)", "net.backward(delta)"] + reads(c, "dLdW", "dLdW0"))


def seeded_network(c, then):
    """The course's kind of sgd test: np.random.seed(0), then the student's own Linear(m, n) draw the
    weights (W0 first, then W, as the given __init__ does), layer by layer; then `then`."""
    text, modules = ["np.random.seed(0)"], []
    for l, f in enumerate(c.activations, start=1):
        text += [f"l{l} = Linear({c.widths[l - 1]}, {c.widths[l]})", f"f{l} = {CLASSES[f]}()"]
        modules += [f"l{l}", f"f{l}"]
    text += ["loss = NLL()", f"net = Sequential([{', '.join(modules)}], loss)"] + list(then)
    return "; ".join(text)


def layers(c):
    return range(len(c.activations), 0, -1)  # last layer first: the order backward reaches them


def names(c, *attrs):
    """The outputs a program reads back from every Linear: l3_dLdW, l3_dLdW0, l2_dLdW, ..."""
    return [f"l{l}_{a}" for l in layers(c) for a in attrs]


def reads(c, *attrs):
    """The statements that read them: `l3_dLdW = l3.dLdW`, ..."""
    return [f"l{l}_{a} = l{l}.{a}" for l in layers(c) for a in attrs]
