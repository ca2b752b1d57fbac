package statuspage

import (
	"bytes"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	"github.com/probekit/probekit/health"
)

// The bounds of live updates.
const (
	// maxStreams is how many event streams a page serves at once; more
	// are refused with 503.
	maxStreams = 32
	// minInterval is the least time between two updates of a stream:
	// changes that come faster are coalesced into the next update.
	minInterval = time.Second
	// heartbeat is how long a stream goes without an update before it
	// renders again (times shown relative to now, the timelines' minute)
	// or, if nothing changed, sends a comment that keeps proxies from
	// closing an idle connection.
	heartbeat = 15 * time.Second
	// writeTimeout bounds each write to a stream: a client that does not
	// take an update within it is dropped.
	writeTimeout = 10 * time.Second
	// retry is how long a browser waits before reconnecting a stream that
	// ended, in milliseconds.
	retry = 5000
)

// serveEvents streams the page's live part as Server-Sent Events: one
// "message" event with the part rendered anew at each change the registry
// announces (reg.Changed) or the page records, at most one per
// minInterval, and one per heartbeat if anything shown has changed. It
// runs on the request's goroutine and starts none: a slow client only
// holds its own stream, and gets the state as it is when it can take
// more. The stream ends when the client leaves, when readiness drains or
// the registry closes (after an update that shows it), or when a write
// times out. While readiness drains or after the registry is closed it
// answers 204, which tells a browser to stop reconnecting, so that open
// streams never hold up http.Server.Shutdown.
func (p *page) serveEvents(w http.ResponseWriter, r *http.Request, details bool) {
	if p.reg.Latest(health.Readiness).Draining || isClosed(p.reg.Done()) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if p.streams.Add(1) > maxStreams {
		p.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		plain(w, http.StatusServiceUnavailable, "too many live streams open\n")
		return
	}
	defer p.streams.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	send := func(msg []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every ResponseWriter can
		if _, err := w.Write(msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: " + strconv.Itoa(retry) + "\n\n")) {
		return
	}
	tick := time.NewTimer(heartbeat)
	defer tick.Stop()
	var sent uint64 // hash of the last update sent
	beat := false
	for {
		// Take the notifications before reading the state, so that no
		// change slips between the two.
		changed, recorded := p.reg.Changed(), p.rec.changed()
		body, v, err := p.renderLive(details)
		if err != nil {
			return
		}
		switch sum := hashOf(body); {
		case sum != sent:
			if !send(event(body)) {
				return
			}
			sent = sum
		case beat:
			if !send([]byte(": nothing changed\n\n")) {
				return
			}
		}
		if v.Draining || isClosed(p.reg.Done()) {
			return
		}
		last := time.Now()
		beat = false
		select {
		case <-changed:
		case <-recorded:
		case <-p.reg.Done():
		case <-tick.C:
			beat = true
		case <-r.Context().Done():
			return
		}
		if wait := minInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		tick.Reset(heartbeat)
	}
}

func (p *page) renderLive(details bool) ([]byte, view, error) {
	now := p.now()
	v := p.buildView(p.collect(now), now, details)
	var b bytes.Buffer
	err := templates.ExecuteTemplate(&b, "live", v)
	return b.Bytes(), v, err
}

// event frames body as one Server-Sent Event: a "data:" line per line.
func event(body []byte) []byte {
	out := make([]byte, 0, len(body)+len(body)/16+16)
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		out = append(out, "data: "...)
		out = append(out, bytes.ReplaceAll(line, []byte("\r"), nil)...)
		out = append(out, '\n')
	}
	return append(out, '\n')
}

func hashOf(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
