import fastdl as torch
import fastdl.nn as nn

torch.manual_seed(0)
n = 800
X = torch.randn(n, 5)
w_true = torch.tensor([1.5, -2.0, 0.5, 0.0, 1.0])
y = (X @ w_true + 0.3 * torch.randn(n) > 0).float()

model = nn.Linear(5, 1)
crit = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0]))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
losses = []
for epoch in range(100):
    logits = model(X).squeeze(1)
    loss = crit(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
with torch.no_grad():
    probs = torch.sigmoid(model(X)).squeeze()
    preds = (probs > 0.5).float()
acc = (preds == y).float().mean().item()
bce = nn.BCELoss()(probs, y).item()
print(f"loss {losses[-1]:.4f} bce {bce:.4f} acc {acc:.3f} w {model.weight.data.numpy().round(2)}")
RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc}
