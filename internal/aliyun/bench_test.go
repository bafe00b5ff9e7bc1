package aliyun

import (
	"bytes"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// BenchmarkDecodePage decodes one page of 100 generated groups:
//
//	go test ./internal/aliyun -run '^$' -bench . -benchmem
func BenchmarkDecodePage(b *testing.B) {
	d, err := simulator.Generate(100, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var page bytes.Buffer
	page.WriteString(`{"RequestId":"R","TotalCount":100,"PageSize":100,"PageNumber":1,"AppInstanceGroupModels":[`)
	for i, g := range d.AppInstanceGroupModels {
		if i > 0 {
			page.WriteByte(',')
		}
		page.Write(g)
	}
	page.WriteString("]}")
	b.SetBytes(int64(page.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeListResponse(page.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
