package testkit

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

// Gunzip decodes body with Go's reader; body must be exactly one gzip
// member, as every gzip reader (not only Go's) reads it whole.
func Gunzip(t testing.TB, body []byte) string {
	t.Helper()
	src := bytes.NewReader(body)
	zr, err := gzip.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := zr.Reset(src); !errors.Is(err, io.EOF) {
		t.Fatalf("more than one gzip member, or bytes after it: %v", err)
	}
	return string(text)
}
