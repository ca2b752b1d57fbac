package health

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody is what the kubelet reads of a probe response (10 KiB); a body
// that would be longer is shortened so that it stays readable in full.
const maxBody = 10 << 10

// maxReason bounds each failure reason shown with details.
const maxReason = 256

// variant is a rendering of a report: format × details.
type variant uint8

const (
	variantJSON    variant = iota // application/health+json
	variantText                   // "ok", or the verbose form when not passing
	variantVerbose                // the Kubernetes verbose text form
	numFormats
)

const numVariants = int(numFormats) * 2

func pickVariant(req *http.Request, verbose, details bool) variant {
	v := variantJSON
	switch {
	case verbose:
		v = variantVerbose
	default:
		if a := req.Header.Get("Accept"); a != "" && strings.Contains(a, "text/plain") && !strings.Contains(a, "json") {
			v = variantText
		}
	}
	if details {
		v += numFormats
	}
	return v
}

// rendered is a finished response. It is immutable once published, so one
// rendering serves any number of concurrent requests.
type rendered struct {
	version       uint64
	code          int
	body          []byte
	contentType   []string
	contentLength []string
}

func (s *rendered) write(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h["Content-Type"] = s.contentType
	h["Cache-Control"] = headerNoStore
	h["X-Content-Type-Options"] = headerNoSniff
	h["Content-Length"] = s.contentLength
	w.WriteHeader(s.code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(s.body)
	}
}

var (
	contentTypeJSON = []string{"application/health+json"}[:1:1]
	contentTypeText = []string{"text/plain; charset=utf-8"}[:1:1]
)

func render(rep Report, v variant) *rendered {
	details := v >= numFormats
	format := v % numFormats
	s := &rendered{code: http.StatusOK, contentType: contentTypeJSON}
	if rep.Status == StatusFail {
		s.code = http.StatusServiceUnavailable
	}
	if format == variantJSON {
		s.body = renderJSON(rep, details)
	} else {
		s.contentType = contentTypeText
		s.body = renderText(rep, format == variantVerbose, details)
	}
	s.contentLength = []string{strconv.Itoa(len(s.body))}[:1:1]
	return s
}

// shorten keeps a report within maxBody: first passing entries go, then as
// many of the others as it takes, so that a failing entry is shown whenever
// one fits.
func shorten(rep Report, encode func(Report) []byte) []byte {
	body := encode(rep)
	if len(body) < maxBody {
		return body
	}
	kept := rep.Checks[:0:0]
	for _, c := range rep.Checks {
		if c.Status != StatusPass {
			kept = append(kept, c)
		}
	}
	short := rep
	short.Excluded = nil
	for n := len(kept); ; n /= 2 {
		short.Checks = kept[:n]
		short.Notes = append(rep.Notes[:len(rep.Notes):len(rep.Notes)],
			fmt.Sprintf("%d of %d entries omitted to keep the body under %d bytes", len(rep.Checks)-n, len(rep.Checks), maxBody))
		if body = encode(short); len(body) < maxBody {
			return body
		}
		if n == 0 {
			short.Notes = short.Notes[len(short.Notes)-1:]
			return encode(short)
		}
	}
}

func reason(c CheckResult, details bool) string {
	if !details || c.Err == nil {
		return "reason withheld"
	}
	msg := strings.Join(strings.Fields(c.Err.Error()), " ") // one line
	if len(msg) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

type jsonReport struct {
	Status string                 `json:"status"`
	Checks map[string][]jsonEntry `json:"checks,omitempty"`
	Notes  []string               `json:"notes,omitempty"`
}

type jsonEntry struct {
	Status           string          `json:"status"`
	Time             string          `json:"time,omitempty"`
	Duration         string          `json:"duration,omitempty"`
	ObservedValue    json.RawMessage `json:"observedValue,omitempty"`
	ObservedUnit     string          `json:"observedUnit,omitempty"`
	Breaker          string          `json:"breaker,omitempty"`
	LastSuccess      string          `json:"lastSuccess,omitempty"`
	SinceLastSuccess string          `json:"sinceLastSuccess,omitempty"`
	Output           string          `json:"output,omitempty"`
}

const jsonTime = "2006-01-02T15:04:05.000Z07:00"

func renderJSON(rep Report, details bool) []byte {
	return shorten(rep, func(rep Report) []byte {
		out := jsonReport{Status: rep.Status.String(), Notes: rep.Notes}
		for _, name := range rep.Excluded {
			out.Notes = append(out.Notes, "excluded: "+name)
		}
		if len(rep.Checks) > 0 {
			out.Checks = make(map[string][]jsonEntry, len(rep.Checks))
		}
		for _, c := range rep.Checks {
			e := jsonEntry{Status: c.Status.String()}
			if !c.Time.IsZero() {
				e.Time = c.Time.UTC().Format(jsonTime)
			}
			if c.Duration > 0 {
				e.Duration = c.Duration.Round(time.Microsecond).String()
			}
			if o := c.Observation; o != nil {
				if raw, err := json.Marshal(o.Value); err == nil {
					e.ObservedValue, e.ObservedUnit = raw, o.Unit
				}
			}
			if b := c.Breaker; b != nil {
				e.Breaker = b.State.String()
				if !b.LastSuccess.IsZero() {
					e.LastSuccess = b.LastSuccess.UTC().Format(jsonTime)
					if at := c.Time; !at.IsZero() {
						e.SinceLastSuccess = max(at.Sub(b.LastSuccess), 0).Round(time.Second).String()
					}
				}
			}
			if c.Status != StatusPass {
				e.Output = reason(c, details)
			}
			out.Checks[c.Name] = []jsonEntry{e}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		if err := enc.Encode(out); err != nil { // cannot happen: every field encodes
			return []byte(`{"status":"` + rep.Status.String() + `"}` + "\n")
		}
		return buf.Bytes()
	})
}

func renderText(rep Report, verbose, details bool) []byte {
	if !verbose && rep.Status == StatusPass && len(rep.Notes) == 0 {
		return []byte("ok")
	}
	return shorten(rep, func(rep Report) []byte {
		var b bytes.Buffer
		for _, c := range rep.Checks {
			switch c.Status {
			case StatusPass:
				fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
			case StatusWarn:
				fmt.Fprintf(&b, "[+]%s warn: %s\n", c.Name, reason(c, details))
			default:
				fmt.Fprintf(&b, "[-]%s failed: %s\n", c.Name, reason(c, details))
			}
		}
		for _, name := range rep.Excluded {
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", name)
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "warn: %s\n", n)
		}
		verdict := "passed"
		if rep.Status == StatusFail {
			verdict = "failed"
		}
		fmt.Fprintf(&b, "%s check %s\n", rep.Group, verdict)
		return b.Bytes()
	})
}
