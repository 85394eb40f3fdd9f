#!/usr/bin/env bash
# Runs every benchmark once, one after another, and keeps each one's printed
# tables in ${XDG_CACHE_HOME:-~/.cache}/mlmodel/bench/results/<name>.txt (the
# figures as JSON are beside them). docs/performance.md is written from one
# such run. The first run on a machine also installs MLflow and mongosh into
# throw-away places and seeds the cached registries (MLflow's 100,000 models
# take about 10 minutes on 2 cores, our 1,000,000 about half an hour).
#
#   bash scripts/bench-all.sh [name …]     (default: all, in the order below)
#
# With every bench run, docs/performance.md is then written from this run
# (scripts/performance-doc.mjs, the words in bench/performance.template.md).
# machine.txt beside the tables names the commit, the machine and the
# environment (NODE_EXTRA_CA_CERTS, the MLMODEL_BENCH_* knobs in effect).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${XDG_CACHE_HOME:-$HOME/.cache}/mlmodel/bench/results"
mkdir -p "$out"
npm run build --silent
# The machine and environment the figures belong to, kept beside them.
{
  echo "commit $(git rev-parse --short HEAD) ($(git log -1 --format=%cd --date=iso-strict))"
  echo "started $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu $(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)$(grep -q hypervisor /proc/cpuinfo && echo ' (virtual machine)')"
  echo "memory $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "disk $(df -T "$out" | awk 'NR == 2 {print $2 " on " $1}')"
  echo "node $(node --version), $(python3 --version 2>&1)"
  echo "NODE_EXTRA_CA_CERTS $([ -n "${NODE_EXTRA_CA_CERTS:-}" ] && echo set || echo unset)"
  env | grep -E '^MLMODEL_BENCH_' | sort || true
} | tee "$out/machine.txt"
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(parse startup registry import throughput deploy batch serving exchange tracking stream web)
# A bench that fails is reported and the others still run: one run gives every table it can.
failed=()
for name in "${names[@]}"; do
  echo "=== bench:$name ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$out/$name.txt"
  node "dist/bench/$name.js" 2>&1 | tee -a "$out/$name.txt" || failed+=("$name")
done
echo "=== ended $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
# The page is written from this run only (its template holds the words, the run every figure).
[ ${#names[@]} -eq 12 ] && node scripts/performance-doc.mjs
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" | tee -a "$out/machine.txt"
  exit 1
fi
