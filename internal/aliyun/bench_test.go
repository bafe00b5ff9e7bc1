package aliyun

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/appstream-exporter/appstream_exporter/simulator"
)

// BenchmarkDecodePage decodes one page of 100 generated groups:
//
//	go test ./internal/aliyun -run '^$' -bench . -benchmem
func BenchmarkDecodePage(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeListResponse(page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePageEncodingJSON decodes the same page as the code before
// decodeModel did (oracle_test.go), for comparison under the same load.
func BenchmarkDecodePageEncodingJSON(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var r ListResponse
		if err := json.Unmarshal(page, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPage(b *testing.B) []byte {
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
	return page.Bytes()
}
