# A tiny decoder-only Transformer language model: TransformerEncoder with a causal mask,
# learned positional embeddings, AdamW and a cosine schedule.
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from compat_data import TEXT

torch.manual_seed(int(os.environ.get("SEED", 0)))
chars = sorted(set(TEXT))
vocab = len(chars)
data = torch.tensor([chars.index(c) for c in TEXT], dtype=torch.long)
block = 24


class TinyLM(nn.Module):
    def __init__(self, d_model=48, nhead=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, block, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=96, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers)
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx):
        T = idx.size(1)
        x = self.tok(idx) * math.sqrt(self.tok.embedding_dim) + self.pos[:, :T]
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.encoder(x, mask=mask, is_causal=True)
        return self.head(self.ln(x))


model = TinyLM()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
steps = 120
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
losses = []
for step in range(steps):
    ix = torch.randint(0, len(data) - block - 1, (16,))
    x = torch.stack([data[i:i + block] for i in ix.tolist()])
    y = torch.stack([data[i + 1:i + block + 1] for i in ix.tolist()])
    logits = model(x)
    loss = F.cross_entropy(logits.view(-1, vocab), y.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
RESULT = {"first_loss": losses[0], "last_loss": sum(losses[-10:]) / 10}
