import fastdl as torch
import fastdl.nn as nn
from fastdl.utils.data import DataLoader, TensorDataset
import fastdl.datasets

torch.manual_seed(0)
x, _ = fastdl.datasets.load_digits()
data = torch.tensor(x).reshape(-1, 64)


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8))
        self.decoder = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = AE()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.MSELoss()
loader = DataLoader(TensorDataset(data), batch_size=128, shuffle=True)
hist = []
for epoch in range(6):
    epoch_loss = 0.0
    for (batch,) in loader:
        recon = model(batch)
        loss = loss_fn(recon, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        epoch_loss += loss.item() * len(batch)
    hist.append(epoch_loss / len(data))
    print("epoch {}: {:.5f}".format(epoch, hist[-1]))
with torch.no_grad():
    codes = model.encoder(data)
print(codes.shape)
RESULT = {"first_loss": hist[0], "last_loss": hist[-1]}
