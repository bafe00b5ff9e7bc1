# appstream_exporter container image.
#
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse --short HEAD) -t appstream_exporter .
#
# The build stage uses the Go version CI pins (go.mod: toolchain go1.26.10).
# The final image is distroless static:nonroot: no shell, CA certificates for
# the HTTPS API, zoneinfo, uid 65532.
FROM golang:1.26.10 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      -o /out/appstream_exporter .

# The same layout from a binary built beforehand (CGO_ENABLED=0 go build .):
# `--target prebuilt` needs no base image, so it builds where none can be
# pulled (CI proves the layout with buildah this way).
FROM scratch AS prebuilt
COPY appstream_exporter /bin/appstream_exporter
COPY config.example.yml /etc/appstream_exporter/appstream_exporter.yml
USER 65532:65532
EXPOSE 9937
ENTRYPOINT ["/bin/appstream_exporter"]
CMD ["--config.file=/etc/appstream_exporter/appstream_exporter.yml"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/appstream_exporter /bin/appstream_exporter
COPY config.example.yml /etc/appstream_exporter/appstream_exporter.yml
USER 65532:65532
EXPOSE 9937
ENTRYPOINT ["/bin/appstream_exporter"]
CMD ["--config.file=/etc/appstream_exporter/appstream_exporter.yml"]
