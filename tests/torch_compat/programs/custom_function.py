# A custom autograd.Function (the "LegendrePolynomial3" tutorial shape) and a custom
# clamp-with-straight-through gradient, checked with torch.autograd.grad and trained.
import math
import os

import torch

torch.manual_seed(int(os.environ.get("SEED", 0)))


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, g):
        return g, None, None


dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

# the custom backward agrees with autograd through the same formula
t = torch.randn(5, dtype=dtype, requires_grad=True)
g_custom, = torch.autograd.grad(LegendrePolynomial3.apply(t).sum(), t)
g_auto, = torch.autograd.grad((0.5 * (5 * t ** 3 - 3 * t)).sum(), t)
grad_err = (g_custom - g_auto).abs().max().item()
st, = torch.autograd.grad(StraightThroughClamp.apply(t * 3, -1.0, 1.0).sum(), t)

learning_rate = 5e-6
P3 = LegendrePolynomial3.apply
first = None
for t_ in range(2000):
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if first is None:
        first = loss.item()
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f"Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x), loss {loss.item()}")
RESULT = {"first_loss": first, "final_loss": loss.item(), "grad_err": grad_err,
          "straight_through": st.tolist() == [3.0] * 5}
