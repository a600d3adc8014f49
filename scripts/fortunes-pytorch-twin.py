"""The PyTorch twin of `nabla example fortunes`: the same data, split, training windows, model,
initialisation rules, optimizer, schedule and number of steps, trained in PyTorch, so that the
validation loss of the two can be compared (issue: within 0.03 nats).

Same data: the fortunes are read and split as FortunesExample.cs does, and the random choices
(the split, the training windows) come from a re-implementation of Nabla's Generator
(xoshiro256** seeded through SplitMix64), so the windows are the very same characters.
Same model: token and learned position embeddings of 128 (uniform +-0.05), two pre-norm
nn.TransformerEncoderLayer (4 heads, GELU 512, dropout 0.1, causal), a final LayerNorm and a
linear head; linear and attention weights Glorot-uniform, biases zero, as Nabla's defaults.
Same optimizer: AdamW(2e-3, weight decay 0.01 on every parameter) with Nabla's CosineDecay
(linear warm-up over min(100, steps/10) steps, then a half cosine over `steps` steps).

Run with Debian's Python and torch:
    /usr/bin/python3 scripts/fortunes-pytorch-twin.py [--steps 2400] [--seed 42] [--data DIR] [--threads 2]
It prints one JSON line: {"val_loss_nats":..., "val_bits_per_char":..., "steps":..., "seconds":...}.
Compare with `nabla example fortunes --json` (val_bits_per_char x ln 2 = nats)."""
import argparse, json, math, os, re, sys, time

MASK = (1 << 64) - 1


class Generator:
    """Nabla's Generator (src/Nabla/Generator.cs): xoshiro256** seeded by SplitMix64."""

    def __init__(self, seed):
        x = seed & MASK
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(z ^ (z >> 31))
        self.s = s

    @staticmethod
    def _rotl(v, k):
        return ((v << k) | (v >> (64 - k))) & MASK

    def next_uint64(self):
        s0, s1, s2, s3 = self.s
        result = (self._rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = self._rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def next_int(self, bound):
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = self.next_uint64()
            if r >= threshold:
                return r % bound

    def shuffle(self, values):
        for i in range(len(values) - 1, 0, -1):
            j = self.next_int(i + 1)
            values[i], values[j] = values[j], values[i]


def read_fortunes(folder):
    """As FortunesExample.ReadFortunes: files without an extension in ordinal order; a fortune ends at a line holding only %."""
    fortunes = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or os.path.splitext(name)[1] != "":
            continue
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        lines = re.split(r"\r\n|\r|\n", text)
        if lines and lines[-1] == "":
            lines.pop()   # .NET's ReadLines gives no empty line after a final newline
        current = []
        for line in lines:
            if line.rstrip() == "%":
                if current:
                    fortunes.append("".join(current).rstrip())
                current = []
            else:
                current.append(line + "\n")
        if current:
            fortunes.append("".join(current).rstrip())
    return fortunes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", default="/usr/share/games/fortunes")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    import torch, torch.nn as nn, torch.nn.functional as F
    torch.set_num_threads(a.threads)
    clock = time.time()
    context, batch = 64, 32

    fortunes = read_fortunes(a.data)
    order = list(range(len(fortunes)))
    Generator(0).shuffle(order)      # the split is fixed, whatever the seed
    n_val = len(fortunes) // 20
    train = "".join(fortunes[i] + "\n\n" for i in order[n_val:])
    validation = "".join(fortunes[i] + "\n\n" for i in order[:n_val])
    counts = {}
    for c in train:
        counts[c] = counts.get(c, 0) + 1
    alphabet = "\0" + "".join(c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    index = {c: i for i, c in enumerate(alphabet) if i > 0}
    train_ids = [index.get(c, 0) for c in train]
    val_ids = [index.get(c, 0) for c in validation]
    vocabulary = len(alphabet)
    print(f"# dataset: {len(fortunes)} fortunes, {len(train):,} training and {len(validation):,} validation characters, {vocabulary} symbols",
          file=sys.stderr, flush=True)

    g = Generator(a.seed)
    train_t = torch.tensor(train_ids, dtype=torch.long)
    starts = torch.tensor([g.next_int(len(train_ids) - context - 1) for _ in range(a.steps * batch)], dtype=torch.long)
    offsets = torch.arange(context)
    windows = (len(val_ids) - 1) // context
    val_t = torch.tensor(val_ids, dtype=torch.long)
    vx = val_t[: windows * context].view(windows, context)
    vy = val_t[1: windows * context + 1].view(windows, context)

    torch.manual_seed(a.seed)

    class TwinLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocabulary, 128)
            self.positions = nn.Embedding(context, 128)
            self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(128, 4, 512, 0.1, activation="gelu", batch_first=True, norm_first=True)
                                        for _ in range(2))
            self.norm = nn.LayerNorm(128, eps=1e-5)
            self.head = nn.Linear(128, vocabulary)
            self.register_buffer("causal", torch.triu(torch.full((context, context), float("-inf")), diagonal=1))
            for m in self.modules():
                if isinstance(m, nn.Embedding):
                    nn.init.uniform_(m.weight, -0.05, 0.05)
                elif isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
                elif isinstance(m, nn.MultiheadAttention):
                    nn.init.xavier_uniform_(m.in_proj_weight); nn.init.zeros_(m.in_proj_bias)

        def forward(self, ids):
            t = ids.shape[1]
            h = self.tokens(ids) + self.positions(torch.arange(t))
            for block in self.blocks:
                h = block(h, src_mask=self.causal[:t, :t])
            return self.head(self.norm(h))

    model = TwinLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    warmup = min(100, a.steps // 10)

    def factor(step):   # Nabla's CosineDecay(2e-3, steps, warmup) / 2e-3, at 0-based step
        if step < warmup:
            return (step + 1) / warmup
        t = min(step - warmup, a.steps) / max(a.steps, 1)
        return 0.5 * (1 + math.cos(math.pi * t))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    model.train()
    for step in range(a.steps):
        s = starts[step * batch:(step + 1) * batch].unsqueeze(1) + offsets
        x, y = train_t[s], train_t[s + 1]
        loss = F.cross_entropy(model(x).reshape(-1, vocabulary), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 200 == 0:
            print(f"# step {step}: loss {loss.item():.4f}", file=sys.stderr, flush=True)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, windows, 64):
            logits = model(vx[i:i + 64])
            total += F.cross_entropy(logits.reshape(-1, vocabulary), vy[i:i + 64].reshape(-1), reduction="sum").item()
            count += vy[i:i + 64].numel()
    nats = total / count
    print(json.dumps({"val_loss_nats": round(nats, 5), "val_bits_per_char": round(nats / math.log(2), 5), "steps": a.steps,
                      "seconds": round(time.time() - clock, 1)}))


if __name__ == "__main__":
    main()
