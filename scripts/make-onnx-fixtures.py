"""Writes the ONNX files the importer's tests read (tests/Nabla.Onnx.Tests/Fixtures):

- fashion_cnn.onnx: a small CNN trained in PyTorch on Fashion-MNIST (8 epochs of Adam, the learning rate cut
  tenfold for the last three), exported
  with torch.onnx.export (opset 13, dynamic batch). The script prints its test accuracy.
- lstm.onnx: an LSTM (batch first, 12 steps of 8 features) and a linear head on its last step.
- gru.onnx: a bidirectional GRU and a linear head (PyTorch exports GRU with linear_before_reset).

Run with Debian's Python and python3-torch (apt-get install python3-torch) after
scripts/install-data.sh (Fashion-MNIST from dataset-fashion-mnist):
    /usr/bin/python3 scripts/make-onnx-fixtures.py
The tests compare the imported models with ONNX Runtime, so no expected outputs are stored."""
import gzip, os, struct
import numpy as np
import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "Nabla.Onnx.Tests", "Fixtures")
data = "/usr/share/datasets/fashion-mnist"
torch.manual_seed(0)
torch.set_num_threads(2)


def idx(name):
    with gzip.open(os.path.join(data, name)) as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xFF)]
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def images(name):
    return torch.tensor(idx(name), dtype=torch.float32).unsqueeze(1) / 255.0


xtr, ytr = images("train-images-idx3-ubyte.gz"), torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
xte, yte = images("t10k-images-idx3-ubyte.gz"), torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.long)

cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=1e-3)
for epoch in range(8):
    if epoch == 5:
        for group in opt.param_groups:
            group["lr"] = 1e-4
    cnn.train()
    perm = torch.randperm(len(xtr))
    for b in range(0, len(xtr), 64):
        i = perm[b:b + 64]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(cnn(xtr[i]), ytr[i])
        loss.backward()
        opt.step()
    cnn.eval()
    with torch.no_grad():
        acc = (cnn(xte).argmax(1) == yte).float().mean().item()
    print(f"fashion_cnn epoch {epoch + 1}: test accuracy {acc:.4f}")
torch.onnx.export(cnn, xte[:1], os.path.join(out, "fashion_cnn.onnx"), opset_version=13,
                  input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})


class Recurrent(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell
        width = cell.hidden_size * (2 if cell.bidirectional else 1)
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1])


for name, cell in [("lstm", nn.LSTM(8, 16, batch_first=True)), ("gru", nn.GRU(8, 16, batch_first=True, bidirectional=True))]:
    m = Recurrent(cell).eval()
    torch.onnx.export(m, torch.randn(2, 12, 8), os.path.join(out, f"{name}.onnx"), opset_version=13,
                      input_names=["sequence"], output_names=["output"], dynamic_axes={"sequence": {0: "batch"}, "output": {0: "batch"}})
print("wrote", ", ".join(sorted(f for f in os.listdir(out) if f.endswith(".onnx"))))
