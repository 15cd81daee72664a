# A convolutional autoencoder: Conv2d down, ConvTranspose2d up, Sigmoid, MSE, Adam,
# evaluated under torch.inference_mode.
import os

import torch
import torch.nn as nn

from compat_data import digits

torch.manual_seed(int(os.environ.get("SEED", 0)))
xtr, _, xte, _ = digits()
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(xtr)),
                                     batch_size=64, shuffle=True)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),        # 8 -> 4
    nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),        # 4 -> 2
    nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),   # 2 -> 4
    nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 4 -> 8
)
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.MSELoss()
epoch_losses = []
for epoch in range(8):
    total = 0.0
    for (xb,) in loader:
        recon = model(xb)
        loss = loss_fn(recon, xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * xb.shape[0]
    epoch_losses.append(total / len(loader.dataset))
with torch.inference_mode():
    test = loss_fn(model(torch.from_numpy(xte)), torch.from_numpy(xte)).item()
print("epoch mse", [round(v, 4) for v in epoch_losses], "test", round(test, 4))
RESULT = {"first_loss": epoch_losses[0], "test_loss": test}
