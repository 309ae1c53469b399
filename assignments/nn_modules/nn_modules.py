"""6.390 backpropagation: the module-style network (`nn_modules`).

Write the methods below in numpy. A batch lives in columns: an input A to a layer has
shape (m, b), that layer's pre-activation Z has shape (n, b), a one-hot label Y has
shape (K, b). Every module has `forward`, and `backward`, which takes the derivative of
the loss with respect to the module's OUTPUT and returns it with respect to the module's
INPUT: each backward appends one factor of the notes' chain rule,

    dL/dW^l     = dL/da^L . ... . da^l/dz^l . dz^l/dW^l        (loss unit ... within layer, weight term)
    dL/da^(l-1) = dL/da^L . ... . da^l/dz^l . dz^l/da^(l-1)    (loss unit ... within layer, link term)

so a whole network's backward pass is just the modules' backward calls in reverse order.

Given to you as finished code (do not change it): `Module.sgd_step` (modules without
weights take no step), `Linear.__init__` (the course's tests rely on its order of random
draws: W0 first, then W), `Sequential.__init__`, and the first lines of `Sequential.sgd`
(how one random column is picked each iteration). Unlike the course handout, which gives
`Sequential.forward`, `backward` and `sgd_step` as finished code, here those three are
yours to write and are graded too. Every other method raises NotImplementedError until
you replace its body.
"""
import numpy as np


class Module:
    """Base class of every module."""

    def sgd_step(self, lrate):
        """Take one gradient step. Modules without weights do nothing (given)."""
        pass


class Linear(Module):
    """One layer's weights: Z = W^T A + W0, with W of shape (m, n) and W0 of shape (n, 1)."""

    def __init__(self, m, n):  # given
        self.m, self.n = (m, n)
        self.W0 = np.zeros([self.n, 1])
        self.W = np.random.normal(0, 1.0 * m ** (-.5), [m, n])

    def forward(self, A):
        """A: (m, b), the previous layer's activation a^(l-1) (or the input x).

        Keep A as self.A (backward's weight term needs it) and return Z = W^T A + W0, shape (n, b).
        """
        raise NotImplementedError("Linear.forward is not implemented yet")

    def backward(self, dLdZ):
        """dLdZ: (n, b), dL/dz^l for every column of the batch.

        Set three things:
        - self.dLdW, shape (m, n): the weight term dz^l/dW^l = a^(l-1) (the A kept by
          forward) times dL/dz^l, summed over the batch's columns;
        - self.dLdW0, shape (n, 1): dz^l/dW0^l = 1, so dL/dz^l summed over the batch's columns;
        - return dLdA, shape (m, b): the link term dz^l/da^(l-1) = W^l times dL/dz^l.
        """
        raise NotImplementedError("Linear.backward is not implemented yet")

    def sgd_step(self, lrate):
        """One gradient-descent step with the gradients backward stored:
        W <- W - lrate * dLdW and W0 <- W0 - lrate * dLdW0.
        """
        raise NotImplementedError("Linear.sgd_step is not implemented yet")


class Tanh(Module):
    """Activation a = tanh(z), entry by entry."""

    def forward(self, Z):
        """Z: (n, b). Return A = tanh(Z), (n, b), keeping what backward needs."""
        raise NotImplementedError("Tanh.forward is not implemented yet")

    def backward(self, dLdA):
        """dLdA: (n, b). Return dLdZ, (n, b): dL/da times the within-layer derivative
        da/dz = 1 - tanh(z)^2, entry by entry.
        """
        raise NotImplementedError("Tanh.backward is not implemented yet")


class ReLU(Module):
    """Activation a = max(0, z), entry by entry."""

    def forward(self, Z):
        """Z: (n, b). Return A = max(0, Z), (n, b), keeping what backward needs."""
        raise NotImplementedError("ReLU.forward is not implemented yet")

    def backward(self, dLdA):
        """dLdA: (n, b). Return dLdZ, (n, b): dL/da times the within-layer derivative
        da/dz = 1 where z > 0 and 0 elsewhere (take relu'(0) = 0).
        """
        raise NotImplementedError("ReLU.backward is not implemented yet")


class SoftMax(Module):
    """The output activation: each column of Z becomes a probability distribution over K classes."""

    def forward(self, Z):
        """Z: (K, b). Return Ypred, (K, b): exp(Z) normalised so that EACH COLUMN sums to 1."""
        raise NotImplementedError("SoftMax.forward is not implemented yet")

    def backward(self, dLdZ):
        """dLdZ: (K, b). NLL.backward already returns dL/dz of the softmax's input (the loss
        unit and softmax's within-layer derivative together), so return dLdZ unchanged.
        """
        raise NotImplementedError("SoftMax.backward is not implemented yet")

    def class_fun(self, Ypred):
        """Ypred: (K, b), any probabilities (not necessarily the last forward's). Return the predicted
        class of each column of Ypred: a flat array of b indices."""
        raise NotImplementedError("SoftMax.class_fun is not implemented yet")


class NLL(Module):
    """The loss unit: negative log-likelihood of one-hot labels."""

    def forward(self, Ypred, Y):
        """Ypred, Y: (K, b). Keep both, as self.Ypred and self.Y (backward needs them), and return
        the loss -sum(Y log Ypred) as a float, summed over classes AND over the batch (not averaged).
        """
        raise NotImplementedError("NLL.forward is not implemented yet")

    def backward(self):
        """Return dL/dz of the softmax's input, (K, b): Ypred - Y, one column per example."""
        raise NotImplementedError("NLL.backward is not implemented yet")


class Sequential:
    """A network: a list of modules (e.g. Linear, Tanh, Linear, SoftMax) and a loss module."""

    def __init__(self, modules, loss):  # given
        self.modules = modules
        self.loss = loss

    def sgd(self, X, Y, iters=100, lrate=0.005):
        """Stochastic gradient descent on X (d, N), Y (K, N): in each of `iters` iterations,
        one random column (given below) goes through forward, the loss's forward, the loss's
        backward (delta = dL/dz of the last module's input), this network's backward, and
        one sgd_step(lrate).
        """
        D, N = X.shape
        for it in range(iters):
            i = np.random.randint(N)  # given: the column for this iteration
            Xt = X[:, i:i+1]
            Yt = Y[:, i:i+1]
            # Your code: forward, loss forward, delta = loss backward, backward, sgd_step
            raise NotImplementedError("Sequential.sgd is not implemented yet")

    def forward(self, Xt):
        """Xt: (d, b). Pass it through every module in order; return the last output (K, b)."""
        raise NotImplementedError("Sequential.forward is not implemented yet")

    def backward(self, delta):
        """delta: (K, b), the loss's backward. Pass it through every module's backward, from
        the last module to the first (each one's output is the next one's input).
        """
        raise NotImplementedError("Sequential.backward is not implemented yet")

    def sgd_step(self, lrate):
        """Call sgd_step(lrate) on every module."""
        raise NotImplementedError("Sequential.sgd_step is not implemented yet")
