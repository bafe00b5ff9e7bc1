package exposition

import (
	"bufio"
	"bytes"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/appstream-exporter/appstream_exporter/config"
	"github.com/appstream-exporter/appstream_exporter/internal/aliyun"
)

// FuzzDecodeListResponse feeds arbitrary bodies to the decoder and renders
// whatever decodes: nothing may panic, and the exposition written must be
// valid text format in valid UTF-8.
//
//	go test ./internal/exposition -run '^$' -fuzz FuzzDecodeListResponse -fuzztime 15s
func FuzzDecodeListResponse(f *testing.F) {
	for _, p := range fixtures {
		f.Add(mustReadF(f, p))
	}
	for _, s := range []string{`{}`, `{"AppInstanceGroupModels":null}`, `{"Code":"Throttling.User"}`, `{"AppInstanceGroupModels":[{"AppInstanceGroupId":"a","NodePool":[{"RecurrenceSchedules":[{"RecurrenceValues":[8],"TimerPeriods":[{"StartTime":"23:00","EndTime":"01:00"}]}]}]}]}`} {
		f.Add([]byte(s))
	}
	cfg := config.DefaultConfig()
	cfg.TagLabels = config.TagLabelsOf("department")
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := aliyun.DecodeListResponse(body)
		if err != nil {
			return
		}
		r := Render(cfg, nil, aliyun.UniqueGroups("", resp), "", now, 1)
		var buf bytes.Buffer
		if err := Write(bufio.NewWriter(&buf), now, groupsOnly(r.Snapshot)); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(buf.Bytes()) {
			t.Fatalf("exposition is not valid UTF-8:\n%s", buf.String())
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("invalid exposition: %v\n%s", err, buf.String())
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
