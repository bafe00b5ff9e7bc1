#!/usr/bin/env bash
# Checks a GoReleaser dist directory (a snapshot release in CI): every
# archive, package and SBOM is there and in checksums.txt, the
# linux/amd64 binary reports the release's version and commit, and the .deb carries
# the systemd unit, the config and the binary.
set -euo pipefail
dist=${1:-dist}
meta() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$dist/metadata.json" "$1"; }
version=$(meta version) commit=$(meta commit)
echo "release version $version, commit $commit"
cd "$dist"
want=(
  "appstream_exporter_${version}_linux_amd64.tar.gz"
  "appstream_exporter_${version}_linux_arm64.tar.gz"
  "appstream_exporter_${version}_darwin_arm64.tar.gz"
  "appstream_exporter_${version}_windows_amd64.zip"
)
for f in "${want[@]}"; do
  [ -f "$f" ] || { echo "missing archive $f"; ls; exit 1; }
  [ -f "$f.sbom.json" ] || { echo "missing SBOM $f.sbom.json"; ls; exit 1; }
  grep -q "  $f\$" checksums.txt || { echo "$f is not in checksums.txt"; exit 1; }
  # An SPDX document that lists the binary's Go modules, not an empty one.
  python3 - "$f.sbom.json" <<'PY' || { echo "$f.sbom.json does not list the binary's modules"; exit 1; }
import json, sys
doc = json.load(open(sys.argv[1]))
names = {p["name"] for p in doc["packages"]}
sys.exit(not (doc["spdxVersion"].startswith("SPDX-") and "github.com/prometheus/client_golang" in names))
PY
done
sha256sum --check --quiet checksums.txt
debs=(*_linux_amd64.deb) rpms=(*_linux_amd64.rpm)
[ -f "${debs[0]}" ] && [ -f "${rpms[0]}" ] || { echo "missing .deb or .rpm"; ls; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tar xzf "${want[0]}" -C "$scratch"
got=$("$scratch/appstream_exporter" --version 2>&1 | head -n 1)
case "$got" in
  *"version $version "*"revision: $commit)"*) echo "linux/amd64 binary: $got" ;;
  *) echo "the linux/amd64 binary says '$got', want version $version and revision $commit"; exit 1 ;;
esac
for f in LICENSE README.md config.example.yml alerts/appstream.rules.yml dashboards/appstream-overview.json examples/systemd/appstream_exporter.service; do
  [ -f "$scratch/$f" ] || { echo "the archive lacks $f"; exit 1; }
done

contents=$(dpkg-deb -c "${debs[0]}")
for f in ./usr/bin/appstream_exporter ./usr/lib/systemd/system/appstream_exporter.service ./etc/appstream_exporter/appstream_exporter.yml ./etc/appstream_exporter/credentials.env; do
  grep -q " $f\$" <<<"$contents" || { echo "${debs[0]} lacks $f"; echo "$contents"; exit 1; }
done
dpkg-deb -x "${debs[0]}" "$scratch/root"
grep -q '^ExecStart=/usr/bin/appstream_exporter' "$scratch/root/usr/lib/systemd/system/appstream_exporter.service" ||
  { echo "the packaged unit does not start /usr/bin/appstream_exporter"; exit 1; }
"$scratch/root/usr/bin/appstream_exporter" --config.check --config.file "$scratch/root/etc/appstream_exporter/appstream_exporter.yml" >/dev/null ||
  { echo "the packaged config does not pass --config.check"; exit 1; }
echo "${debs[0]}: binary, unit (ExecStart=/usr/bin/appstream_exporter), config and credentials file; ${rpms[0]} built"
