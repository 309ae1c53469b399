import numpy as np


class Module:
    def sgd_step(self, lrate):
        pass


class Linear(Module):
    def __init__(self, m, n):
        self.m, self.n = (m, n)
        self.W0 = np.zeros([self.n, 1])
        self.W = np.random.normal(0, 1.0 * m ** (-.5), [m, n])

    def forward(self, A):
        self.A = A
        self.Z = np.dot(self.W.T, A) + self.W0
        return self.Z

    def backward(self, dLdZ):
        b = dLdZ.shape[1]
        self.dLdW = np.dot(self.A, dLdZ.T)
        self.dLdW0 = dLdZ @ np.ones((b, 1))
        return np.dot(self.W, dLdZ)

    def sgd_step(self, lrate):
        self.W -= lrate * self.dLdW
        self.W0 -= lrate * self.dLdW0


class Tanh(Module):
    def forward(self, Z):
        self.Z = Z
        return np.tanh(Z)

    def backward(self, dLdA):
        dAdZ = 1.0 - np.tanh(self.Z) ** 2
        return dLdA * dAdZ


class ReLU(Module):
    def forward(self, Z):
        self.Z = Z
        return np.maximum(Z, 0)

    def backward(self, dLdA):
        A = np.maximum(self.Z, 0)
        return np.where(A != 0, dLdA, 0.0)


class SoftMax(Module):
    def forward(self, Z):
        expZ = np.exp(Z)
        return expZ / expZ.sum(axis=0)

    def backward(self, dLdZ):
        return dLdZ

    def class_fun(self, Ypred):
        return Ypred.argmax(axis=0)


class NLL(Module):
    def forward(self, Ypred, Y):
        self.Ypred, self.Y = Ypred, Y
        return -float((Y * np.log(Ypred)).sum())

    def backward(self):
        return self.Ypred - self.Y


class Sequential:
    def __init__(self, modules, loss):
        self.modules = modules
        self.loss = loss

    def sgd(self, X, Y, iters=100, lrate=0.005):
        D, N = X.shape
        for it in range(iters):
            i = np.random.randint(N)
            Xt, Yt = X[:, i:i+1], Y[:, i:i+1]
            self.loss.forward(self.forward(Xt), Yt)
            self.backward(self.loss.backward())
            self.sgd_step(lrate)

    def forward(self, Xt):
        out = Xt
        for module in self.modules:
            out = module.forward(out)
        return out

    def backward(self, delta):
        for module in reversed(self.modules):
            delta = module.backward(delta)
        return delta

    def sgd_step(self, lrate):
        for module in self.modules:
            module.sgd_step(lrate)
