#!/usr/bin/env bash
# Builds the exporter and measures it against the simulator with generated
# data sets; prints the machine and one Markdown table, one column per size
# (README "Performance"). What each row measures: scripts/benchtool/main.go.
#   scripts/bench.sh                 # 2,000 and 10,000 groups, ~3 minutes,
#                                    # and app instances at 2,000 (~25 s), and
#                                    # 10 accounts of 200 groups (~10 s)
#   BENCH_GROUPS=500 BENCH_SESSION_GROUPS=200 BENCH_ACCOUNTS=3x100 scripts/bench.sh
# The machine should be quiet (uptime): the ratios are taken in the same
# run and hold better than the times, but a busy machine skews both.
# Further flags go to the tool: scripts/bench.sh -rounds 40
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Built as releases and the image build it (.goreleaser.yaml, Dockerfile):
# statically, so that its resident memory is what users run; a cgo build
# maps the C library too, 1-2 MB more RSS.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/appstream_exporter" .
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
go run ./scripts/benchtool -exporter "$tmp/appstream_exporter" -groups "${BENCH_GROUPS:-2000,10000}" \
  -sessions-groups "${BENCH_SESSION_GROUPS:-2000}" -accounts "${BENCH_ACCOUNTS:-10x200}" "$@"
