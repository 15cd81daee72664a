# An RNN classifier reading images row by row (the "MNIST RNN" example): nn.LSTM batch_first,
# the last hidden state, a learning-rate schedule and gradient clipping.
import os

import torch
import torch.nn as nn

from compat_data import digits

torch.manual_seed(int(os.environ.get("SEED", 0)))
xtr, ytr, xte, yte = digits()
train = torch.utils.data.TensorDataset(torch.tensor(xtr).squeeze(1), torch.tensor(ytr))
loader = torch.utils.data.DataLoader(train, batch_size=50, shuffle=True)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        self.lstm.flatten_parameters()
        out, _ = self.lstm(x, (h0, c0))
        out = self.fc(out[:, -1, :])
        return out


model = RNN(8, 48, 2, 10)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)
losses = []
for epoch in range(6):
    for i, (images, labels) in enumerate(loader):
        outputs = model(images)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()

model.eval()
with torch.no_grad():
    outputs = model(torch.tensor(xte).squeeze(1))
    _, predicted = torch.max(outputs.data, 1)
    accuracy = (predicted == torch.tensor(yte)).sum().item() / len(yte)
print(f"Accuracy of the model on the test images: {100 * accuracy:.1f} %")
RESULT = {"first_loss": losses[0], "last_loss": sum(losses[-10:]) / 10, "accuracy": accuracy}
