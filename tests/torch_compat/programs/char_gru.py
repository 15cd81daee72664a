# Character-level GRU language model: Embedding, GRU, clip_grad_norm_, Adam.
import os

import torch
import torch.nn as nn

from compat_data import TEXT

torch.manual_seed(int(os.environ.get("SEED", 0)))
chars = sorted(set(TEXT))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, 32)
        self.gru = nn.GRU(32, hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, h=None):
        out, h = self.gru(self.embed(x), h)
        return self.head(out), h


model = CharRNN(len(chars))
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
seq_len, batch = 32, 16
losses = []
for step in range(150):
    ix = torch.randint(0, len(data) - seq_len - 1, (batch,))
    x = torch.stack([data[i:i + seq_len] for i in ix.tolist()])
    y = torch.stack([data[i + 1:i + seq_len + 1] for i in ix.tolist()])
    logits, _ = model(x)
    loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    losses.append(loss.item())

# sample greedily from the model
model.eval()
with torch.no_grad():
    idx = torch.tensor([[stoi["t"]]])
    h = None
    out = []
    for _ in range(40):
        logits, h = model(idx, h)
        idx = logits[:, -1].argmax(-1, keepdim=True)
        out.append(chars[idx.item()])
print("sample:", "".join(out))
RESULT = {"first_loss": losses[0], "last_loss": sum(losses[-10:]) / 10}
