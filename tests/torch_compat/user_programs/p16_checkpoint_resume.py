import os
import tempfile
import fastdl as torch
import fastdl.nn as nn

torch.manual_seed(0)
X = torch.randn(256, 10)
y = X[:, :3].sum(1, keepdim=True)
model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)


def train(model, opt, sched, epochs):
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


first = nn.functional.mse_loss(model(X), y).item()
train(model, opt, sched, 30)
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "ckpt.pt")
torch.save({"epoch": 30, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(), "scheduler": sched.state_dict(), "loss": 0.1}, path)
ref = train(model, opt, sched, 30)

torch.manual_seed(1)
model2 = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
opt2 = torch.optim.Adam(model2.parameters(), lr=1e-2)
sched2 = torch.optim.lr_scheduler.ExponentialLR(opt2, gamma=0.95)
ckpt = torch.load(path, map_location="cpu")
model2.load_state_dict(ckpt["model_state_dict"])
opt2.load_state_dict(ckpt["optimizer_state_dict"])
sched2.load_state_dict(ckpt["scheduler"])
start = ckpt["epoch"]
resumed = train(model2, opt2, sched2, 30)
with open(os.path.join(tmp, "w.pt"), "wb") as f:
    torch.save(model2.state_dict(), f)
with open(os.path.join(tmp, "w.pt"), "rb") as f:
    sd = torch.load(f, weights_only=True)
model2.load_state_dict(sd, strict=True)
print(f"start {start}, first {first:.4f}, ref {ref:.6f}, resumed {resumed:.6f}")
RESULT = {"first_loss": first, "ref": ref, "resumed": resumed}
