import numpy as np
import fastdl as torch
import fastdl.nn as nn
import fastdl.optim as optim
from fastdl.utils.data import Dataset, DataLoader, WeightedRandomSampler
import fastdl.datasets


class DigitsDataset(Dataset):
    def __init__(self, train=True, transform=None):
        x, y = fastdl.datasets.load_digits()
        sl = slice(0, 1400) if train else slice(1400, None)
        self.x, self.y = x[sl], y[sl]
        self.transform = transform

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = self.x[i]
        if self.transform:
            img = self.transform(img)
        return torch.tensor(img, dtype=torch.float32).unsqueeze(0), int(self.y[i])


def add_noise(img):
    return img + np.random.normal(0, 0.05, img.shape).astype(np.float32)


torch.manual_seed(0)
np.random.seed(0)
train_ds = DigitsDataset(True, transform=add_noise)
test_ds = DigitsDataset(False)
counts = np.bincount(train_ds.y, minlength=10)
weights = 1.0 / counts[train_ds.y]
sampler = WeightedRandomSampler(weights, num_samples=len(train_ds), replacement=True)
train_loader = DataLoader(train_ds, batch_size=32, sampler=sampler, num_workers=0)
test_loader = DataLoader(test_ds, batch_size=100, shuffle=False)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
class_w = torch.tensor(counts.sum() / (10 * counts), dtype=torch.float32)
criterion = nn.CrossEntropyLoss(weight=class_w)
optimizer = optim.RMSprop(model.parameters(), lr=1e-3)
accum = 2
losses = []
for epoch in range(5):
    model.train()
    optimizer.zero_grad()
    tot = 0.0
    for i, (xb, yb) in enumerate(train_loader):
        loss = criterion(model(xb), yb) / accum
        loss.backward()
        if (i + 1) % accum == 0:
            optimizer.step()
            optimizer.zero_grad()
        tot += loss.item() * accum
    losses.append(tot / len(train_loader))
model.eval()
correct = total = 0
with torch.inference_mode():
    for xb, yb in test_loader:
        _, predicted = torch.max(model(xb), 1)
        total += yb.size(0)
        correct += (predicted == yb).sum().item()
acc = correct / total
print(f"losses {[round(l, 3) for l in losses]} acc {100 * acc:.1f}%")
RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc}
