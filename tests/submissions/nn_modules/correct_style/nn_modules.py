"""My 6.390 nn_modules homework. Debug prints left in on purpose."""
import math

import numpy as np

DEBUG = False
print("loading nn_modules (student version)")


def column_sums(M):
    """Helper: sum each row across the batch, keeping a column vector."""
    return M.sum(axis=1).reshape(-1, 1)


def log_safe(P, eps=0.0):
    return np.log(P + eps)


class Module:
    name = "module"

    def sgd_step(self, lrate):
        pass

    def __repr__(self):
        return f"<{type(self).__name__}>"


class Linear(Module):
    name = "linear"

    def __init__(self, m, n):
        self.m, self.n = (m, n)
        self.W0 = np.zeros([self.n, 1])
        self.W = np.random.normal(0, 1.0 * m ** (-.5), [m, n])
        self.n_forward_calls = 0
        self.A = None

    def forward(self, A):
        self.n_forward_calls += 1
        self.A = np.array(A, copy=True)
        if DEBUG:
            print("Linear.forward", A.shape)
        return np.matmul(np.transpose(self.W), self.A) + self.W0

    def backward(self, dLdZ):
        # weight term: dZ/dW = A, link term: dZ/dA = W
        self.dLdW = np.einsum("ib,jb->ij", self.A, dLdZ)
        self.dLdW0 = column_sums(dLdZ)
        dLdA = np.einsum("ij,jb->ib", self.W, dLdZ)
        return dLdA

    def sgd_step(self, lrate):
        new_W = self.W - lrate * self.dLdW
        new_W0 = self.W0 - lrate * self.dLdW0
        self.W, self.W0 = new_W, new_W0

    def num_params(self):
        return self.W.size + self.W0.size


class Tanh(Module):
    name = "tanh"

    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dLdA):
        return np.multiply(dLdA, 1 - np.square(self.A))


class ReLU(Module):
    name = "relu"

    def forward(self, Z):
        self.A = Z * (Z > 0)
        return self.A

    def backward(self, dLdA):
        return dLdA * np.sign(self.A)


class SoftMax(Module):
    name = "softmax"

    def forward(self, Z):
        exps = np.exp(Z - Z.max(axis=0))
        return exps / exps.sum(axis=0, keepdims=True)

    def backward(self, dLdZ):
        return dLdZ.copy()

    def class_fun(self, Ypred):
        return np.argmax(Ypred, axis=0).reshape(1, -1)


class NLL(Module):
    name = "nll"

    def forward(self, Ypred, Y):
        self.Ypred = Ypred
        self.Y = Y
        total = 0.0
        for k in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                if Y[k, j] != 0:
                    total -= Y[k, j] * math.log(Ypred[k, j])
        return total

    def backward(self):
        return -(self.Y - self.Ypred)


class Sequential:
    def __init__(self, modules, loss):
        self.modules = modules
        self.loss = loss
        self.history = []
        print("built network:", modules)

    def sgd(self, X, Y, iters=100, lrate=0.005, verbose=True, every=250):
        D, N = X.shape
        for it in range(iters):
            i = np.random.choice(N)
            Xt = X[:, [i]]
            Yt = Y[:, [i]]
            Ypred = self.forward(Xt)
            cur_loss = self.loss.forward(Ypred, Yt)
            self.history.append(cur_loss)
            self.backward(self.loss.backward())
            self.sgd_step(lrate)
            if verbose:
                self.print_accuracy(it, X, Y, cur_loss, every)

    def forward(self, Xt):
        return self._run(Xt)

    def _run(self, Xt):
        for layer in self.modules:
            Xt = layer.forward(Xt)
        return Xt

    def backward(self, delta):
        for k in range(len(self.modules) - 1, -1, -1):
            delta = self.modules[k].backward(delta)

    def sgd_step(self, lrate):
        for layer in self.modules:
            layer.sgd_step(lrate)

    def print_accuracy(self, it, X, Y, cur_loss, every=250):
        if it % every == 1:
            cf = self.modules[-1].class_fun
            acc = np.mean(cf(self.forward(X)) == cf(Y))
            print("Iteration =", it, "\tAcc =", acc, "\tLoss =", cur_loss)
