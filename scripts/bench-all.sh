#!/usr/bin/env bash
# Runs every benchmark once, one after another, and keeps each one's printed
# tables in ${XDG_CACHE_HOME:-~/.cache}/mlmodel/bench/results/<name>.txt (the
# figures as JSON are beside them). docs/performance.md is written from one
# such run. The first run on a machine also installs MLflow and mongosh into
# throw-away places and seeds the cached registries (MLflow's 100,000 models
# take about 10 minutes on 2 cores, our 1,000,000 about half an hour).
#
#   bash scripts/bench-all.sh [name …]     (default: all, in the order below)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${XDG_CACHE_HOME:-$HOME/.cache}/mlmodel/bench/results"
mkdir -p "$out"
npm run build --silent
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(parse startup registry import throughput deploy batch)
for name in "${names[@]}"; do
  echo "=== bench:$name ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$out/$name.txt"
  node "dist/bench/$name.js" 2>&1 | tee -a "$out/$name.txt"
done
