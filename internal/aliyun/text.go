package aliyun

import (
	"strings"
	"unicode/utf8"
)

// clip makes s fit a log line, an error or a label: invalid UTF-8 is
// replaced, and past n bytes s is cut at a rune boundary and marked "…".
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// clipCode bounds an API error code or RequestId, which become a label
// value and part of a log line.
func clipCode(code string) string { return clip(code, 64) }
