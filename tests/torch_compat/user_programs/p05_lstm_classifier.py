import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl.utils.data import TensorDataset, DataLoader

torch.manual_seed(0)
# task: does token 1 appear more often than token 2 in the sequence?
N, L, V = 1200, 12, 6
seqs = torch.randint(0, V, (N, L))
labels = ((seqs == 1).sum(1) > (seqs == 2).sum(1)).long()


class LSTMClassifier(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32, n_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden, n_classes)

    def forward(self, x):
        e = self.embedding(x)
        out, (h_n, c_n) = self.lstm(e)
        return self.fc(h_n[-1])


model = LSTMClassifier(V)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
loader = DataLoader(TensorDataset(seqs[:1000], labels[:1000]), batch_size=50, shuffle=True)
losses = []
for epoch in range(4):
    model.train()
    total = 0
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item()
    losses.append(total / len(loader))
    print(f"epoch {epoch}: {losses[-1]:.4f}")
model.eval()
with torch.no_grad():
    acc = (model(seqs[1000:]).argmax(-1) == labels[1000:]).float().mean().item()
print("acc", acc)
RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc}
