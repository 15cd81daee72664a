import math
import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F

torch.manual_seed(0)
B, T, D, V = 32, 10, 32, 8


class CausalSelfAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, T, T))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        att = torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(d)
        att = att.masked_fill(self.mask[:, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = torch.einsum("bqk,bkd->bqd", att, v)
        return self.proj(y)


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Parameter(torch.zeros(1, T, D))
        self.attn = CausalSelfAttention(D)
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, V, bias=False)

    def forward(self, idx):
        x = self.tok(idx) + self.pos[:, :idx.size(1)]
        x = x + self.attn(self.ln(x))
        return self.head(x)


# data: next token = previous token + 1 mod V (copy-shift pattern)
def batch():
    start = torch.randint(0, V, (B, 1))
    seq = (start + torch.arange(T + 1).unsqueeze(0)) % V
    return seq[:, :-1], seq[:, 1:]


model = TinyLM()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
losses = []
for step in range(200):
    xb, yb = batch()
    logits = model(xb)
    loss = F.cross_entropy(logits.view(-1, V), yb.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    losses.append(loss.item())
    if step % 50 == 0:
        print(f"step {step} loss {loss.item():.4f}")
xb, yb = batch()
with torch.no_grad():
    pred = model(xb).argmax(-1)
acc = (pred == yb).float().mean().item()
ok = torch.where(pred == yb, torch.ones_like(pred), torch.zeros_like(pred)).sum().item()
print("acc", acc, ok)
RESULT = {"first_loss": losses[0], "last_loss": losses[-1], "accuracy": acc}
