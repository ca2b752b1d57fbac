package health

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// appendDuration rounds to the microsecond and writes what
// time.ParseDuration reads back.
func TestAppendDurationParsesBack(t *testing.T) {
	for _, d := range []time.Duration{1, 999, time.Microsecond, 1500 * time.Nanosecond, 32 * time.Microsecond,
		time.Millisecond, 12345 * time.Microsecond, 100 * time.Millisecond, time.Second, 1500 * time.Millisecond,
		59999 * time.Millisecond, time.Minute, 90 * time.Second, time.Hour + time.Nanosecond, 365 * 24 * time.Hour} {
		got := string(appendDuration(nil, d))
		back, err := time.ParseDuration(got)
		if err != nil || back != d.Round(time.Microsecond) {
			t.Errorf("appendDuration(%v) = %q, which parses as %v (%v)", d, got, back, err)
		}
	}
	for d, want := range map[time.Duration]string{12 * time.Microsecond: "12µs", 1500 * time.Microsecond: "1.5ms", 2 * time.Second: "2s"} {
		if got := string(appendDuration(nil, d)); got != want {
			t.Errorf("appendDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAppendStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "new\nline\ttab\x00nul\x7f", "<html>&amp;",
		"bad \xff utf-8", "line\u2028sep", "é✓"} {
		out := appendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("%q encodes as %s, not JSON: %v", s, out, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
			t.Errorf("%q round-trips as %q", s, back)
		}
	}
}
