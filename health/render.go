package health

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"
	"github.com/probekit/probekit/internal/redact"
)

// maxBody is what the kubelet reads of a probe response (10 KiB), one
// definition for the prober and the handlers; maxReason bounds each reason.
const (
	maxBody   = httpprobe.MaxBody
	maxReason = 256
)

var bodyOK = []byte("ok")

// render returns the status code and body of rep in variant v. A body that
// would reach maxBody keeps the failing and warning entries that fit, with
// a note of how many are not shown.
func render(rep Report, v variant) (int, []byte) {
	code := http.StatusOK
	if rep.Status == StatusFail {
		code = http.StatusServiceUnavailable
	}
	text := v&(variantText|variantVerbose) != 0
	if text && v&variantVerbose == 0 && rep.Status == StatusPass && len(rep.Notes) == 0 {
		return code, bodyOK
	}
	d := v&variantDetails != 0
	body := encode(nil, rep, text, d, nil)
	if len(body) < maxBody {
		return code, body
	}
	// Too long: keep failing and warning entries while they fit.
	budget := maxBody - 256 // the frame, the note
	for _, n := range rep.Notes {
		budget -= len(appendString(nil, n)) + 16 // escaped, as the body holds it
	}
	keep := make([]bool, len(rep.Checks))
	kept, scratch := 0, []byte(nil)
	for i, c := range rep.Checks {
		scratch = appendEntry(scratch[:0], c, text, d)
		if c.Status != StatusPass && len(scratch)+1 <= budget {
			keep[i], budget, kept = true, budget-len(scratch)-1, kept+1
		}
	}
	rep.Notes = append(rep.Notes[:len(rep.Notes):len(rep.Notes)], strconv.Itoa(len(rep.Checks)-kept)+" of "+
		strconv.Itoa(len(rep.Checks))+" entries omitted to keep the body under "+strconv.Itoa(maxBody)+" bytes")
	rep.Excluded = nil
	return code, encode(body[:0], rep, text, d, keep)
}

// encode appends rep's body to out, with the entries keep allows (all if nil).
func encode(out []byte, rep Report, text, details bool, keep []bool) []byte {
	if out == nil {
		out = make([]byte, 0, 64+len(rep.Checks)*160)
	}
	if text {
		for i, c := range rep.Checks {
			if keep == nil || keep[i] {
				out = appendEntry(out, c, true, details)
			}
		}
		for _, name := range rep.Excluded {
			out = append(append(append(out, "[+]"...), name...), " excluded: ok\n"...)
		}
		for _, n := range rep.Notes {
			out = append(append(append(out, "warn: "...), redact.Line(n, maxMsg)...), '\n')
		}
		out = append(out, rep.Group.String()...)
		if rep.Status == StatusFail {
			return append(out, " check failed\n"...)
		}
		return append(out, " check passed\n"...)
	}
	out = append(append(append(out, `{"status":"`...), rep.Status.String()...), '"')
	first := true
	for i, c := range rep.Checks {
		if keep != nil && !keep[i] {
			continue
		}
		if first {
			out = append(out, `,"checks":{`...)
			first = false
		} else {
			out = append(out, ',')
		}
		out = appendEntry(out, c, false, details)
	}
	if !first {
		out = append(out, '}')
	}
	if len(rep.Notes)+len(rep.Excluded) > 0 {
		out = append(out, `,"notes":[`...)
		for i, n := range rep.Notes {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, n)
		}
		for i, name := range rep.Excluded {
			if i > 0 || len(rep.Notes) > 0 {
				out = append(out, ',')
			}
			out = append(append(append(out, `"excluded: `...), name...), '"') // a name: nothing to escape
		}
		out = append(out, ']')
	}
	return append(out, "}\n"...)
}

// appendEntry appends one entry in the text form ("[+]name ok") or as JSON.
func appendEntry(out []byte, c CheckResult, text, details bool) []byte {
	if text {
		switch c.Status {
		case StatusPass:
			return append(append(append(out, "[+]"...), c.Name...), " ok\n"...)
		case StatusWarn:
			out = append(append(append(out, "[+]"...), c.Name...), " warn: "...)
		default:
			out = append(append(append(out, "[-]"...), c.Name...), " failed: "...)
		}
		return append(append(out, reason(c, details)...), '\n')
	}
	// Names are [A-Za-z0-9._-]: nothing to escape.
	out = append(append(append(out, '"'), c.Name...), `":[{"status":"`...)
	out = append(append(out, c.Status.String()...), '"')
	if !c.Time.IsZero() {
		out = append(appendTime(append(out, `,"time":"`...), c.Time), '"')
	}
	if c.Duration > 0 {
		out = append(appendDuration(append(out, `,"duration":"`...), c.Duration), '"')
	}
	if b := c.Breaker; b != nil {
		out = append(append(append(out, `,"breaker":"`...), b.State.String()...), '"')
		if !b.LastSuccess.IsZero() {
			out = append(appendTime(append(out, `,"lastSuccess":"`...), b.LastSuccess), '"')
			if !c.Time.IsZero() {
				since := max(c.Time.Sub(b.LastSuccess), 0).Round(time.Second)
				out = append(appendDuration(append(out, `,"sinceLastSuccess":"`...), since), '"')
			}
		}
	}
	if c.Status != StatusPass {
		out = appendString(append(out, `,"output":`...), reason(c, details))
	}
	return append(out, "}]"...)
}

// appendTime appends t as RFC 3339 in UTC with milliseconds.
func appendTime(out []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
}

// reason is "reason withheld", or with details the redacted reason.
func reason(c CheckResult, details bool) string {
	if !details || c.Reason == "" {
		return "reason withheld"
	}
	return redact.Line(c.Reason, maxReason)
}

func appendString(out []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(out, b...)
}

// appendDuration appends d rounded to a microsecond: "12µs", "1.5ms", "2s".
func appendDuration(out []byte, d time.Duration) []byte {
	d = d.Round(time.Microsecond)
	switch {
	case d == 0:
		return append(out, "0s"...)
	case d < time.Millisecond:
		return append(strconv.AppendInt(out, d.Microseconds(), 10), "µs"...)
	case d < time.Second:
		return append(strconv.AppendFloat(out, float64(d)/float64(time.Millisecond), 'f', -1, 64), "ms"...)
	}
	return append(strconv.AppendFloat(out, d.Seconds(), 'f', -1, 64), 's')
}
