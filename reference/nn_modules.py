"""Reference solution for the `nn_modules` assignment (MIT 6.390 module-style network).

Batches live in columns: an input A has shape (m, b), a pre-activation Z has shape (n, b).
Each module's `backward` receives the derivative of the loss with respect to its output
and returns the derivative with respect to its input, appending one factor of the chain
rule from the notes:

    dL/dw^l     = dL/da^L  ...  da^l/dz^l * dz^l/dw^l        (weight term dz^l/dw^l = a^(l-1))
    dL/da^(l-1) = dL/da^L  ...  da^l/dz^l * dz^l/da^(l-1)    (link term dz^l/da^(l-1) = W^l)

with the loss unit dL/da^L at the far end and the within-layer derivative da^l/dz^l in each layer.
"""
import numpy as np


class Module:
    """Base class; modules without weights take no gradient step."""

    def sgd_step(self, lrate):
        pass


class Linear(Module):
    """z^l = (W^l)^T a^(l-1) + W0^l, with W (m, n) and W0 (n, 1)."""

    def __init__(self, m, n):
        self.m, self.n = m, n
        self.W0 = np.zeros([n, 1])  # created first: the course's tests rely on this order of draws
        self.W = np.random.normal(0, 1.0 * m ** (-.5), [m, n])

    def forward(self, A):
        self.A = A  # a^(l-1), kept for the weight term
        return self.W.T @ A + self.W0

    def backward(self, dLdZ):
        self.dLdW = self.A @ dLdZ.T  # weight term dz/dW = a^(l-1), times dL/dz, summed over the batch
        self.dLdW0 = np.sum(dLdZ, axis=1, keepdims=True)  # dz/dW0 = 1, summed over the batch
        return self.W @ dLdZ  # link term dz^l/da^(l-1) = W^l, times dL/dz

    def sgd_step(self, lrate):
        self.W = self.W - lrate * self.dLdW
        self.W0 = self.W0 - lrate * self.dLdW0


class Tanh(Module):
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * (1 - self.A ** 2)  # within-layer derivative da/dz = 1 - tanh(z)^2


class ReLU(Module):
    def forward(self, Z):
        self.A = np.maximum(0, Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * (self.A > 0)  # within-layer derivative da/dz = 1 if z > 0 else 0


class SoftMax(Module):
    def forward(self, Z):
        E = np.exp(Z - np.max(Z, axis=0, keepdims=True))  # shift each column: same result, no overflow
        return E / np.sum(E, axis=0, keepdims=True)

    def backward(self, dLdZ):
        return dLdZ  # NLL.backward already returned dL/dz of the softmax's input

    def class_fun(self, Ypred):
        return np.argmax(Ypred, axis=0)


class NLL(Module):
    """The loss unit: L = -sum over classes and batch of Y log Ypred."""

    def forward(self, Ypred, Y):
        self.Ypred, self.Y = Ypred, Y
        return float(np.sum(-Y * np.log(Ypred)))

    def backward(self):
        return self.Ypred - self.Y  # loss unit and softmax together: dL/dz^L = a^L - y


class Sequential:
    def __init__(self, modules, loss):
        self.modules = modules
        self.loss = loss

    def sgd(self, X, Y, iters=100, lrate=0.005):
        D, N = X.shape
        for it in range(iters):
            i = np.random.randint(N)
            Xt = X[:, i:i + 1]
            Yt = Y[:, i:i + 1]
            Ypred = self.forward(Xt)
            self.loss.forward(Ypred, Yt)
            self.backward(self.loss.backward())
            self.sgd_step(lrate)

    def forward(self, Xt):
        for m in self.modules:
            Xt = m.forward(Xt)
        return Xt

    def backward(self, delta):
        for m in self.modules[::-1]:  # backward: from the loss unit towards the input
            delta = m.backward(delta)

    def sgd_step(self, lrate):
        for m in self.modules:
            m.sgd_step(lrate)
