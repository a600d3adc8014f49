#!/usr/bin/env bash
# Data-parallel throughput in one run: mlp-train and cnn-train on one process with one thread, then
# on N ranks x 1 thread (`nabla bench --ranks N`, which starts mpirun itself), beside PyTorch's
# single process and its DistributedDataParallel peer (Gloo) from ../shared/peers, twice each,
# interleaved. Run from the project's root:   bash scripts/bench-distributed.sh [N] [--quick]
# Needs Open MPI (bash scripts/install-mpi.sh) and, for the peer, Debian's python3-torch.
set -u
ranks=${1:-2}; shift || true
peers=../shared/peers
dotnet build src/Nabla.Cli -c Release -nologo -v:q > /dev/null || { echo "nabla build failed" >&2; exit 1; }
nabla=src/Nabla.Cli/bin/Release/net10.0/nabla
# Each command is bounded: the peer's Gloo processes once hung here for 14 minutes without a word.
limit=${BENCH_TIMEOUT:-300}
exec 3>&2
for round in 1 2; do
  echo "# round $round" >&2
  timeout "$limit" $nabla bench --threads 1 --only mlp-train,cnn-train "$@"
  timeout "$limit" $nabla bench --ranks "$ranks" "$@"
  if [ -f "$peers/pytorch/bench.py" ]; then
    timeout "$limit" /usr/bin/python3 "$peers/pytorch/bench.py" --threads 1 --only mlp-train,cnn-train "$@"
    timeout -k 10 "$limit" /usr/bin/python3 "$peers/pytorch/ddp_bench.py" --ranks "$ranks" "$@" || echo "# the PyTorch DDP peer did not finish in ${limit} s" >&3
  fi
done 2>/dev/null | python3 -c '
import json, sys, collections
v = collections.defaultdict(list)
for line in sys.stdin:
    try: o = json.loads(line)
    except Exception: continue
    v[(o["impl"], o["workload"], o.get("ranks", 1))].append(o["value"])
for w in ("mlp-train", "cnn-train"):
    one = max(v.get(("nabla", w, 1), [0])); many = {k: max(x) for k, x in v.items() if k[1] == w}
    for (impl, _, r), x in sorted(many.items()):
        base = one if impl == "nabla" else max(v.get(("pytorch", w, 1), [0]))
        print(f"{w:10} {impl:12} ranks={r}  {x:10.0f} samples/s  (best of {len(v[(impl, w, r)])})  x{x / base if base else 0:.2f} of its own single process")
'
