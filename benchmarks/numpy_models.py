"""Plain NumPy implementations of the benchmark models, for side-by-side speed.

The MLP (784-256-128-10, Adam) and the CNN (conv32-pool-conv64-pool-fc128-fc10,
SGD with momentum) are written the way a careful NumPy user would: matmuls
through NumPy's BLAS, im2col convolution, vectorized everything else. They
take the same initial weights as the fastdl and PyTorch models (a dict of
arrays with PyTorch's names), so accuracy can be compared too.
"""
import numpy as np


def softmax_xent(logits, y):
    """Mean cross-entropy and its gradient w.r.t. logits."""
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y] + 1e-30).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n


class Adam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for k, g in grads.items():
            m, v = self.m[k], self.v[k]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            self.p[k] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


class SGD:
    def __init__(self, params, lr=0.01, momentum=0.9):
        self.p, self.lr, self.mu = params, lr, momentum
        self.buf = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        for k, g in grads.items():
            b = self.buf[k]
            b *= self.mu
            b += g
            self.p[k] -= self.lr * b


class MLP:
    """784-256-128-10 with ReLU; params named like nn.Sequential(Linear, ReLU, ...)."""

    def __init__(self, params):
        self.p = {k: np.array(v, dtype=np.float32) for k, v in params.items()}

    def forward(self, x):
        p = self.p
        self.x = x
        self.h1 = np.maximum(x @ p["0.weight"].T + p["0.bias"], 0)
        self.h2 = np.maximum(self.h1 @ p["2.weight"].T + p["2.bias"], 0)
        return self.h2 @ p["4.weight"].T + p["4.bias"]

    def backward(self, g):
        p = self.p
        grads = {"4.weight": g.T @ self.h2, "4.bias": g.sum(0)}
        g = (g @ p["4.weight"]) * (self.h2 > 0)
        grads["2.weight"], grads["2.bias"] = g.T @ self.h1, g.sum(0)
        g = (g @ p["2.weight"]) * (self.h1 > 0)
        grads["0.weight"], grads["0.bias"] = g.T @ self.x, g.sum(0)
        return grads


def im2col(x, k, pad):
    """(N, C, H, W) -> (N*H*W, C*k*k) for stride 1 'same' convolution."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    s = xp.strides
    cols = np.lib.stride_tricks.as_strided(xp, (N, H, W, C, k, k),
                                           (s[0], s[2], s[3], s[1], s[2], s[3]))
    return cols.reshape(N * H * W, C * k * k)


def col2im(cols, shape, k, pad):
    N, C, H, W = shape
    cols = cols.reshape(N, H, W, C, k, k)
    dx = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + H, j:j + W] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx[:, :, pad:pad + H, pad:pad + W]


def maxpool2(x):
    N, C, H, W = x.shape
    r = x.reshape(N, C, H // 2, 2, W // 2, 2)
    out = r.max(axis=(3, 5))
    mask = r == out[:, :, :, None, :, None]
    return out, mask


def maxpool2_back(g, mask):
    gg = mask * g[:, :, :, None, :, None]
    # ties would double-count; normalise like a single argmax would
    gg = gg / np.maximum(mask.sum(axis=(3, 5), keepdims=True), 1)
    N, C, H2, _, W2, _ = gg.shape
    return gg.reshape(N, C, H2 * 2, W2 * 2)


class CNN:
    """conv(1->32,3x3,pad1)-relu-pool-conv(32->64)-relu-pool-fc(3136->128)-relu-fc(128->10).

    Param names follow nn.Sequential(Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d,
    Flatten, Linear, ReLU, Linear): 0.*, 3.*, 7.*, 9.*.
    """

    def __init__(self, params):
        self.p = {k: np.array(v, dtype=np.float32) for k, v in params.items()}

    def _conv(self, x, w, b):
        N, C, H, W = x.shape
        K = w.shape[0]
        cols = im2col(x, 3, 1)
        out = cols @ w.reshape(K, -1).T + b
        return out.reshape(N, H, W, K).transpose(0, 3, 1, 2), cols

    def _conv_back(self, g, cols, w, xshape):
        N, K, H, W = g.shape
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, K)
        dw = (g2.T @ cols).reshape(w.shape)
        db = g2.sum(0)
        dcols = g2 @ w.reshape(K, -1)
        return col2im(dcols, xshape, 3, 1), dw, db

    def forward(self, x):
        p = self.p
        self.x = x
        a1, self.c1 = self._conv(x, p["0.weight"], p["0.bias"])
        self.r1 = a1 > 0
        h1, self.m1 = maxpool2(a1 * self.r1)
        self.h1 = h1
        a2, self.c2 = self._conv(h1, p["3.weight"], p["3.bias"])
        self.r2 = a2 > 0
        h2, self.m2 = maxpool2(a2 * self.r2)
        self.f = h2.reshape(len(x), -1)
        self.z = self.f @ p["7.weight"].T + p["7.bias"]
        self.rz = self.z > 0
        self.hz = self.z * self.rz
        return self.hz @ p["9.weight"].T + p["9.bias"]

    def backward(self, g):
        p = self.p
        grads = {"9.weight": g.T @ self.hz, "9.bias": g.sum(0)}
        g = (g @ p["9.weight"]) * self.rz
        grads["7.weight"], grads["7.bias"] = g.T @ self.f, g.sum(0)
        g = (g @ p["7.weight"]).reshape(len(g), 64, 7, 7)
        g = maxpool2_back(g, self.m2) * self.r2
        g, grads["3.weight"], grads["3.bias"] = self._conv_back(g, self.c2, p["3.weight"],
                                                                self.h1.shape)
        g = maxpool2_back(g, self.m1) * self.r1
        _, grads["0.weight"], grads["0.bias"] = self._conv_back(g, self.c1, p["0.weight"],
                                                                self.x.shape)
        return grads
