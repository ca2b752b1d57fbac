package health

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendTimeMatchesTheLayout(t *testing.T) {
	var b body
	for _, at := range []time.Time{
		time.Date(2026, 12, 1, 21, 49, 0, 123456789, time.UTC),
		time.Date(2026, 12, 1, 21, 49, 0, 999999999, time.FixedZone("x", 3600)),
		time.Date(2026, 12, 1, 21, 49, 1, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC),
		time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 3, 4, 5, 6, 7, 8e6, time.UTC),
	} {
		want := at.UTC().Format(jsonTime)
		if got := string(b.appendTime(nil, at)); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", at, got, want)
		}
	}
}

func TestAppendDurationMatchesString(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, time.Microsecond, 1500 * time.Nanosecond, 32 * time.Microsecond,
		time.Millisecond, 12345 * time.Microsecond, 100 * time.Millisecond, time.Second, 1500 * time.Millisecond,
		59999 * time.Millisecond, time.Minute, 90 * time.Second, time.Hour + time.Nanosecond, -time.Second} {
		if got, want := string(appendDuration(nil, d)), d.String(); got != want {
			t.Errorf("appendDuration(%d) = %s, want %s", d, got, want)
		}
	}
}

func TestAppendJSONStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "new\nline\ttab\x00nul\x7f", "<html>&amp;", "bad \xff utf-8", "line\u2028sep", "é✓"} {
		out := appendJSONString(nil, s)
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
