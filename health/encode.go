package health

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonTime is the format of times in JSON bodies: RFC 3339 in UTC, with
// milliseconds. appendTime writes it.
const jsonTime = "2006-01-02T15:04:05.000Z07:00"

// appendTime appends t in UTC as jsonTime lays it out, formatting the
// date and time of day once per second rather than once per entry.
func (b *body) appendTime(out []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != b.sec || b.secBuf[0] == 0 {
		b.sec = sec
		year, month, day := t.Date()
		hour, minute, second := t.Clock()
		buf := b.secBuf[:0]
		buf = appendDigits(buf, year, 4)
		buf = append(buf, '-')
		buf = appendDigits(buf, int(month), 2)
		buf = append(buf, '-')
		buf = appendDigits(buf, day, 2)
		buf = append(buf, 'T')
		buf = appendDigits(buf, hour, 2)
		buf = append(buf, ':')
		buf = appendDigits(buf, minute, 2)
		buf = append(buf, ':')
		buf = appendDigits(buf, second, 2)
		if len(buf) != 19 { // a year outside 0000-9999: let the time package say it
			b.secBuf[0] = 0
			return t.AppendFormat(out, jsonTime)
		}
	}
	out = append(out, b.secBuf[:19]...)
	out = append(out, '.')
	out = appendDigits(out, t.Nanosecond()/int(time.Millisecond), 3)
	return append(out, 'Z')
}

// appendDigits appends n, which must not be negative, in at least width
// digits.
func appendDigits(out []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(out, buf[i:]...)
}

// oneLine folds runs of white space (newlines included) into single spaces
// and cuts s at a rune boundary after at most limit bytes, adding "…".
func oneLine(s string, limit int) string {
	out := make([]byte, 0, min(len(s), limit+1))
	space := false
	for i := 0; i < len(s) && len(out) <= limit; i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			space = len(out) > 0
		default:
			if space {
				out = append(out, ' ')
				space = false
			}
			out = append(out, c)
		}
	}
	if len(out) <= limit {
		return string(out)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return string(out[:cut]) + "…"
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c < 0x20 || c == 0x7f:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			case c == '<' || c == '>' || c == '&':
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// appendDuration appends d as time.Duration.String would, without
// allocating, for durations under a minute (longer ones are rare here and
// take the allocating path).
func appendDuration(out []byte, d time.Duration) []byte {
	if d < 0 || d >= time.Minute {
		return append(out, d.String()...)
	}
	if d == 0 {
		return append(out, "0s"...)
	}
	unit, scale := "s", int64(time.Second)
	switch {
	case d < time.Microsecond:
		return append(strconv.AppendInt(out, int64(d), 10), "ns"...)
	case d < time.Millisecond:
		unit, scale = "µs", int64(time.Microsecond)
	case d < time.Second:
		unit, scale = "ms", int64(time.Millisecond)
	}
	n := int64(d)
	out = strconv.AppendInt(out, n/scale, 10)
	if frac := n % scale; frac != 0 {
		digits := 0
		for s := scale; s > 1; s /= 10 {
			digits++
		}
		var buf [9]byte
		for i := digits - 1; i >= 0; i-- {
			buf[i] = byte('0' + frac%10)
			frac /= 10
		}
		end := digits
		for end > 0 && buf[end-1] == '0' {
			end--
		}
		out = append(out, '.')
		out = append(out, buf[:end]...)
	}
	return append(out, unit...)
}
