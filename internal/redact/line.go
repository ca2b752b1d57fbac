package redact

import (
	"strings"
	"unicode/utf8"
)

// Line returns s fit to show on one line: runs of white space and control
// characters folded into single spaces, invalid UTF-8 dropped, and cut at
// a rune boundary to at most limit bytes, "…" added where it was cut. It
// is the one such rule of the registry's reasons and the status page's.
func Line(s string, limit int) string {
	var b strings.Builder
	b.Grow(min(len(s), limit+len("…")))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case r <= ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		}
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > limit {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
