package adversarial_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/probekit/probekit/health"
)

// secret is in the failing check's error: it must never reach a response
// whose ShowDetails did not say yes.
const secret = "postgres://admin:hunter2@db.internal"

// TestHostileShowDetails: "ShowDetails misbehaviour → the request is
// still answered promptly with reasons withheld", for a ShowDetails that
// panics, calls Goexit or hangs at every request.
func TestHostileShowDetails(t *testing.T) {
	for _, b := range []struct {
		name string
		do   func(*rig) act
		logs []string // what one log line must say: the logger hears why
	}{
		{name: "panics", do: func(*rig) act { return panics(marker("details")) }, logs: []string{"ShowDetails panicked", "adversarial-details"}},
		{name: "calls_Goexit", do: func(*rig) act { return goexits() }, logs: []string{"ShowDetails called runtime.Goexit"}},
		{name: "hangs", do: func(rg *rig) act { return hangs(rg) }, logs: []string{"ShowDetails", "did not return within"}},
		{name: "panics_with_value_whose_String_hangs", do: func(rg *rig) act { return panics(actStringer{hangs(rg)}) },
			logs: []string{"ShowDetails panicked", "String or Error method failed"}},
		{name: "panics_with_value_whose_String_panics", do: func(*rig) act { return panics(actStringer{panics("String")}) },
			logs: []string{"ShowDetails panicked"}},
	} {
		t.Run(b.name, func(t *testing.T) {
			for _, m := range modes[:2] {
				t.Run(m.name, func(t *testing.T) {
					inChild(t, func(t *testing.T) {
						var do act
						rg := newRig(t, health.Options{ShowDetails: func(*http.Request) bool { do(); return true }})
						do = b.do(rg)
						attackDetails(t, rg, m)
						if !rg.logs.await(b.logs...) {
							t.Errorf("no log line says %q; the log:\n%s", b.logs, tailString(rg.logs.String()))
						}
					})
				})
			}
		})
	}
}

func attackDetails(t *testing.T, rg *rig, m mode) {
	rg.register(t, health.Readiness, "victim", m.checker(func(context.Context) error { return errors.New("cannot reach " + secret) }), m.opts)
	if m.background {
		if _, ok := rg.events.await(0, func(ev seen) bool { return ev.check == "victim" && !safeIs(ev.err, health.ErrPending) }); !ok {
			t.Fatalf("the background check never produced a result")
		}
	}
	for round := range 3 {
		for _, p := range []struct {
			target string
			accept string
		}{{"/readyz", ""}, {"/readyz?verbose", ""}, {"/readyz/victim", ""}, {"/readyz", "text/plain"}, {"/livez", ""}} {
			var headers []string
			if p.accept != "" {
				headers = append(headers, "Accept: "+p.accept)
			}
			a := rg.get(t, p.target, headers...)
			if !a.ok {
				return
			}
			if strings.Contains(string(a.body), "hunter2") {
				t.Errorf("round %d: GET %s showed the failure reason although ShowDetails never said yes: %.300q", round, p.target, a.body)
			}
			if want := http.StatusServiceUnavailable; p.target != "/livez" && a.code != want {
				t.Errorf("round %d: GET %s answered %d, want %d", round, p.target, a.code, want)
			}
		}
	}
	rg.responsive(t, "")
}
