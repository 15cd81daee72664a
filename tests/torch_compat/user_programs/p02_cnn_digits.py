import fastdl as torch
import fastdl.nn as nn
import fastdl.optim as optim
from fastdl.utils.data import TensorDataset, DataLoader
import fastdl.datasets

torch.manual_seed(1)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x, y = fastdl.datasets.load_digits()
X = torch.from_numpy(x).unsqueeze(1)  # N,1,8,8
Y = torch.from_numpy(y)
Xtr, Ytr, Xte, Yte = X[:1500], Y[:1500], X[1500:], Y[1500:]

model = nn.Sequential(
    nn.Conv2d(1, 8, kernel_size=3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 32, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten(),
    nn.Dropout(0.2),
    nn.Linear(32, 10),
)


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.constant_(m.bias, 0.0)


model.apply(init_weights)
model = model.to(device)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
criterion = nn.CrossEntropyLoss()
loader = DataLoader(TensorDataset(Xtr, Ytr), batch_size=32, shuffle=True, drop_last=True)
hist = []
for epoch in range(4):
    model.train()
    tot, n = 0.0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        out = model(xb)
        loss = criterion(out, yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        tot += loss.item()
        n += 1
    scheduler.step()
    hist.append(tot / n)
    print(f"epoch {epoch} loss={tot/n:.4f} lr={scheduler.get_last_lr()[0]:.4f}")

model.eval()
with torch.no_grad():
    logits = model(Xte.to(device))
    acc = (logits.argmax(dim=1) == Yte).float().mean().item()
print(f"test acc {acc:.2%}")
RESULT = {"first_loss": hist[0], "last_loss": hist[-1], "accuracy": acc}
