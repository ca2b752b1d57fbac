package benchtable

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// count formats a non-negative quantity (ns/op, B/op, allocs/op, req/s)
// with thousands separators, and one decimal below 100 where it matters.
func count(v float64) string {
	if v < 100 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ratio formats x as a multiple with about three significant digits.
func ratio(x float64) string {
	switch {
	case x >= 100:
		return count(x) + "×"
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	default:
		return fmt.Sprintf("%.2f×", x)
	}
}

// exact formats a ratio that is compared with a goal, with one more digit
// than ratio so that a figure that misses "≤ 0.25×" never shows as 0.25×.
func exact(x float64) string { return fmt.Sprintf("%.3f×", x) }

// latency formats seconds as a duration with three significant digits.
func latency(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3g s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	}
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
