#!/usr/bin/env bash
# Mutation testing of the math (Stryker.NET, installed as a local tool from dotnet-tools.json):
# each group mutates a few source files and runs only the tests that cover them, so the whole
# set fits in about half an hour on 2 cores. Not part of CI. docs/TESTING.md has the scores.
#
#   bash scripts/mutation.sh                 # every group
#   bash scripts/mutation.sh training ops    # some groups
#
# Reports: artifacts/mutation/GROUP/reports/mutation-report.{html,json}; a summary per file
# (scripts/mutation-summary.py) is printed at the end of each group, survivors with --survivors.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dotnet tool restore >/dev/null

# group; project to mutate; test project; files (comma separated, under the project); test filter
groups=(
  "training;Nabla.csproj;tests/Nabla.Tests;Losses/Loss.cs,Optimizers/Optimizer.cs,Optimizers/Optimizers.cs,Metrics/Metric.cs;FullyQualifiedName~Nabla.Tests.Losses|FullyQualifiedName~Nabla.Tests.Optimizers|FullyQualifiedName~Nabla.Tests.Metrics"
  "data;Nabla.csproj;tests/Nabla.Tests;Data/TrainTestSplit.cs,IO/SafeTensors.cs;FullyQualifiedName~Nabla.Tests.Data.TrainTestSplit|FullyQualifiedName~Nabla.Tests.IO.SafeTensors|FullyQualifiedName~Nabla.Tests.IO.ModelFile"
  "ops;Nabla.csproj;tests/Nabla.Tests;Ops/MatMul.cs,Ops/Softmax.cs,Ops/SoftmaxCrossEntropy.cs,Ops/Conv2d.cs,Ops/LstmSequence.cs,Layers/BatchNormalization.cs;FullyQualifiedName~Nabla.Tests.Ops|FullyQualifiedName~Nabla.Tests.TensorTests|FullyQualifiedName~Nabla.Tests.Layers|FullyQualifiedName~Nabla.Tests.IO.TorchFixture"
  "kernels;Nabla.Kernels.csproj;tests/Nabla.Kernels.Tests;Softmax.cs,OptimizerUpdates.cs,Gemm.cs;FullyQualifiedName~Nabla.Kernels.Tests"
)

wanted=("$@")
for entry in "${groups[@]}"; do
  IFS=';' read -r name project tests files filter <<<"$entry"
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " =~ " ${name} " ]]; then continue; fi
  mutate=()
  IFS=',' read -ra list <<<"$files"
  for f in "${list[@]}"; do mutate+=(-m "**/${f}"); done
  out="$root/artifacts/mutation/$name"
  rm -rf "$out"; mkdir -p "$root/artifacts/mutation"
  echo "== $name: ${files} (tests: ${filter})"
  (cd "$tests" && dotnet stryker -f "$root/scripts/stryker-config.json" -p "$project" "${mutate[@]}" \
      --test-case-filter "$filter" --skip-version-check -O "$out" >"$out.log" 2>&1) || { echo "stryker failed, see $out.log"; tail -20 "$out.log"; exit 1; }
  python3 "$root/scripts/mutation-summary.py" "$out/reports/mutation-report.json"
done
