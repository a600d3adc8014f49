"""Writes tests/Nabla.Tests/Fixtures/sharded/: a Hugging Face-style sharded checkpoint of a small
PyTorch model (a Transformer encoder layer and a linear head) in bfloat16, as two safetensors
shards and model.safetensors.index.json, with the names under "model." as Hugging Face models
name them, plus reference.safetensors holding an input and PyTorch's output (float32, computed
with the bfloat16 weights), so the test checks that Nabla reproduces PyTorch through the shards.

Run with Debian's Python and python3-torch:  /usr/bin/python3 scripts/make-sharded-fixture.py
The safetensors files are written by hand (8-byte header length, JSON header, raw little-endian
data), so the safetensors Python package is not needed."""
import json, os, struct
import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "Nabla.Tests", "Fixtures", "sharded")
os.makedirs(out, exist_ok=True)
torch.manual_seed(7)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.encoder(x))


class Wrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = Model()


w = Wrapper().eval()
with torch.no_grad():
    for p in w.parameters():
        p.copy_(p.to(torch.bfloat16).to(torch.float32))  # the weights the shards hold, exactly
    x = torch.randn(2, 5, 16)
    y = w.model(x)


def write(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        if t.dtype == torch.bfloat16:
            data = t.contiguous().view(torch.int16).numpy().tobytes()
            dtype = "BF16"
        else:
            data = t.contiguous().to(torch.float32).numpy().tobytes()
            dtype = "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


state = {k: v.to(torch.bfloat16) for k, v in w.state_dict().items()}
names = list(state)
shards = [names[: len(names) // 2], names[len(names) // 2:]]
weight_map, total = {}, 0
for i, part in enumerate(shards):
    file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
    write(os.path.join(out, file), {n: state[n] for n in part}, {"format": "pt"})
    for n in part:
        weight_map[n] = file
        total += state[n].numel() * 2
with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
write(os.path.join(out, "reference.safetensors"), {"input": x, "output": y})
print("wrote", sorted(os.listdir(out)))
