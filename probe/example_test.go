package probe_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/probe"
)

// One HTTP probe, as the kubelet would make it. The body is kept out of the
// message but is there for those who want it.
func ExampleHTTPGet() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "database: dial tcp 10.0.0.7:5432: connection refused")
	}))
	defer srv.Close()

	out, err := probe.HTTPGet{URL: srv.URL + "/readyz"}.Probe(context.Background(), time.Second)
	if err != nil {
		fmt.Println("could not probe:", err)
		return
	}
	fmt.Println(out)
	fmt.Println(out.Result.Passed())
	fmt.Printf("%s\n", out.Body)
	// Output:
	// failure: HTTP probe failed with statuscode: 503
	// false
	// database: dial tcp 10.0.0.7:5432: connection refused
}

// A redirect to another host name is not followed: the 3xx is the answer,
// a Warning, which passes.
func ExampleHTTPGet_redirect() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://login.example.com/", http.StatusFound)
	}))
	defer srv.Close()

	out, _ := probe.HTTPGet{URL: srv.URL}.Probe(context.Background(), 0)
	fmt.Println(out.Result, out.Result.Passed(), out.StatusCode)
	// Output: warning true 302
}

func ExampleTCPSocket() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()

	out, _ := probe.TCPSocket{Addr: ln.Addr().String()}.Probe(context.Background(), time.Second)
	fmt.Println(out.Result)
	// Output: success
}

// A readiness Prober reports its initial state, then each change; here the
// endpoint is healthy, so it becomes ready after SuccessThreshold probes.
func ExampleNewProber() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	p, err := probe.NewProber(probe.Readiness, probe.HTTPGet{URL: srv.URL}, probe.Settings{
		Period:           10 * time.Millisecond,
		SuccessThreshold: 2,
		OnTransition: func(t probe.Transition) {
			fmt.Printf("%v: %v -> %v\n", t.Kind, t.From, t.To)
			if t.To == probe.Success {
				cancel()
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Run(ctx))
	// Output:
	// readiness: unknown -> failure
	// readiness: failure -> success
	// context canceled
}

// Settings the Kubernetes API would reject are rejected here too.
func ExampleNewProber_invalid() {
	_, err := probe.NewProber(probe.Liveness, probe.TCPSocket{Addr: "127.0.0.1:8080"},
		probe.Settings{SuccessThreshold: 2})
	fmt.Println(err)
	// Output: probe: invalid: liveness probe: SuccessThreshold must be 1, not 2
}

// In a test: wait for the service to become ready, take it out of rotation,
// and check that a probe sees it.
func ExampleWaitStatus() {
	var ready atomic.Bool // stands for the service's readiness switch
	ready.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := probe.WaitReady(ctx, srv.URL+"/readyz"); err != nil {
		fmt.Println(err)
		return
	}
	ready.Store(false)
	err := probe.WaitStatus(ctx, probe.HTTPGet{URL: srv.URL + "/readyz"}, probe.Failure)
	fmt.Println("out of rotation:", err == nil)
	// Output: out of rotation: true
}
