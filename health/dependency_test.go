package health_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/probekit/probekit/health"
)

// dependency is a real HTTP server standing in for something a service
// depends on. It counts the requests it receives; the test decides whether
// it answers 200, 500, or hangs until released.
type dependency struct {
	url      string
	calls    atomic.Int64
	down     atomic.Bool
	hang     atomic.Bool
	release  chan struct{}
	released sync.Once
	client   *http.Client
}

func newDependency(t testing.TB) *dependency {
	t.Helper()
	d := &dependency{release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.calls.Add(1)
		if d.hang.Load() {
			<-d.release // deliberately deaf to the client going away
		}
		if d.down.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	// A fresh connection per call: no idle connection goroutines survive a
	// test, and a call is a call even when the previous one was abandoned.
	tr := &http.Transport{DisableKeepAlives: true}
	d.client = &http.Client{Transport: tr}
	d.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	t.Cleanup(d.unblock) // runs first: hung handlers must return for srv.Close
	return d
}

func (d *dependency) unblock() { d.released.Do(func() { close(d.release) }) }

// get calls the dependency with ctx.
func (d *dependency) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dependency answered %s", resp.Status)
	}
	return nil
}

// check is a well-behaved dependency check: it honours ctx. runs counts its
// invocations.
func (d *dependency) check(runs *atomic.Int64) health.DependencyFunc {
	return func(ctx context.Context) error {
		runs.Add(1)
		return d.get(ctx)
	}
}
