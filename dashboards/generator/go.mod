module github.com/appstream-exporter/appstream_exporter/dashboards/generator

go 1.26

toolchain go1.26.10

require github.com/grafana/grafana-foundation-sdk/go v0.0.22
