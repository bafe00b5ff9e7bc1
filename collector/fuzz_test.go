package collector

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// FuzzDecodeListResponse feeds arbitrary bodies to the decoder and renders
// whatever decodes: nothing may panic, and the exposition written must be
// valid text format in valid UTF-8.
//
//	go test ./collector -run '^$' -fuzz FuzzDecodeListResponse -fuzztime 15s
func FuzzDecodeListResponse(f *testing.F) {
	for _, p := range []string{"testdata/reference.json", "testdata/edge_cases.json"} {
		f.Add(mustReadF(f, p))
	}
	for _, s := range []string{`{}`, `{"AppInstanceGroupModels":null}`, `{"Code":"Throttling.User"}`, `{"AppInstanceGroupModels":[{"AppInstanceGroupId":"a","NodePool":[{"RecurrenceSchedules":[{"RecurrenceValues":[8],"TimerPeriods":[{"StartTime":"23:00","EndTime":"01:00"}]}]}]}]}`} {
		f.Add([]byte(s))
	}
	cfg := DefaultConfig()
	cfg.TagLabels = TagLabelsOf("department")
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := DecodeListResponse(body)
		if err != nil {
			return
		}
		collect := newGroupCollector("")
		collect.add(resp)
		snap := newRenderer(cfg, nil).renderAll(collect.groups, "")
		v := &view{now: now, states: []queryState{{snap: snap}}}
		var buf bytes.Buffer
		if err := v.writeSeries(bufio.NewWriter(&buf)); err != nil {
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

// FuzzParseConfig feeds arbitrary YAML to the config parser: it must not
// panic, and what it accepts must be valid.
//
//	go test ./collector -run '^$' -fuzz FuzzParseConfig -fuzztime 15s
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*/*.yml")
	files = append(files, "../config.example.yml")
	for _, p := range files {
		f.Add(mustReadF(f, p))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, dir)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted a config that does not validate: %v", err)
		}
		_ = cfg.Summary()
	})
}

func mustReadF(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
