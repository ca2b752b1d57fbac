package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// TestMountRacingEverything: Mount on a fresh mux while checks are
// registered, probes come through the mux and Check, the readiness switch
// flips, and Drain and Close end it all, racing each other. Nothing may
// panic or hang; once everything has returned, every check registered
// before Close answers at its own path (ErrClosed for those that run on
// request), Drain's verdict holds, and Contract lists Mount's routes.
func TestMountRacingEverything(t *testing.T) {
	for trial := range trials / 10 {
		reg := health.New()
		mux := http.NewServeMux()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var registered []string
		start := make(chan struct{})
		goRace := func(fn func()) {
			wg.Add(1)
			go func() { defer wg.Done(); <-start; fn() }()
		}
		goRace(func() {
			if err := reg.Mount(mux); err != nil {
				t.Errorf("trial %d: Mount: %v", trial, err)
			}
		})
		goRace(func() {
			for i := range 10 {
				name := fmt.Sprintf("c%d", i)
				opts := health.CheckOptions{}
				if i%2 == 1 {
					opts.Every = time.Millisecond
				}
				err := reg.Register(health.Readiness, name, passing, opts)
				switch {
				case err == nil:
					mu.Lock()
					registered = append(registered, name)
					mu.Unlock()
				case !errors.Is(err, health.ErrClosed):
					t.Errorf("trial %d: Register %s: %v", trial, name, err)
				}
			}
		})
		goRace(func() {
			for range 20 {
				req := newRequest(t, http.MethodGet, "/readyz")
				if a := serve(t, mux, req, answerBound); a.ok && a.code != http.StatusNotFound {
					checkAnswer(t, req, a) // 404 until Mount has registered the route
				}
				mustReturn(t, "Check", answerBound, func() { _, _ = reg.Check(context.Background(), health.Readiness) })
			}
		})
		goRace(func() {
			for i := range 20 {
				if i%2 == 0 {
					reg.MarkNotReady("flip")
				} else {
					reg.MarkReady()
				}
			}
		})
		goRace(func() {
			if err := reg.Drain(context.Background(), 0); err != nil {
				t.Errorf("trial %d: Drain: %v", trial, err)
			}
		})
		goRace(func() {
			if err := reg.Close(); err != nil {
				t.Errorf("trial %d: Close: %v", trial, err)
			}
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		if a := serve(t, mux, newRequest(t, http.MethodGet, "/readyz"), answerBound); a.code != http.StatusServiceUnavailable {
			t.Errorf("trial %d: /readyz answered %d after Drain, want 503", trial, a.code)
		}
		for _, name := range registered {
			if a := serve(t, mux, newRequest(t, http.MethodGet, "/readyz/"+name), answerBound); a.code != http.StatusOK && a.code != http.StatusServiceUnavailable {
				t.Errorf("trial %d: /readyz/%s answered %d, want 200 or 503", trial, name, a.code)
			}
		}
		if n := len(reg.Contract().HTTP.Routes); n == 0 {
			t.Errorf("trial %d: Contract lists no routes after Mount", trial)
		}
		mustReturn(t, "Close again", answerBound, func() { _ = reg.Close() })
	}
}
