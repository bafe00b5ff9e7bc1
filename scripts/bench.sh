#!/usr/bin/env bash
# Builds the exporter and measures it against the simulator with generated
# data sets; prints one Markdown table (README "Performance").
#   scripts/bench.sh                 # 2,000 and 10,000 groups
#   BENCH_GROUPS=500,2000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/appstream_exporter" .
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
go run ./scripts/benchtool -exporter "$tmp/appstream_exporter" -groups "${BENCH_GROUPS:-2000,10000}"
