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


def sequential_sgd_inputs(draw, c):
    """A data set of N columns that are all the same point x (with the same label y)."""
    x, Ws, W0s = weights_and_input(draw, c, 1)
    y = draw.one_hot(c.widths[-1], 1)
    return dict(X=np.repeat(x, c.N, axis=1), Y=np.repeat(y, c.N, axis=1), Ws=Ws, W0s=W0s)


# ---- the programs: what the student's modules are asked to do -------------------------------

LINEAR = "lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; Z = lin.forward(A)"
LINEAR_STEP = "lin = Linear(*W.shape); lin.W = W; lin.W0 = W0; lin.dLdW = dLdW; lin.dLdW0 = dLdW0; lin.sgd_step(lrate)"
PROGRAMS = {
    "linear_forward": LINEAR,
    "linear_dLdA": LINEAR + "; dLdA = lin.backward(dLdZ)",
    "linear_dLdW": LINEAR + "; lin.backward(dLdZ); dLdW = lin.dLdW",
    "linear_dLdW0": LINEAR + "; lin.backward(dLdZ); dLdW0 = lin.dLdW0",
    "linear_sgd_step_W": LINEAR_STEP + "; W_after = lin.W",
    "linear_sgd_step_W0": LINEAR_STEP + "; W0_after = lin.W0",
    "tanh_forward": "tanh = Tanh(); A = tanh.forward(Z)",
    "tanh_backward": "tanh = Tanh(); A = tanh.forward(Z); dLdZ = tanh.backward(dLdA)",
    "relu_forward": "relu = ReLU(); A = relu.forward(Z)",
    "relu_backward": "relu = ReLU(); A = relu.forward(Z); dLdZ = relu.backward(dLdA)",
    "softmax_forward": "sm = SoftMax(); Ypred = sm.forward(Z)",
    "softmax_backward": "sm = SoftMax(); Ypred = sm.forward(Z); returned = sm.backward(dLdZ)",
    "class_fun": "sm = SoftMax(); classes = sm.class_fun(Ypred)",
    "nll_forward": "nll = NLL(); L = nll.forward(Ypred, Y)",
    "nll_backward": "nll = NLL(); L = nll.forward(Ypred, Y); dLdZ = nll.backward()",
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


def layers(c):
    return range(len(c.activations), 0, -1)  # last layer first: the order backward reaches them


def names(c, *attrs):
    """The outputs a program reads back from every Linear: l3_dLdW, l3_dLdW0, l2_dLdW, ..."""
    return [f"l{l}_{a}" for l in layers(c) for a in attrs]


def reads(c, *attrs):
    """The statements that read them: `l3_dLdW = l3.dLdW`, ..."""
    return [f"l{l}_{a} = l{l}.{a}" for l in layers(c) for a in attrs]
