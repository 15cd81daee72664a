import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F
from fastdl.nn.utils.rnn import pad_sequence

# what a user writes after pack_padded_sequence is refused: pad, run, pick the last real step
torch.manual_seed(0)
V = 6


def make(n):
    seqs, labels = [], []
    for _ in range(n):
        L = int(torch.randint(2, 9, (1,)))
        s = torch.randint(1, V, (L,))
        seqs.append(s)
        labels.append(int(s[-1] > 3))       # label depends on the last real token
    return seqs, torch.tensor(labels)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, 8, padding_idx=0)
        self.rnn = nn.GRU(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, seqs):
        lengths = torch.tensor([len(s) for s in seqs])
        x = pad_sequence(seqs, batch_first=True)
        out, _ = self.rnn(self.emb(x))
        last = out[torch.arange(len(seqs)), lengths - 1]
        return self.fc(last)


model = Net()
opt = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for step in range(60):
    seqs, y = make(32)
    loss = F.cross_entropy(model(seqs), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
seqs, y = make(200)
with torch.no_grad():
    acc = (model(seqs).argmax(1) == y).float().mean().item()
print(f"loss {losses[0]:.3f} -> {sum(losses[-5:]) / 5:.3f}, acc {acc:.3f}")
RESULT = {"first_loss": losses[0], "last_loss": sum(losses[-5:]) / 5, "accuracy": acc}
