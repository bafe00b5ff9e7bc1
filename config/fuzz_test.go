package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig feeds arbitrary YAML to the config parser: it must not
// panic, and what it accepts must be valid.
//
//	go test ./config -run '^$' -fuzz FuzzParseConfig -fuzztime 15s
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yml")
	files = append(files, "../config.example.yml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
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
