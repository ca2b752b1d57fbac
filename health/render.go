package health

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxBody is what the kubelet reads of a probe response (10 KiB); a body
// that would be longer is shortened so that it stays readable in full. It
// is the one definition of that limit.
const maxBody = 10 << 10

// maxReason bounds each failure reason shown with details.
const maxReason = 256

// maxNoteNames bounds how many unmatched exclusions a note quotes.
const maxNoteNames = 8

var urlQueryUnescape = url.QueryUnescape

type renderState struct {
	verbose, details bool
	g                Group
}

// render renders the report of g (as collect reads it) in variant v, in
// time linear in the number of entries: each entry is rendered once, and
// if the whole would exceed maxBody, passing entries make way for the
// others and then as many of those are kept as fit, with a note of how
// many are not shown.
func (r *Registry) render(snap *snapshot, g Group, sel *selection, v variant) *body {
	b := bodies.Get().(*body)
	b.out, b.frags, b.spans, b.notes, b.excl = b.out[:0], b.frags[:0], b.spans[:0], b.notes[:0], nil
	b.json = v&(variantText|variantVerbose) == 0
	b.render = renderState{verbose: v&variantVerbose != 0, details: v&variantDetails != 0, g: g}
	got := r.collect(snap, g, sel, b.entry)
	b.code = http.StatusOK
	if got.status == StatusFail {
		b.code = http.StatusServiceUnavailable
	}
	if !b.json && !b.render.verbose && got.status == StatusPass && len(got.unknown) == 0 {
		b.out = append(b.out, "ok"...)
		return b
	}
	if len(got.unknown) > 0 {
		list, more := got.unknown, ""
		if len(list) > maxNoteNames {
			more = " and " + strconv.Itoa(len(list)-maxNoteNames) + " more"
			list = list[:maxNoteNames]
		}
		b.notes = append(b.notes, unknownNote(list)+more)
	}
	b.excl = got.excluded
	b.assemble(got.status)
	return b
}

// entry renders one entry into b.frags.
func (b *body) entry(v *entryView) {
	if b.json {
		b.frags = b.jsonEntry(b.frags, v)
	} else {
		b.frags = b.textEntry(b.frags, v)
	}
	b.spans = append(b.spans, span{end: len(b.frags), status: v.status})
}

// assemble writes the body from the rendered entries and notes, keeping it
// under maxBody.
func (b *body) assemble(status Status) {
	total := len(b.frags)
	for _, n := range b.notes {
		total += len(n) + 16
	}
	for _, n := range b.excl {
		total += len(n) + 32
	}
	keep := func(int) bool { return true }
	if total+256 >= maxBody {
		// Passing entries go first, then failing ones beyond the budget;
		// the exclusion notes go too.
		b.excl = nil
		budget := maxBody - 512
		for _, n := range b.notes {
			budget -= len(n) + 16
		}
		kept := make([]bool, len(b.spans))
		omitted, start := 0, 0
		for i, s := range b.spans {
			size := s.end - start + 1
			start = s.end
			if s.status != StatusPass && size <= budget {
				kept[i], budget = true, budget-size
			} else {
				omitted++
			}
		}
		keep = func(i int) bool { return kept[i] }
		b.notes = append(b.notes, strconv.Itoa(omitted)+" of "+strconv.Itoa(len(b.spans))+
			" entries omitted to keep the body under "+strconv.Itoa(maxBody)+" bytes")
	}
	if b.json {
		b.jsonBody(status, keep)
	} else {
		b.textBody(status, keep)
	}
}

func (b *body) each(keep func(int) bool, f func(frag []byte)) {
	start := 0
	for i, s := range b.spans {
		if keep(i) {
			f(b.frags[start:s.end])
		}
		start = s.end
	}
}

func (b *body) jsonBody(status Status, keep func(int) bool) {
	b.out = append(b.out, `{"status":"`...)
	b.out = append(b.out, status.String()...)
	b.out = append(b.out, '"')
	first := true
	b.each(keep, func(frag []byte) {
		if first {
			b.out = append(b.out, `,"checks":{`...)
			first = false
		} else {
			b.out = append(b.out, ',')
		}
		b.out = append(b.out, frag...)
	})
	if !first {
		b.out = append(b.out, '}')
	}
	if len(b.notes)+len(b.excl) > 0 {
		b.out = append(b.out, `,"notes":[`...)
		for i, n := range b.notes {
			if i > 0 {
				b.out = append(b.out, ',')
			}
			b.out = appendJSONString(b.out, n)
		}
		for i, name := range b.excl {
			if i > 0 || len(b.notes) > 0 {
				b.out = append(b.out, ',')
			}
			b.out = append(b.out, `"excluded: `...)
			b.out = append(b.out, name...) // an entry's name: nothing to escape
			b.out = append(b.out, '"')
		}
		b.out = append(b.out, ']')
	}
	b.out = append(b.out, "}\n"...)
}

func (b *body) jsonEntry(out []byte, v *entryView) []byte {
	out = append(out, '"')
	out = append(out, v.name...) // names are [A-Za-z0-9._-]: nothing to escape
	out = append(out, `":[{"status":"`...)
	out = append(out, v.status.String()...)
	out = append(out, '"')
	if !v.at.IsZero() {
		out = append(out, `,"time":"`...)
		out = v.at.UTC().AppendFormat(out, jsonTime)
		out = append(out, '"')
	}
	if v.dur > 0 {
		out = append(out, `,"duration":"`...)
		out = appendDuration(out, v.dur.Round(time.Microsecond))
		out = append(out, '"')
	}
	if v.raw != nil {
		out = append(out, `,"observedValue":`...)
		out = append(out, v.raw...)
		if v.obs.Unit != "" {
			out = append(out, `,"observedUnit":`...)
			out = appendJSONString(out, v.obs.Unit)
		}
	}
	if v.breaker {
		out = append(out, `,"breaker":"`...)
		out = append(out, v.state.String()...)
		out = append(out, '"')
		if !v.lastGood.IsZero() {
			out = append(out, `,"lastSuccess":"`...)
			out = v.lastGood.UTC().AppendFormat(out, jsonTime)
			out = append(out, '"')
			if !v.at.IsZero() {
				out = append(out, `,"sinceLastSuccess":"`...)
				out = appendDuration(out, max(v.at.Sub(v.lastGood), 0).Round(time.Second))
				out = append(out, '"')
			}
		}
	}
	if v.status != StatusPass {
		out = append(out, `,"output":`...)
		out = appendJSONString(out, b.reason(v))
	}
	return append(out, "}]"...)
}

func (b *body) textBody(status Status, keep func(int) bool) {
	b.each(keep, func(frag []byte) { b.out = append(b.out, frag...) })
	for _, name := range b.excl {
		b.out = append(b.out, "[+]"...)
		b.out = append(b.out, name...)
		b.out = append(b.out, " excluded: ok\n"...)
	}
	for _, n := range b.notes {
		b.out = append(b.out, "warn: "...)
		b.out = append(b.out, n...)
		b.out = append(b.out, '\n')
	}
	b.out = append(b.out, b.render.g.String()...)
	if status == StatusFail {
		b.out = append(b.out, " check failed\n"...)
	} else {
		b.out = append(b.out, " check passed\n"...)
	}
}

func (b *body) textEntry(out []byte, v *entryView) []byte {
	switch v.status {
	case StatusPass:
		out = append(out, "[+]"...)
		out = append(out, v.name...)
		return append(out, " ok\n"...)
	case StatusWarn:
		out = append(out, "[+]"...)
		out = append(out, v.name...)
		out = append(out, " warn: "...)
	default:
		out = append(out, "[-]"...)
		out = append(out, v.name...)
		out = append(out, " failed: "...)
	}
	out = append(out, b.reason(v)...)
	return append(out, '\n')
}

// reason is what a response says of a failing entry: "reason withheld",
// or with details its error's text on one line, at most maxReason bytes.
func (b *body) reason(v *entryView) string {
	if !b.render.details || v.msg == "" {
		return "reason withheld"
	}
	return oneLine(v.msg, maxReason)
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
