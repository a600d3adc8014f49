"""Writes tests/Nabla.Tests/Fixtures/attention_fixture.safetensors: PyTorch's multi-head attention
and Transformer encoder layers (state dicts, inputs, masks and outputs), so that the tests check
Nabla's MultiHeadAttention and TransformerEncoderLayer against them without PyTorch at test time.

Run with Debian's Python and python3-torch:  /usr/bin/python3 scripts/make-attention-fixture.py
Outputs are computed with autograd on: PyTorch 1.13's inference fast path for these modules
returns zeros at padded positions, which its standard path (and Nabla) do not."""
import json, os, struct
import torch
import torch.nn as nn

torch.manual_seed(0)
tensors = {}


def add(case, module, x, y, mask=None):
    for name, t in module.state_dict().items():
        tensors[f"{case}.{name}"] = t
    tensors[f"{case}.input"] = x
    tensors[f"{case}.output"] = y
    if mask is not None:
        tensors[f"{case}.mask"] = mask.float()  # 1 = padding, as PyTorch's key_padding_mask


def randomise(module):
    # Non-trivial biases and norms, so every parameter matters.
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.2)


x = torch.randn(2, 5, 8, requires_grad=True)
pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)

m = nn.MultiheadAttention(8, 2, batch_first=True)
randomise(m)
m.eval()
add("mha", m, x, m(x, x, x, need_weights=False)[0])
add("mha_padded", m, x, m(x, x, x, key_padding_mask=pad, need_weights=False)[0], pad)
add("mha_causal", m, x, m(x, x, x, attn_mask=causal, need_weights=False)[0])
q = torch.randn(2, 3, 8, requires_grad=True)
tensors["mha_cross.query"] = q
add("mha_cross", m, x, m(q, x, x, key_padding_mask=pad, need_weights=False)[0], pad)

for case, norm_first, activation in (("encoder_post_relu", False, "relu"), ("encoder_pre_gelu", True, "gelu")):
    e = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first)
    randomise(e)
    e.eval()
    add(case, e, x, e(x, src_key_padding_mask=pad), pad)

header, blobs, offset = {"__metadata__": {"made_by": "scripts/make-attention-fixture.py", "torch": torch.__version__}}, [], 0
for name, t in tensors.items():
    data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
path = os.path.join(os.path.dirname(__file__), "..", "tests", "Nabla.Tests", "Fixtures", "attention_fixture.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(f"wrote {os.path.normpath(path)}: {len(tensors)} tensors")
