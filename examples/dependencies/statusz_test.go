package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// pageEntry is an entry of the status page's history.json.
type pageEntry struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Breaker *struct {
		State     string `json:"state"`
		NextTrial string `json:"nextTrial"`
	} `json:"breaker"`
	Changes []struct {
		From, To, Breaker string
	} `json:"changes"`
}

// State is the breaker's state ("" if none).
func (e pageEntry) State() string {
	if e.Breaker == nil {
		return ""
	}
	return e.Breaker.State
}

// pageBreaker returns the readiness entry check of the status page's JSON,
// which the test reads from 127.0.0.1 as the page requires.
func pageBreaker(t *testing.T, base, check string) pageEntry {
	t.Helper()
	code, body := get(base + "/statusz/history.json")
	if code != http.StatusOK {
		t.Fatalf("GET /statusz/history.json = %d %q", code, body)
	}
	var doc struct {
		Groups []struct {
			Group   string      `json:"group"`
			Entries []pageEntry `json:"entries"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("history.json: %v", err)
	}
	for _, g := range doc.Groups {
		for _, e := range g.Entries {
			if g.Group == "readiness" && e.Name == check {
				return e
			}
		}
	}
	t.Fatalf("history.json has no readiness entry %q", check)
	return pageEntry{}
}

// assertPageRecordedOutage: after the dependency came back, the page shows
// the check passing with its breaker closed, and its history holds the
// outage in order: pass to fail, the breaker opening, then closing, and
// fail to pass.
func assertPageRecordedOutage(t *testing.T, base, check string) {
	t.Helper()
	var e pageEntry
	await(t, slack, "the status page shows the recovery", func() bool {
		e = pageBreaker(t, base, check)
		return e.Status == "pass" && e.State() == "closed"
	})
	var seen []string
	for _, c := range e.Changes {
		switch {
		case c.Breaker != "":
			seen = append(seen, "breaker "+c.Breaker)
		case c.From == "pass" && c.To == "fail", c.From == "fail" && c.To == "pass":
			seen = append(seen, c.From+" to "+c.To)
		}
	}
	want := []string{"pass to fail", "breaker open", "breaker closed", "fail to pass"}
	at := 0
	for _, s := range seen {
		if at < len(want) && s == want[at] {
			at++
		}
	}
	if at < len(want) {
		t.Errorf("the page's history of %s = %q, want %q in that order", check, seen, want)
	}
	if slices.Contains(seen, "breaker half-open") {
		t.Errorf("trials recorded as changes: %q", seen)
	}
}

// TestStatusPageFromThePodOnly: the page answers requests from the pod
// itself, and refuses the network.
func TestStatusPageFromThePodOnly(t *testing.T) {
	s, err := newServer(config{redisAddr: refusedAddr(t), interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	for from, want := range map[string]int{"127.0.0.1:1": 200, "[::1]:1": 200, "127.0.0.6:1": 403, "10.1.2.3:1": 403} {
		req, _ := http.NewRequest(http.MethodGet, "/statusz/", nil)
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET /statusz/ from %s = %d, want %d", from, rec.Code, want)
		}
	}
}
