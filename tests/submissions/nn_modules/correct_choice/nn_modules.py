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
        self.A = A  # keep the input for backward
        return self.W.T @ A + self.W0  # Z = W^T A + W0

    def backward(self, dLdZ):
        self.dLdW = self.A @ dLdZ.T  # weight gradient
        self.dLdW0 = np.sum(dLdZ, axis=1, keepdims=True)  # offset gradient
        return self.W @ dLdZ  # dLdA

    def sgd_step(self, lrate):
        self.W = self.W - lrate * self.dLdW  # W step
        self.W0 = self.W0 - lrate * self.dLdW0  # W0 step


class Tanh(Module):
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * (1 - self.A ** 2)  # tanh derivative


class ReLU(Module):
    def forward(self, Z):
        self.A = np.maximum(0, Z)
        return self.A

    def backward(self, dLdA):
        return dLdA * (self.A > 0)  # relu derivative


class SoftMax(Module):
    def forward(self, Z):
        E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
        return E / np.sum(E, axis=0, keepdims=True)  # normalise each column

    def backward(self, dLdZ):
        return dLdZ  # NLL already gave dL/dZ

    def class_fun(self, Ypred):
        return np.argmax(Ypred, axis=0)  # predicted class


class NLL(Module):
    def forward(self, Ypred, Y):
        self.Ypred = Ypred
        self.Y = Y
        return float(np.sum(-Y * np.log(Ypred)))  # total loss

    def backward(self):
        return self.Ypred - self.Y  # dL/dZ


class Sequential:
    def __init__(self, modules, loss):
        self.modules = modules
        self.loss = loss

    def sgd(self, X, Y, iters=100, lrate=0.005):
        D, N = X.shape
        for it in range(iters):
            i = np.random.choice(N)  # the same draws as randint(N)
            Xt = X[:, [i]]  # a (d, 1) copy of column i
            Yt = Y[:, [i]]
            Ypred = self.forward(Xt)
            loss = self.loss.forward(Ypred, Yt)
            delta = self.loss.backward()
            self.backward(delta)
            self.sgd_step(lrate)

    def forward(self, Xt):
        for m in self.modules:  # forward pass
            Xt = m.forward(Xt)
        return Xt

    def backward(self, delta):
        for m in self.modules[::-1]:  # backward pass, last module first
            delta = m.backward(delta)

    def sgd_step(self, lrate):
        for m in self.modules:  # step every module
            m.sgd_step(lrate)
