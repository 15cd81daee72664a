# Polynomial regression with a small MLP: nn.Sequential, MSELoss, SGD with momentum, StepLR.
import os

import torch
from torch import nn

torch.manual_seed(int(os.environ.get("SEED", 0)))

x = torch.linspace(-2, 2, 256).unsqueeze(1)
y = 0.5 * x ** 3 - x ** 2 + 0.3 * x + 0.1 * torch.randn(x.size())

model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                      nn.Linear(32, 1))
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=200, gamma=0.5)

first = None
for step in range(600):
    pred = model(x)
    loss = criterion(pred, y)
    if first is None:
        first = loss.item()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 200 == 0:
        print(f"step {step}: loss {loss.item():.4f}, lr {scheduler.get_last_lr()[0]:.4f}")

with torch.no_grad():
    final = criterion(model(x), y).item()
RESULT = {"first_loss": first, "final_loss": final}
