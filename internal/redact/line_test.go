package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/probekit/probekit/internal/redact"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", 10, "plain"},
		{"", 10, ""},
		{"  lead and\n\ttrail  ", 100, "lead and trail"},
		{"a\r\n\r\nb\vc\fd", 100, "a b c d"},
		{"a\n\n b\r\x00c\x7fd\u2028e\u0085f", 100, "a b c d e f"},
		{"bad \xff utf-8", 100, "bad utf-8"},
		{"0123456789", 10, "0123456789"},
		{"0123456789x", 10, "0123456789…"},
		{strings.Repeat("é", 10), 5, "éé…"}, // cut at a rune boundary
	} {
		assert.Equal(t, tc.want, redact.Line(tc.in, tc.limit), "Line(%q, %d)", tc.in, tc.limit)
	}
	for _, limit := range []int{0, 1, 2, 3, 160, 256} {
		long := redact.Line(strings.Repeat("✓ \n", 1000), limit)
		assert.True(t, utf8.ValidString(long))
		assert.LessOrEqual(t, len(long), limit+len("…"), "limit %d", limit)
		assert.NotContains(t, long, "\n")
	}
}
