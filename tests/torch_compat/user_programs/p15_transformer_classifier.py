import fastdl as torch
import fastdl.nn as nn
import fastdl.nn.functional as F

torch.manual_seed(0)
V, L, D = 10, 8, 32
# label: is the sequence sorted ascending?
def make(n):
    x = torch.randint(1, V, (n, L))
    half = n // 2
    x[:half] = torch.sort(x[:half], dim=1).values
    y = (x[:, 1:] >= x[:, :-1]).all(dim=1).long()
    return x, y


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.pos = nn.Parameter(torch.randn(1, L, D) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model=D, nhead=4, dim_feedforward=64, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.fc = nn.Linear(D, 2)

    def forward(self, x, pad_mask=None):
        h = self.encoder(self.emb(x) + self.pos, src_key_padding_mask=pad_mask)
        return self.fc(h.mean(dim=1))


model = Classifier()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
losses = []
for step in range(80):
    xb, yb = make(32)
    loss = F.cross_entropy(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
xt, yt = make(400)
with torch.no_grad():
    acc = (model(xt).argmax(1) == yt).float().mean().item()
print(f"loss {sum(losses[:10])/10:.3f} -> {sum(losses[-10:])/10:.3f} acc {acc:.3f}")
RESULT = {"first_loss": sum(losses[:10]) / 10, "last_loss": sum(losses[-10:]) / 10, "accuracy": acc}
