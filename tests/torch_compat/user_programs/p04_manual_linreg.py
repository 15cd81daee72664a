import fastdl as torch

torch.manual_seed(42)
true_w = torch.tensor([[2.0], [-3.4]])
true_b = 4.2
X = torch.randn(1000, 2)
y = X @ true_w + true_b + 0.01 * torch.randn(1000, 1)

w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.03
losses = []
for epoch in range(5):
    perm = torch.randperm(1000)
    for i in range(0, 1000, 10):
        idx = perm[i:i + 10]
        l = ((X[idx] @ w + b - y[idx]) ** 2 / 2).mean()
        l.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    with torch.no_grad():
        train_l = ((X @ w + b - y) ** 2 / 2).mean()
    losses.append(float(train_l))
    print(f"epoch {epoch + 1}, loss {train_l:f}")
print("w error", (true_w - w.reshape(true_w.shape)).abs().max().item(), "b error", true_b - b.item())
RESULT = {"last_loss": losses[-1], "w_err": (true_w - w).abs().max().item(), "b_err": abs(true_b - b.item())}
