import fastdl as torch
import fastdl.nn as nn

torch.manual_seed(0)
# gradient penalty style: d(out)/d(x) with create_graph, then backward through it
x = torch.randn(64, 3, requires_grad=True)
net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
target = torch.ones(64)
losses = []
for step in range(100):
    out = net(x)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((g.norm(2, dim=1) - target) ** 2).mean()
    opt.zero_grad()
    penalty.backward()
    opt.step()
    losses.append(penalty.item())
# a second-derivative check: d2/dx2 of x^3 = 6x
z = torch.tensor([1.0, 2.0], requires_grad=True)
(dz,) = torch.autograd.grad((z ** 3).sum(), z, create_graph=True)
(d2,) = torch.autograd.grad(dz.sum(), z)
print(f"penalty {losses[0]:.4f} -> {losses[-1]:.4f}; d2 {d2.tolist()}")
assert d2.tolist() == [6.0, 12.0]
RESULT = {"first_loss": losses[0], "last_loss": losses[-1]}
