import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F
import fastdl.optim as optim
from fastdl.utils.data import TensorDataset, DataLoader, random_split
import fastdl.datasets

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

x, y = fastdl.datasets.load_digits()
X = torch.tensor(x, dtype=torch.float32)
Y = torch.tensor(y, dtype=torch.long)
ds = TensorDataset(X, Y)
n_val = int(0.2 * len(ds))
train_ds, val_ds = random_split(ds, [len(ds) - n_val, n_val])
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=256)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 8 * 8)
        return self.fc2(F.relu(self.fc1(x)))


model = MLP().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(8):
    model.train()
    running = 0.0
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss.item() * xb.size(0)
    losses.append(running / len(train_ds))
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            xb, yb = xb.to(device), yb.to(device)
            pred = model(xb)
            correct += (pred.argmax(1) == yb).sum().item()
    acc = correct / len(val_ds)
    print(f"epoch {epoch+1}: loss {losses[-1]:.4f} val acc {acc:.3f}")

RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc}
