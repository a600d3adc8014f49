#!/usr/bin/env bash
# Runs `nabla train --tune` on scikit-learn's tables over several split seeds, one JSON line per
# run with the test figure, wall-clock and CPU seconds (CPU / wall near the core count means the
# trials kept every core busy). Beside scripts/sklearn-tables.py --baseline --seeds (same splits).
#   scripts/tune-tables.sh TABLES_DIR [BUDGET] [SEEDS]     e.g. scripts/tune-tables.sh /tmp/sk 60s 42,1,2,3,4
# TABLES_DIR holds the CSV files that scripts/sklearn-tables.py writes.
set -euo pipefail
dir="$1"; budget="${2:-60s}"; seeds="${3:-42,1,2,3,4}"
nabla="$(dirname "$0")/../src/Nabla.Cli/bin/Release/net10.0/nabla"
[ -x "$nabla" ] || dotnet build "$(dirname "$0")/../src/Nabla.Cli" -c Release >/dev/null
for table in wine breast_cancer digits iris diabetes; do
  task=classification; [ "$table" = diabetes ] && task=regression
  for seed in ${seeds//,/ }; do
    /usr/bin/time -o "/tmp/tune-$table-$seed.time" -f "%e %U %S" "$nabla" train --csv "$dir/$table.csv" --label label --task "$task" --tune --budget "$budget" --seed "$seed" --json > "/tmp/tune-$table-$seed.json" 2>/dev/null
    read -r wall user system < "/tmp/tune-$table-$seed.time"
    echo "{\"table\":\"$table\",\"seed\":$seed,\"result\":$(tail -1 "/tmp/tune-$table-$seed.json"),\"wall\":$wall,\"cpu\":$(echo "$user + $system" | bc)}"
  done
done
