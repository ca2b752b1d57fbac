package health

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"

	"github.com/sony/gobreaker/v2"
)

// This file is the end of a probe's path (see handler.go): collect reads
// the entries of a report back from the checks, and render encodes them.

// maxBody is what the kubelet reads of a probe response (10 KiB), defined
// once for the prober and the handlers alike: a body that would be longer is
// shortened so that it stays readable in full.
const maxBody = httpprobe.MaxBody

// maxReason bounds each failure reason shown with details.
const maxReason = 256

// maxNoteNames bounds how many unmatched exclusions a note quotes.
const maxNoteNames = 8

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
// under maxBody: every part's size is known exactly before anything is
// dropped, so the budget holds for any note, however escaped.
func (b *body) assemble(status Status) {
	const frame = 64 // {"status":"fail","checks":{ ... },"notes":[ ... ]}\n, or the text footer
	notes := 0
	for _, n := range b.notes {
		notes += b.noteSize(n)
	}
	excl := 0
	for _, name := range b.excl {
		excl += len(name) + len(`"excluded: ",`) + len("[+] excluded: ok\n")
	}
	keep := func(int) bool { return true }
	if frame+len(b.frags)+len(b.spans)+notes+excl >= maxBody {
		// Passing entries go first, then failing ones beyond the budget;
		// the exclusion notes go too.
		b.excl = nil
		omittedNote := len(" of  entries omitted to keep the body under  bytes") + 3*8
		budget := maxBody - frame - notes - b.noteSize(strings.Repeat("x", omittedNote))
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

// noteSize is what note n takes in the body, separators included.
func (b *body) noteSize(n string) int {
	if b.json {
		b.scratch = appendJSONString(b.scratch[:0], n)
		return len(b.scratch) + 1
	}
	return len("warn: ") + len(n) + 1
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
		out = b.appendTime(out, v.at)
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
			out = b.appendTime(out, v.lastGood)
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

// entryView is what a report shows of one entry, as collect reads it.
type entryView struct {
	name     string
	status   Status
	err      error
	msg      string // err's text, fixed when the verdict was taken
	at       time.Time
	dur      time.Duration
	obs      *Observation
	raw      []byte // obs.Value as JSON
	breaker  bool
	state    gobreaker.State
	lastGood time.Time
}

// gathered is what collect found besides the entries.
type gathered struct {
	status   Status
	n        int      // entries visited
	excluded []string // names sel left out (with ?exclude= only)
	unknown  []string // excluded names that matched nothing
}

// collect calls visit with each entry of g's report that sel wants, in name
// order, from the latest results.
func (r *Registry) collect(snap *snapshot, g Group, sel *selection, visit func(*entryView)) gathered {
	out := gathered{status: StatusPass}
	var v entryView
	for _, e := range snap.entries[g] {
		name := e.name()
		if !sel.wants(name) {
			if sel.only == "" {
				out.excluded = append(out.excluded, name)
			}
			continue
		}
		if e.c != nil {
			e.c.view(&v)
		} else {
			res := e.own.result(r)
			v = entryView{name: res.Name, status: res.Status, err: res.Err, at: res.Time}
			if res.Err != nil {
				v.msg = res.Err.Error()
			}
		}
		out.status = worse(out.status, v.status)
		out.n++
		visit(&v)
	}
	for _, name := range sel.exclude {
		if !slices.Contains(out.excluded, name) {
			out.unknown = append(out.unknown, name)
		}
	}
	return out
}

// view fills v with what a report shows of c.
func (c *check) view(v *entryView) {
	c.mu.Lock()
	s, msg, err := c.effective()
	*v = entryView{name: c.name, status: s, err: err, msg: msg}
	if c.has {
		v.at, v.dur, v.obs, v.raw = c.last.at, c.last.dur, c.last.obs, c.last.raw
	}
	c.mu.Unlock()
	if b := c.breaker; b != nil {
		v.breaker, v.state, v.lastGood = true, b.State(), b.LastSuccess()
	}
}
