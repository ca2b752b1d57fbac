// Package loopback measures the subjects over real TCP: each subject gets
// its own http.Server on 127.0.0.1, and wrk, a separate process, loads one
// server at a time. Every round measures every subject once, bare handlers
// included, so that each subject's requests/s is divided by the bare
// handler's from the same round (the machine's speed drifts between
// rounds on a shared host; the ratio within a round drifts far less).
package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/subject"
	"github.com/probekit/probekit/benchmarks/internal/wrk"
)

// Config is what Run measures and how.
type Config struct {
	// Wrk is the path of the wrk binary (see wrk.Look).
	Wrk string
	// Load is each measured wrk run: the setup is 2 threads and 32
	// connections.
	Load wrk.Config
	// Warmup is an unrecorded wrk run against each server before the first
	// round (whole seconds; 0 for none), so that round 1 does not pay for
	// connection set-up and the servers' first allocations.
	Warmup time.Duration
	// Rounds is how many times every subject is measured (at least 1).
	Rounds int
	// Specs are the subjects; they must include the bare subject of each
	// mode they use, which is what the others are divided by.
	Specs []subject.Spec
	// Progress, if not nil, gets a line per wrk run.
	Progress io.Writer
}

// Default is the setup, 10 instant checks and wrk -t2 -c32, in 15
// rounds of 1 s per subject after a 1 s warm-up. Many short rounds beat a
// few long ones on a shared machine. A burst of load from elsewhere then
// spoils a few rounds' ratios, which the median of 15 discards, instead of
// a third of the samples. A round also lasts 7 s rather than 21 s, so a
// subject is measured closer in time to its bare handler.
func Default(wrkPath string) Config {
	return Config{
		Wrk:    wrkPath,
		Load:   wrk.Config{Threads: 2, Connections: 32, Duration: time.Second, Timeout: 5 * time.Second},
		Warmup: time.Second,
		Rounds: 15,
		Specs:  subject.Specs(10, subject.Instant),
	}
}

// Run starts every subject behind its own server, verifies each over HTTP
// (see subject.Subject.VerifyWith), then measures Rounds rounds and writes
// one Go benchmark line per subject and round to out:
//
//	BenchmarkLoopback/checks=10/kind=instant/mode=on-request/lib=probekit-2  <requests>  <r> req/s  <x> x-bare  <s> p50-sec  <s> p99-sec
//
// where x-bare is req/s divided by the bare subject's req/s in the same
// mode and round, preceded by configuration lines naming wrk and its
// arguments. benchstat reads the output. Any failed request, or a subject
// that does not verify, stops the run with an error. It stops every server
// and subject before returning.
func Run(ctx context.Context, c Config, out io.Writer) (err error) {
	if err := c.validate(); err != nil {
		return err
	}
	servers := make([]*server, 0, len(c.Specs))
	defer func() {
		for _, s := range servers {
			s.close()
		}
	}()
	for _, spec := range c.Specs {
		s, err := startServer(ctx, spec)
		if err != nil {
			return err
		}
		servers = append(servers, s)
	}
	if _, err := fmt.Fprintf(out, "wrk: %s\nwrk-args: %s\nrounds: %d\n", wrk.Version(ctx, c.Wrk),
		strings.Join(c.Load.Args("URL"), " "), c.Rounds); err != nil {
		return err
	}
	if c.Warmup > 0 {
		warm := c.Load
		warm.Duration = c.Warmup
		for _, s := range servers {
			if _, err := wrk.Run(ctx, c.Wrk, warm, s.url); err != nil {
				return fmt.Errorf("loopback: warm-up of %s: %w", s.sub.Name(), err)
			}
		}
	}
	for round := range c.Rounds {
		results := make([]wrk.Result, len(servers))
		for _, i := range order(c.Specs, round) {
			s := servers[i]
			r, err := wrk.Run(ctx, c.Wrk, c.Load, s.url)
			if err != nil {
				return fmt.Errorf("loopback: round %d, %s: %w", round+1, s.sub.Name(), err)
			}
			results[i] = r
			if c.Progress != nil {
				fmt.Fprintf(c.Progress, "loopback: round %d/%d %-55s %9.0f req/s\n", round+1, c.Rounds, s.sub.Name(), r.RequestsPerSec)
			}
		}
		if err := writeRound(out, c.Specs, results); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validate() error {
	if c.Rounds < 1 {
		return fmt.Errorf("loopback: rounds must be at least 1, got %d", c.Rounds)
	}
	if c.Warmup < 0 || c.Warmup%time.Second != 0 {
		return fmt.Errorf("loopback: warm-up must be whole seconds, got %v", c.Warmup)
	}
	if len(c.Specs) == 0 {
		return errors.New("loopback: no subjects")
	}
	for _, s := range c.Specs {
		if _, ok := bareIndex(c.Specs, s.Mode); !ok {
			return fmt.Errorf("loopback: %s has no bare subject in mode %s to be compared with", s.Name(), s.Mode)
		}
	}
	return nil
}

// bareIndex returns the index of the bare subject of mode in specs.
func bareIndex(specs []subject.Spec, mode subject.Mode) (int, bool) {
	for i, s := range specs {
		if s.Lib == subject.Bare && s.Mode == mode {
			return i, true
		}
	}
	return 0, false
}

// order returns the indexes of specs in the order round measures them:
// rotated by one place per round, so that no subject is always measured
// first (on a cold machine) or always right after the same neighbour.
func order(specs []subject.Spec, round int) []int {
	n := len(specs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i + round) % n
	}
	return idx
}

// writeRound writes one round's lines in spec order.
func writeRound(out io.Writer, specs []subject.Spec, results []wrk.Result) error {
	for i, s := range specs {
		b, _ := bareIndex(specs, s.Mode)
		r := results[i]
		_, err := fmt.Fprintf(out, "BenchmarkLoopback/%s-%d\t%d\t%.1f req/s\t%.4f x-bare\t%.6g p50-sec\t%.6g p99-sec\n",
			s.Name(), runtime.GOMAXPROCS(0), r.Requests, r.RequestsPerSec, r.RequestsPerSec/results[b].RequestsPerSec,
			r.P50.Seconds(), r.P99.Seconds())
		if err != nil {
			return err
		}
	}
	return nil
}

// server is one subject behind a real http.Server on 127.0.0.1.
type server struct {
	sub *subject.Subject
	srv *http.Server
	url string
}

func startServer(ctx context.Context, spec subject.Spec) (*server, error) {
	sub, err := subject.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sub.Close()
		return nil, fmt.Errorf("loopback: %w", err)
	}
	s := &server{
		sub: sub,
		srv: &http.Server{Handler: sub.Handler, ReadHeaderTimeout: 5 * time.Second},
		url: "http://" + ln.Addr().String() + "/readyz",
	}
	go func() { _ = s.srv.Serve(ln) }()
	if err := s.verify(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// verify checks the subject's answers through the real server, with a
// client of its own whose connections it closes.
func (s *server) verify(ctx context.Context) error {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	return s.sub.VerifyWith(func() (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
		if err != nil {
			return 0, nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, body, err
	})
}

func (s *server) close() {
	_ = s.srv.Close()
	s.sub.Close()
}
