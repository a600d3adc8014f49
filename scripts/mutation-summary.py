"""Summarises a Stryker.NET mutation-report.json: per mutated file, the strict score
killed / (killed + survived + no coverage), with timeouts counted apart (a timeout is a mutant
that made the tests hang or crawl: detected, but possibly only a change of speed), then each
survivor with its line, mutator and replacement. Used by scripts/mutation.sh.

    python3 scripts/mutation-summary.py REPORT.json [--survivors]"""
import json, sys

report = json.load(open(sys.argv[1]))
show = "--survivors" in sys.argv
rows = []
for path, f in sorted(report["files"].items()):
    counts = {}
    for m in f["mutants"]:
        counts[m["status"]] = counts.get(m["status"], 0) + 1
    killed, survived, nocov, timeout = (counts.get(k, 0) for k in ("Killed", "Survived", "NoCoverage", "Timeout"))
    if killed + survived + nocov + timeout == 0:
        continue
    denominator = killed + survived + nocov
    score = 100.0 * killed / denominator if denominator else 100.0
    rows.append((path, score, killed, timeout, survived, nocov))
    if show:
        lines = f["source"].split("\n")
        for m in sorted(f["mutants"], key=lambda m: m["location"]["start"]["line"]):
            if m["status"] in ("Survived", "NoCoverage"):
                line = m["location"]["start"]["line"]
                print(f"{path.split('/src/')[-1]}:{line}: {m['status']} {m['mutatorName']}: {m.get('replacement', '')!r}  | {lines[line - 1].strip()[:110]}")
print(f"{'file':50} {'score':>7} {'killed':>7} {'timeout':>8} {'survived':>9} {'no cov':>7}")
for path, score, killed, timeout, survived, nocov in rows:
    print(f"{path.split('/src/')[-1]:50} {score:6.1f}% {killed:7} {timeout:8} {survived:9} {nocov:7}")
