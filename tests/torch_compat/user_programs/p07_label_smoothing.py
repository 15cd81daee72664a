import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F

torch.manual_seed(3)
N, C = 600, 4
centers = torch.randn(C, 2) * 3
y = torch.randint(0, C, (N,))
x = centers[y] + torch.randn(N, 2)
targets = y.clone()
targets[::10] = -100  # unlabeled

model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, C))
crit = nn.CrossEntropyLoss(label_smoothing=0.1)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for it in range(150):
    logits = model(x)
    loss = crit(logits, y) + F.cross_entropy(logits, targets, ignore_index=-100)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
with torch.no_grad():
    probs = F.softmax(model(x), dim=1)
    conf, pred = probs.max(dim=1)
acc = (pred == y).float().mean().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; acc {acc:.3f}; mean conf {conf.mean():.3f}")
# label smoothing at eps=0.1 on C=4 keeps confidence below 1
RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc, "conf": conf.mean().item()}
