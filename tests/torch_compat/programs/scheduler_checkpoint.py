# A custom training loop with OneCycleLR, gradient accumulation, a checkpoint saved with
# torch.save to a file object mid-training and a resume that continues identically.
import io
import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split

from compat_data import digits

seed = int(os.environ.get("SEED", 0))
torch.manual_seed(seed)
xtr, ytr, xte, yte = digits()
full = TensorDataset(torch.from_numpy(xtr.reshape(-1, 64)), torch.from_numpy(ytr))
train_set, val_set = random_split(full, [1200, 200], generator=torch.Generator().manual_seed(seed))


def make():
    model = nn.Sequential(nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=60)
    return model, opt, sched


def train_steps(model, opt, sched, batches):
    model.train()
    crit = nn.CrossEntropyLoss(label_smoothing=0.05)
    losses = []
    for xb, yb in batches:
        loss = crit(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


g = torch.Generator().manual_seed(seed)
batches = []
for _ in range(2):
    loader = DataLoader(train_set, batch_size=40, shuffle=True)
    batches.extend(list(loader))
batches = batches[:60]

model, opt, sched = make()
losses = train_steps(model, opt, sched, batches[:30])
rng_state = torch.get_rng_state()          # dropout masks after the resume repeat too
buf = io.BytesIO()
torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "step": 30}, buf)
rest_a = train_steps(model, opt, sched, batches[30:])

buf.seek(0)
ck = torch.load(buf, map_location="cpu", weights_only=True) if "weights_only" in \
    torch.load.__code__.co_varnames else torch.load(buf, map_location="cpu")
model2, opt2, sched2 = make()
model2.load_state_dict(ck["model"])
opt2.load_state_dict(ck["optimizer"])
sched2.load_state_dict(ck["scheduler"])
torch.set_rng_state(rng_state)
rest_b = train_steps(model2, opt2, sched2, batches[30:])

model2.eval()
xv = torch.stack([val_set[i][0] for i in range(len(val_set))])
yv = torch.stack([val_set[i][1] for i in range(len(val_set))])
with torch.no_grad():
    acc = (model2(xv).argmax(1) == yv).float().mean().item()
print(f"loss {losses[0]:.3f} -> {rest_b[-1]:.3f}, val acc {acc:.3f}, lr {sched2.get_last_lr()}")
RESULT = {"first_loss": losses[0], "last_loss": sum(rest_b[-5:]) / 5, "accuracy": acc,
          "resume_max_diff": max(abs(p - q) for p, q in zip(rest_a, rest_b)),
          "final_lr": sched2.get_last_lr()[0]}
