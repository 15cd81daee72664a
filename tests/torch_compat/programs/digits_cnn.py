# A classic MNIST-style CNN, on the 8x8 digits: Conv2d, MaxPool2d, Dropout, DataLoader, Adam.
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from compat_data import digits

torch.manual_seed(int(os.environ.get("SEED", 0)))
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, padding=1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        output = F.log_softmax(self.fc2(x), dim=1)
        return output


xtr, ytr, xte, yte = digits()
train_loader = DataLoader(TensorDataset(torch.tensor(xtr), torch.tensor(ytr)), batch_size=64,
                          shuffle=True)
test_loader = DataLoader(TensorDataset(torch.tensor(xte), torch.tensor(yte)), batch_size=200)
model = Net().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
losses = []
for epoch in range(1, 6):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

model.eval()
correct = 0
test_loss = 0.0
with torch.no_grad():
    for data, target in test_loader:
        output = model(data)
        test_loss += F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(target.view_as(pred)).sum().item()
accuracy = correct / len(test_loader.dataset)
print(f"Test set: Average loss: {test_loss / len(test_loader.dataset):.4f}, "
      f"Accuracy: {correct}/{len(test_loader.dataset)} ({100. * accuracy:.0f}%)")
RESULT = {"accuracy": accuracy, "first_loss": losses[0], "last_loss": sum(losses[-10:]) / 10}
