import numpy as np
import fastdl as torch
import fastdl.nn as nn

torch.manual_seed(0)
np.random.seed(0)
t = np.linspace(0, 40, 2000, dtype=np.float32)
series = np.sin(t)
W = 20
X = np.stack([series[i:i + W] for i in range(len(series) - W)])[:, :, None]
Y = series[W:][:, None]
X, Y = torch.from_numpy(X), torch.from_numpy(Y)


class GRUModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(input_size=1, hidden_size=16, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        y, h = self.gru(x)
        return self.out(y[:, -1, :])


model = GRUModel()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)
crit = nn.MSELoss()
losses = []
for epoch in range(40):
    idx = torch.randint(0, len(X), (64,))
    pred = model(X[idx])
    loss = crit(pred, Y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
with torch.no_grad():
    test = crit(model(X[-200:]), Y[-200:]).item()
print(f"first {losses[0]:.4f} last {losses[-1]:.4f} test {test:.4f} lr {opt.param_groups[0]['lr']:.2e}")
RESULT = {"first_loss": losses[0], "test_loss": test}
