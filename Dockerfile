# Multi-stage build: a static binary on a distroless base (CA certificates
# for the HTTPS API and zoneinfo included, non-root user).
FROM golang:1.26.10 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      -o /out/appstream_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/appstream_exporter /bin/appstream_exporter
COPY config.example.yml /etc/appstream_exporter/appstream_exporter.yml
USER nonroot:nonroot
EXPOSE 9937
ENTRYPOINT ["/bin/appstream_exporter"]
CMD ["--config.file=/etc/appstream_exporter/appstream_exporter.yml"]
