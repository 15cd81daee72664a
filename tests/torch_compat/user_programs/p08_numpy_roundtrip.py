import numpy as np
import fastdl as torch
import fastdl.nn as nn

torch.manual_seed(0)
a = np.arange(12, dtype=np.float32).reshape(3, 4)
t = torch.from_numpy(a)
t2 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
print(t.dtype, t.shape, t2.tolist())
assert t.numpy().shape == (3, 4)
c = torch.cat([t, t], dim=0)
s = torch.stack([t, t], dim=1)
assert tuple(c.shape) == (6, 4) and tuple(s.shape) == (3, 2, 4)
r = torch.arange(0, 10, 2)
assert r.tolist() == [0, 2, 4, 6, 8]
img = torch.randn(5, 1, 8, 8)
assert img.view(-1, 8 * 8).shape == (5, 64)
assert img.flatten(1).shape == torch.Size([5, 64])
assert img.flatten().numel() == 320
lin = nn.Linear(64, 3)
out = lin(img.flatten(1))
arr = out.detach().cpu().numpy()
assert isinstance(arr, np.ndarray) and arr.shape == (5, 3)
m = torch.tensor([1, 5, 3]).max()
print(f"max {m.item()} sum {t.sum():.1f} mean {t.mean().item():.2f}")
x = torch.linspace(-1, 1, 5)
print(torch.clamp(x, min=0).tolist(), x.abs().sum().item())
z = torch.zeros(2, 3, dtype=torch.float64)
z[0, 1] = 5
assert z.sum().item() == 5.0 and z.dtype == torch.float64
idx = torch.tensor([2, 0])
print(t[idx].shape, t[:, 1:3].shape, t[t > 5].tolist())
u = t.unsqueeze(0).expand(2, 3, 4).contiguous()
p = u.permute(2, 0, 1)
assert p.shape == (4, 2, 3)
y = torch.full((2, 2), 7.0)
print(y, repr(y.dtype), y.sum(dim=0, keepdim=True).shape)
n = torch.ones(3).numpy()
n[0] = 3  # shares memory
assert int(torch.from_numpy(n)[0]) == 3
print("eye", torch.eye(3).diag().tolist(), "std", round(torch.tensor([1.0, 2.0, 3.0]).std().item(), 4))
mean, std = img.mean(dim=(0, 2, 3)), img.std(dim=(0, 2, 3))
print(mean.shape, std.shape, img.min().item() < 0 < img.max().item())
RESULT = {"ok": 1}
