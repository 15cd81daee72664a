import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F
import fastdl.datasets

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.heads = nn.ModuleDict({"cls": nn.Linear(sizes[-1], 10), "aux": nn.Linear(sizes[-1], 1)})
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(s)) for s in sizes[1:]])
        self.register_buffer("mean", torch.zeros(sizes[0]))
        self.register_buffer("steps", torch.tensor(0))

    def forward(self, x):
        x = x - self.mean
        for layer, s in zip(self.layers, self.scales):
            x = F.gelu(layer(x)) * s
        return self.heads["cls"](x), self.heads["aux"](x).squeeze(-1)


x, y = fastdl.datasets.load_digits(flatten=True)
X, Y = torch.tensor(x), torch.tensor(y)
model = Net([64, 64, 32])
model.mean.copy_(X.mean(0))
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
for name, p in model.named_parameters():
    print(f"{name:25s} {tuple(p.shape)}")
print("buffers:", [n for n, _ in model.named_buffers()])
print("state keys:", list(model.state_dict().keys())[:4], "...")

# freeze the first layer, two param groups with different lr
for p in model.layers[0].parameters():
    p.requires_grad_(False)
optimizer = torch.optim.AdamW([
    {"params": [p for n, p in model.named_parameters() if n.startswith("heads")], "lr": 3e-3},
    {"params": [p for n, p in model.named_parameters() if not n.startswith("heads") and p.requires_grad]},
], lr=1e-3, weight_decay=0.01)
frozen_before = model.layers[0].weight.detach().clone()
losses = []
for step in range(150):
    idx = torch.randint(0, len(X), (64,))
    xb, yb = X[idx], Y[idx]
    logits, aux = model(xb)
    loss = F.cross_entropy(logits, yb) + 0.1 * F.mse_loss(aux, yb.float() / 9)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model.steps += 1
    losses.append(loss.item())
assert torch.equal(model.layers[0].weight, frozen_before)
assert model.layers[0].weight.grad is None
assert int(model.steps) == 150
with torch.no_grad():
    acc = (model(X)[0].argmax(-1) == Y).float().mean().item()
print(f"params {n_params}, loss {losses[0]:.3f} -> {losses[-1]:.3f}, acc {acc:.3f}")
RESULT = {"first_loss": sum(losses[:10]) / 10, "last_loss": sum(losses[-10:]) / 10, "accuracy": acc}
