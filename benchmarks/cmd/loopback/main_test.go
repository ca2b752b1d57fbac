package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunOneShortRound(t *testing.T) {
	prereq.LookPath(t, "wrk", "wrk")
	var out, progress bytes.Buffer
	err := run(context.Background(), []string{"-rounds", "1", "-duration", "1s", "-warmup", "0", "-threads", "1", "-connections", "2"}, &out, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\nBenchmarkLoopback/"); n != 7 || !strings.Contains(out.String(), "wrk-args: -t1 -c2 -d1s") {
		t.Fatalf("%d results:\n%s", n, out.String())
	}
	if !strings.Contains(progress.String(), "loopback: done in ") {
		t.Fatalf("progress:\n%s", progress.String())
	}
}

func TestRunRefusesBadArguments(t *testing.T) {
	prereq.LookPath(t, "wrk", "wrk")
	for _, args := range [][]string{{"-rounds", "0"}, {"-duration", "1500ms"}, {"extra"}, {"-nosuchflag"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
