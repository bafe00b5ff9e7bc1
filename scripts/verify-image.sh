#!/usr/bin/env bash
# Lints the Dockerfile and proves the image layout without a Docker engine:
# builds the `prebuilt` target (FROM scratch, the host-built binary) with
# buildah and runs the binary in it. The base images of the default target
# cannot be pulled here, so that stage is not built.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
ctr=""
trap '[ -n "$ctr" ] && buildah rm "$ctr" >/dev/null; rm -rf "$tmp" appstream_exporter' EXIT

npm install --silent --no-audit --no-fund --prefix "$tmp" dockerfile-utils@0.16.3 >/dev/null
"$tmp/node_modules/.bin/dockerfile-utils" lint Dockerfile
echo "Dockerfile: dockerfile-utils lint clean"

CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=verify" -o appstream_exporter .
buildah bud --quiet --isolation chroot --target prebuilt -t appstream-exporter-verify . >/dev/null
ctr=$(buildah from localhost/appstream-exporter-verify)
buildah run --isolation chroot "$ctr" -- /bin/appstream_exporter --version 2>&1 | grep -q "appstream_exporter, version verify"
buildah run --isolation chroot "$ctr" -- /bin/appstream_exporter --config.check --config.file=/etc/appstream_exporter/appstream_exporter.yml
config=$(buildah inspect --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.ExposedPorts}} {{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}' "$ctr")
[ "$config" = "65532:65532 map[9937/tcp:{}] [/bin/appstream_exporter] [--config.file=/etc/appstream_exporter/appstream_exporter.yml]" ] || {
  echo "unexpected image config: $config"; exit 1; }
echo "image: runs as 65532, exposes 9937, --version and the default config check out"
