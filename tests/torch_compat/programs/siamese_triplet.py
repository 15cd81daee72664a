# Metric learning with a triplet loss: an embedding net, F.normalize, TripletMarginLoss,
# then nearest-neighbour accuracy with torch.cdist and topk.
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from compat_data import digits

seed = int(os.environ.get("SEED", 0))
torch.manual_seed(seed)
rng = np.random.default_rng(seed)
xtr, ytr, xte, yte = digits()
by_class = [np.flatnonzero(ytr == c) for c in range(10)]


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convnet = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                     nn.MaxPool2d(2), nn.Conv2d(8, 32, 3, padding=1), nn.ReLU(),
                                     nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 16))

    def forward(self, x):
        return F.normalize(self.fc(self.convnet(x)), p=2, dim=1)


def triplets(n):
    a_cls = rng.integers(0, 10, n)
    n_cls = (a_cls + rng.integers(1, 10, n)) % 10
    a = np.array([rng.choice(by_class[c]) for c in a_cls])
    p = np.array([rng.choice(by_class[c]) for c in a_cls])
    q = np.array([rng.choice(by_class[c]) for c in n_cls])
    return torch.from_numpy(xtr[a]), torch.from_numpy(xtr[p]), torch.from_numpy(xtr[q])


net = EmbeddingNet()
criterion = nn.TripletMarginLoss(margin=0.5)
optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
losses = []
for step in range(80):
    a, p, n = triplets(32)
    loss = criterion(net(a), net(p), net(n))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

net.eval()
with torch.no_grad():
    support = net(torch.from_numpy(xtr[:500]))
    query = net(torch.from_numpy(xte))
    dist = torch.cdist(query, support)
    nearest = dist.topk(1, dim=1, largest=False).indices.squeeze(1)
    pred = torch.from_numpy(ytr[:500])[nearest]
    accuracy = (pred == torch.from_numpy(yte)).float().mean().item()
    cos = F.cosine_similarity(query[:5], query[5:10]).shape[0]
print(f"triplet loss {losses[0]:.3f} -> {losses[-1]:.3f}, 1-NN accuracy {accuracy:.3f}")
RESULT = {"first_loss": sum(losses[:10]) / 10, "last_loss": sum(losses[-10:]) / 10,
          "accuracy": accuracy, "cos_rows": cos}
