# The VAE example, on the digits: reparameterization with randn_like, BCE + KL divergence.
import os

import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

from compat_data import digits

torch.manual_seed(int(os.environ.get("SEED", 0)))
xtr, _, xte, _ = digits()
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(xtr)),
                                           batch_size=64, shuffle=True)


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc21 = nn.Linear(128, 8)
        self.fc22 = nn.Linear(128, 8)
        self.fc3 = nn.Linear(8, 128)
        self.fc4 = nn.Linear(128, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


model = VAE()
optimizer = optim.Adam(model.parameters(), lr=1e-3)
epoch_losses = []
for epoch in range(1, 9):
    model.train()
    train_loss = 0
    for batch_idx, (data,) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    epoch_losses.append(train_loss / len(train_loader.dataset))
model.eval()
with torch.no_grad():
    data = torch.from_numpy(xte)
    recon, mu, logvar = model(data)
    test_loss = loss_function(recon, data, mu, logvar).item() / len(xte)
    sample = model.decode(torch.randn(4, 8))
print("epoch losses", [round(v, 2) for v in epoch_losses], "test", test_loss)
RESULT = {"first_loss": epoch_losses[0], "test_loss": test_loss,
          "sample_ok": bool(((sample >= 0) & (sample <= 1)).all())}
