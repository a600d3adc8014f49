"""Writes tests/Nabla.Tests/Fixtures/torch_fixture.safetensors: PyTorch modules' state dicts,
an input and PyTorch's output for each, so the tests can check that the same weights give the
same outputs in Nabla, without needing PyTorch at test time.

Run with Debian's Python and python3-torch (apt-get install python3-torch):
    /usr/bin/python3 scripts/make-torch-fixture.py
The safetensors file is written by hand (an 8-byte header length, a JSON header, raw
little-endian float32 data), so the safetensors Python package is not needed."""
import json, os, struct
import torch
import torch.nn as nn

torch.manual_seed(0)
tensors = {}


def add(case, module, x, y):
    for name, t in module.state_dict().items():
        tensors[f"{case}.{name}"] = t
    tensors[f"{case}.input"] = x
    tensors[f"{case}.output"] = y


def run(module, x):
    module.eval()
    with torch.no_grad():
        return module(x)


m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
x = torch.randn(5, 4)
add("mlp", m, x, run(m, x))

m = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2))
x = torch.randn(2, 2, 4, 4)
add("cnn", m, x, run(m, x))

m = nn.Conv1d(3, 4, 3, stride=2, padding=1)
x = torch.randn(2, 3, 7)
add("conv1d", m, x, run(m, x))

m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
x = torch.randn(1, 2, 3, 3)
add("convtranspose", m, x, run(m, x))

m = nn.BatchNorm2d(3, eps=1e-5)
with torch.no_grad():
    m.weight.copy_(torch.randn(3)); m.bias.copy_(torch.randn(3))
    m.running_mean.copy_(torch.randn(3)); m.running_var.copy_(torch.rand(3) + 0.5)
    m.num_batches_tracked.fill_(7)
x = torch.randn(2, 3, 2, 2)
add("batchnorm", m, x, run(m, x))

m = nn.LayerNorm(6, eps=1e-5)
with torch.no_grad():
    m.weight.copy_(torch.randn(6)); m.bias.copy_(torch.randn(6))
x = torch.randn(3, 6)
add("layernorm", m, x, run(m, x))

m = nn.Embedding(10, 4)
x = torch.tensor([[1, 5, 9], [0, 3, 3]])
add("embedding", m, x.float(), run(m, x))

for case, cls, hidden in (("lstm", nn.LSTM, 5), ("gru", nn.GRU, 4)):
    m = cls(3, hidden, batch_first=True)
    x = torch.randn(2, 6, 3)
    out, _ = run(m, x)
    add(case, m, x, out)

# Bidirectional layers: PyTorch names the backward direction's weights *_reverse.
for case, cls, hidden in (("bilstm", nn.LSTM, 4), ("bigru", nn.GRU, 3)):
    m = cls(3, hidden, batch_first=True, bidirectional=True)
    x = torch.randn(2, 5, 3)
    out, _ = run(m, x)
    add(case, m, x, out)

header, blobs, offset = {"__metadata__": {"made_by": "scripts/make-torch-fixture.py", "torch": torch.__version__}}, [], 0
for name, t in tensors.items():
    data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
path = os.path.join(os.path.dirname(__file__), "..", "tests", "Nabla.Tests", "Fixtures", "torch_fixture.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(f"wrote {os.path.normpath(path)}: {len(tensors)} tensors")
