#!/usr/bin/env bash
# Writes tests/Nabla.Tests/Fixtures/sequential_v1_*: model files saved by the release before the
# Model class (commit d80c4e9) and the outputs they gave, for EarlierReleaseFileTests.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(mktemp -d)
trap 'git worktree remove --force "$old"' EXIT
git worktree add -q "$old" d80c4e9
dotnet run --project scripts/make-v1-model-fixture -p:OldNabla="$old" -c Release -- "$PWD/tests/Nabla.Tests/Fixtures"
