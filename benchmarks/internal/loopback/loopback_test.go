package loopback_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/perf/benchfmt"

	"github.com/probekit/probekit/benchmarks/internal/loopback"
	"github.com/probekit/probekit/benchmarks/internal/subject"
	"github.com/probekit/probekit/benchmarks/internal/wrk"
	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunRefusesABadConfig(t *testing.T) {
	c := loopback.Default("/nonexistent/wrk")
	c.Specs = []subject.Spec{{Lib: subject.Probekit, Mode: subject.Background, Kind: subject.Instant, Checks: 1}}
	err := loopback.Run(context.Background(), c, new(bytes.Buffer))
	if err == nil || !strings.Contains(err.Error(), "no bare subject in mode background") {
		t.Fatalf("Run without a yardstick: %v", err)
	}
	c = loopback.Default("/nonexistent/wrk")
	c.Rounds = 0
	if err := loopback.Run(context.Background(), c, new(bytes.Buffer)); err == nil {
		t.Fatal("Run with 0 rounds succeeded")
	}
}

// One short round of the real thing: servers on 127.0.0.1, wrk in another
// process, benchmark lines that benchstat's parser reads, a yardstick whose
// ratio to itself is 1. It asserts nothing about speed.
func TestOneRoundOverLoopback(t *testing.T) {
	path := prereq.LookPath(t, "wrk", "wrk")
	c := loopback.Default(path)
	c.Load = wrk.Config{Threads: 1, Connections: 4, Duration: time.Second, Timeout: 2 * time.Second}
	c.Warmup, c.Rounds = 0, 1
	var out, progress bytes.Buffer
	c.Progress = &progress
	if err := loopback.Run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(bytes.NewReader(out.Bytes()), "loopback")
	var names []string
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			t.Fatalf("unparsable line: %v", r.Result())
		}
		if !strings.HasPrefix(res.GetConfig("wrk"), "wrk ") || !strings.Contains(res.GetConfig("wrk-args"), "-t1 -c4 -d1s") {
			t.Errorf("configuration lines missing: wrk %q, wrk-args %q", res.GetConfig("wrk"), res.GetConfig("wrk-args"))
		}
		rps, _ := res.Value("req/s")
		ratio, _ := res.Value("x-bare")
		if res.Iters == 0 || rps <= 0 || ratio <= 0 {
			t.Errorf("%s: %d requests, %v req/s, ratio %v", res.Name, res.Iters, rps, ratio)
		}
		if strings.Contains(string(res.Name), "lib=bare") && ratio != 1 {
			t.Errorf("%s: bare's ratio to itself is %v", res.Name, ratio)
		}
		names = append(names, string(res.Name.Full()))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) != len(c.Specs) {
		t.Fatalf("got %d lines for %d subjects:\n%s", len(names), len(c.Specs), out.String())
	}
	for i, s := range c.Specs {
		if !strings.HasPrefix(names[i], "Loopback/"+s.Name()+"-") {
			t.Errorf("line %d is %s, want %s", i, names[i], s.Name())
		}
	}
	if got := strings.Count(progress.String(), "\n"); got != len(c.Specs) {
		t.Errorf("%d progress lines for %d runs:\n%s", got, len(c.Specs), progress.String())
	}
}
