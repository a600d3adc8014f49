"""Writes tests/Nabla.Tests/Fixtures/attention_fixture.safetensors: PyTorch's multi-head attention and
Transformer encoder and decoder layers (state dicts, inputs, padding masks, outputs, and the
gradients of sum(output * upstream) for the inputs and every parameter), so that the tests check
Nabla's MultiHeadAttention, TransformerEncoderLayer and TransformerDecoderLayer against them
without PyTorch at test time.

Run with Debian's Python and python3-torch:  /usr/bin/python3 scripts/make-attention-fixture.py
Outputs are computed with autograd on: PyTorch 1.13's inference fast path for these modules
returns zeros at padded positions, which its standard path (and Nabla) do not."""
import json, os, struct
import torch
import torch.nn as nn

torch.manual_seed(0)
tensors = {}


def randomise(module):
    # Non-trivial biases and norms, so every parameter matters.
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    module.eval()


def case(name, module, inputs, call, mask=None):
    """Runs call(*inputs) with gradients: saves weights, inputs, output, upstream and every gradient."""
    module.zero_grad()
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = call(*leaves)
    up = torch.randn_like(out)
    (out * up).sum().backward()
    for key, t in module.state_dict().items():
        tensors[f"{name}.{key}"] = t.detach().clone()
    for key, p in module.named_parameters():
        tensors[f"{name}.grad.{key}"] = p.grad.detach().clone()
    for i, t in enumerate(leaves):
        tensors[f"{name}.input{i}"] = t
        tensors[f"{name}.input{i}_grad"] = t.grad
    tensors[f"{name}.output"] = out
    tensors[f"{name}.upstream"] = up
    if mask is not None:
        tensors[f"{name}.mask"] = mask.float()  # 1 = padding, as PyTorch's key_padding_mask


x = torch.randn(2, 5, 8)
q = torch.randn(2, 3, 8)
pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)
causal3 = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)

m = nn.MultiheadAttention(8, 2, batch_first=True)
randomise(m)
case("mha", m, [x], lambda a: m(a, a, a, need_weights=False)[0])
case("mha_padded", m, [x], lambda a: m(a, a, a, key_padding_mask=pad, need_weights=False)[0], pad)
case("mha_causal", m, [x], lambda a: m(a, a, a, attn_mask=causal, need_weights=False)[0])
case("mha_cross", m, [q, x], lambda t, s: m(t, s, s, key_padding_mask=pad, need_weights=False)[0], pad)

for name, norm_first, activation in (("encoder_post_relu", False, "relu"), ("encoder_pre_gelu", True, "gelu")):
    e = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first)
    randomise(e)
    case(name, e, [x], lambda a: e(a, src_key_padding_mask=pad), pad)

for name, norm_first, activation in (("decoder_post_relu", False, "relu"), ("decoder_pre_gelu", True, "gelu")):
    dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.1, activation=activation, batch_first=True, norm_first=norm_first)
    randomise(dec)
    case(name, dec, [q, x], lambda t, s: dec(t, s, tgt_mask=causal3, memory_key_padding_mask=pad), pad)

header, blobs, offset = {"__metadata__": {"made_by": "scripts/make-attention-fixture.py", "torch": torch.__version__}}, [], 0
for key, t in tensors.items():
    data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
    header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
path = os.path.join(os.path.dirname(__file__), "..", "tests", "Nabla.Tests", "Fixtures", "attention_fixture.safetensors")
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
print(f"wrote {os.path.normpath(path)}: {len(tensors)} tensors")
