"""Backpropagation, built from the pieces in the 6.390 notes.

Fill in every function below. Each one raises NotImplementedError until you do.

Conventions (read these first)
------------------------------
* A batch of b data points is stored in COLUMNS: x has shape (d, b), one point per column.
* A network has layers ℓ = 1..L. Layer ℓ has m inputs and n units:
      W^ℓ   weights,  shape (m, n)   (column j is unit j's weight vector w_j)
      W0^ℓ  offsets,  shape (n, 1)
      Z^ℓ  = (W^ℓ)ᵀ A^(ℓ-1) + W0^ℓ,   shape (n, b)   (pre-activation)
      A^ℓ  = f(Z^ℓ),                   shape (n, b)   (activation)
  and A^0 = x.
* The loss L is SUMMED over the batch's columns (not averaged).
* A derivative of L with respect to a matrix has that matrix's shape:
  ∂L/∂W^ℓ is (m, n), ∂L/∂W0^ℓ is (n, 1), ∂L/∂A^ℓ is (n, b).
* Python lists are 0-based: Ws[0] is W^1, W0s[0] is W0^1, activations[0] names f for layer 1.
* Activation names: "linear", "sigmoid", "tanh", "relu", "softmax".
  "softmax" is only used for the last layer, together with the "nll" loss.
  For relu, use relu'(0) = 0.
* Loss names: "square", L = Σ (a − y)²,  and  "nll", L = −Σ y log a  (y: one-hot columns).
* Return numpy float64 arrays; return losses as plain Python floats.

The notes' vocabulary, for one layer ℓ:
* loss unit          ∂L/∂a^L                        (where backprop starts)
* within-layer term  ∂a^ℓ/∂z^ℓ                      (the activation's derivative)
* weight term        ∂z^ℓ/∂w^ℓ                      (ends the chain for the weight gradient)
* link term          ∂z^ℓ/∂a^(ℓ-1)                  (carries the chain down to layer ℓ-1)
For each layer, multiply by  within-layer · weight term  to get ∂L/∂w^ℓ,
or by  within-layer · link term  to continue to the layer below.
"""
import numpy as np


# ---- losses and the loss unit ----

def square_loss(a, y):
    """Square loss L = Σ (a − y)², summed over every entry.

    a, y: (n, b) arrays. Returns a Python float.
    """
    raise NotImplementedError("square_loss is not implemented yet")


def nll_loss(a, y):
    """Negative log-likelihood L = −Σ y log a, summed over every entry.

    a: (n, b) predicted probabilities; y: (n, b) one-hot columns. Returns a Python float.
    """
    raise NotImplementedError("nll_loss is not implemented yet")


def square_loss_grad(a, y):
    """Loss unit ∂L/∂a^L for the square loss.

    a, y: (n, b). Returns ∂L/∂a^L, shape (n, b).
    """
    raise NotImplementedError("square_loss_grad is not implemented yet")


def nll_loss_grad(a, y):
    """Loss unit ∂L/∂a^L for the nll loss.

    a: (n, b) predicted probabilities; y: (n, b) one-hot columns. Returns ∂L/∂a^L, shape (n, b).
    """
    raise NotImplementedError("nll_loss_grad is not implemented yet")


# ---- within-layer terms ∂a/∂z ----
# For an elementwise activation, ∂a/∂z is diagonal: return its diagonal, shaped like z.

def sigmoid_grad(z):
    """Within-layer term ∂a/∂z of a = sigmoid(z) = 1 / (1 + e^(−z)), elementwise.

    z: (n, b). Returns the diagonal of ∂a/∂z, shape (n, b).
    """
    raise NotImplementedError("sigmoid_grad is not implemented yet")


def tanh_grad(z):
    """Within-layer term ∂a/∂z of a = tanh(z), elementwise.

    z: (n, b). Returns the diagonal of ∂a/∂z, shape (n, b).
    """
    raise NotImplementedError("tanh_grad is not implemented yet")


def relu_grad(z):
    """Within-layer term ∂a/∂z of a = relu(z) = max(z, 0), elementwise, with relu'(0) = 0.

    z: (n, b). Returns the diagonal of ∂a/∂z, shape (n, b).
    """
    raise NotImplementedError("relu_grad is not implemented yet")


def linear_grad(z):
    """Within-layer term ∂a/∂z of a = z, elementwise.

    z: (n, b). Returns the diagonal of ∂a/∂z, shape (n, b).
    """
    raise NotImplementedError("linear_grad is not implemented yet")


def softmax_jacobian(z):
    """Within-layer term ∂a/∂z of a = softmax(z), for ONE column z.

    softmax(z)_i = e^(z_i) / Σ_k e^(z_k). Unlike the elementwise activations, every a_i
    depends on every z_j, so this is a full matrix, not a diagonal.
    z: (n, 1). Returns the (n, n) Jacobian, entry [i, j] = ∂a_i/∂z_j (the matrix is symmetric,
    so this is also ∂a_j/∂z_i).
    """
    raise NotImplementedError("softmax_jacobian is not implemented yet")


# ---- the other factors of one layer's chain rule ----

def link_term(W):
    """Link term ∂z^ℓ/∂a^(ℓ-1), where z^ℓ = (W^ℓ)ᵀ a^(ℓ-1) + W0^ℓ.

    W: W^ℓ, shape (m, n). Returns shape (m, n), entry [i, j] = ∂z_j/∂a_i.
    """
    raise NotImplementedError("link_term is not implemented yet")


def weight_term(a_prev):
    """Weight term ∂z^ℓ/∂w^ℓ for ONE unit's weight vector w (m, 1), where z = wᵀ a^(ℓ-1) + w0.

    a_prev: A^(ℓ-1), shape (m, b). Returns shape (m, b): column k is ∂z/∂w for data point k.
    """
    raise NotImplementedError("weight_term is not implemented yet")


def dL_dz(dL_da, da_dz):
    """∂L/∂z^ℓ from ∂L/∂a^ℓ and an elementwise within-layer term ∂a^ℓ/∂z^ℓ.

    dL_da: ∂L/∂A^ℓ, shape (n, b); da_dz: the diagonal of ∂a^ℓ/∂z^ℓ, shape (n, b).
    Returns ∂L/∂Z^ℓ, shape (n, b).
    """
    raise NotImplementedError("dL_dz is not implemented yet")


def dL_dW(a_prev, dL_dz):
    """∂L/∂W^ℓ from the weight term and ∂L/∂z^ℓ, summed over the batch.

    a_prev: A^(ℓ-1), shape (m, b); dL_dz: ∂L/∂Z^ℓ, shape (n, b). Returns ∂L/∂W^ℓ, shape (m, n).
    """
    raise NotImplementedError("dL_dW is not implemented yet")


def dL_dW0(dL_dz):
    """∂L/∂W0^ℓ from ∂L/∂z^ℓ, summed over the batch.

    dL_dz: ∂L/∂Z^ℓ, shape (n, b). Returns ∂L/∂W0^ℓ, shape (n, 1).
    """
    raise NotImplementedError("dL_dW0 is not implemented yet")


def dL_da_prev(W, dL_dz):
    """∂L/∂A^(ℓ-1) from the link term and ∂L/∂z^ℓ: one step down to layer ℓ-1.

    W: W^ℓ, shape (m, n); dL_dz: ∂L/∂Z^ℓ, shape (n, b). Returns ∂L/∂A^(ℓ-1), shape (m, b).
    """
    raise NotImplementedError("dL_da_prev is not implemented yet")


# ---- the whole network ----

def forward(x, Ws, W0s, activations):
    """Forward pass through all L layers.

    x: A^0, shape (d, b). Ws, W0s: lists of the W^ℓ (m, n) and W0^ℓ (n, 1), 0-based.
    activations: list of L activation names.
    Returns (Zs, As): lists with Zs[i] = Z^(i+1) (length L), As[0] = x and As[i] = A^i (length L + 1).
    """
    raise NotImplementedError("forward is not implemented yet")


def backprop(x, y, Ws, W0s, activations, loss):
    """Backpropagation: gradients of the loss (summed over the batch) for every layer.

    Start from the loss unit ∂L/∂a^L and walk back from layer L to layer 1. In each layer, use the
    within-layer term to get ∂L/∂z^ℓ, the weight term to get ∂L/∂W^ℓ and ∂L/∂W0^ℓ, and the link
    term to get ∂L/∂A^(ℓ-1) for the next layer down. For a softmax layer, use the full
    softmax_jacobian on each column instead of an elementwise product.
    x: (d, b); y: (n_L, b); Ws, W0s, activations as in forward; loss: "square" or "nll".
    Returns (dWs, dW0s): lists with dWs[i] = ∂L/∂W^(i+1) shaped like Ws[i] and
    dW0s[i] = ∂L/∂W0^(i+1) shaped like W0s[i].
    """
    raise NotImplementedError("backprop is not implemented yet")


def two_neuron_backprop(x, y, w1, w01, w2, w02, f1, f2, loss):
    """The notes' two-neuron network, one unit per layer:

        z^1 = (w^1)ᵀ x + w0^1,   a^1 = f1(z^1),   z^2 = w^2 a^1 + w0^2,   a^2 = f2(z^2),   L = loss(a^2, y)

    x, w1: (m, 1); w01, w2, w02, y: (1, 1). f1, f2: activation names (not "softmax");
    loss: "square" or "nll".
    Returns a dict with every factor of the notes' chain rule,
        ∂L/∂w^1 = (∂L/∂a^2) · (∂a^2/∂z^2 · ∂z^2/∂a^1) · (∂a^1/∂z^1 · ∂z^1/∂w^1),
    under these keys, each a numpy array of shape (1, 1) except dz1_dw1 and dL_dw1, which are (m, 1):
        dL_da2   loss unit ∂L/∂a^2
        da2_dz2  within-layer term of layer 2
        dz2_dw2  weight term of layer 2
        dz2_da1  link term from layer 2 to layer 1
        da1_dz1  within-layer term of layer 1
        dz1_dw1  weight term of layer 1
        dL_da1   ∂L/∂a^1
        dL_dw2, dL_dw02, dL_dw1, dL_dw01   the weight and offset gradients
    """
    raise NotImplementedError("two_neuron_backprop is not implemented yet")
