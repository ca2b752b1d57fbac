package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"
	"github.com/probekit/probekit/probe"
)

// fuzzFlagsWithValue are the flags that take a value: the token after one
// of them is its value, whatever it looks like.
var fuzzFlagsWithValue = map[string]bool{
	"-timeout": true, "--timeout": true, "-header": true, "--header": true,
	"-cacert": true, "--cacert": true,
}

// fuzzArgs turns fuzzed text into arguments that can only ever reach
// 127.0.0.1. Tokens are separated by newlines; every token that is not the
// value of a flag is forced to start with "-", so that no fuzzed token can
// become a subcommand, a URL or a command to execute. The fixed target
// (one of a refusing port, a loopback server, or none) comes last.
func fuzzArgs(text string, target []string) []string {
	var args []string
	wantValue := false
	for tok := range strings.SplitSeq(text, "\n") {
		if len(args) >= 16 {
			break
		}
		if !wantValue && !strings.HasPrefix(tok, "-") {
			tok = "-" + tok
		}
		name, _, hasValue := strings.Cut(tok, "=")
		if cacert := strings.TrimLeft(name, "-") == "cacert"; cacert && hasValue {
			tok = name + "=/nonexistent/ca.pem" // never /dev/zero or /dev/stdin
		} else if wantValue && strings.TrimLeft(args[len(args)-1], "-") == "cacert" {
			tok = "/nonexistent/ca.pem"
		}
		wantValue = !wantValue && !hasValue && fuzzFlagsWithValue[name]
		args = append(args, tok)
	}
	if wantValue {
		args = append(args, "1s") // give a dangling value flag something
	}
	return append(args, target...)
}

// FuzzRun: whatever the flags, run never panics, exits 0, 1 or 2, writes at
// most one line on stdout, and never passes against a port that refuses.
// It stays offline and fast: every target is on 127.0.0.1 and answers (or
// refuses) at once.
func FuzzRun(f *testing.F) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	targets := [][]string{
		{"http://" + refused + "/"},
		{"tcp", refused},
		{srv.URL + "/"},
		{"http", srv.URL + "/ready?x=1"},
		nil,
	}
	for _, seed := range []string{
		"", "-v", "-timeout\n2s", "-timeout\n0", "-timeout=-1s", "-timeout\n2000h", "-header\nA: b",
		"-header\nno colon", "-header\nX: a\r\nY: b", "-insecure\n-cacert\n/nonexistent", "-h", "--",
		"-timeout\n1s\n-header\nHost: svc\n-v", "-unknown", "-timeout=1ns",
	} {
		for i := range targets {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, text string, which uint8) {
		target := targets[int(which)%len(targets)]
		args := fuzzArgs(text, target)
		var stdout, stderr strings.Builder
		code := run(args, &stdout, &stderr)
		if code != exitPass && code != exitFail && code != exitUsage {
			t.Fatalf("run(%q) = %d, want 0, 1 or 2", args, code)
		}
		if n := strings.Count(stdout.String(), "\n"); n > 1 {
			t.Fatalf("run(%q) wrote %d lines on stdout", args, n)
		}
		if len(target) > 0 && strings.Contains(strings.Join(target, " "), refused) && code == exitPass {
			t.Fatalf("run(%q) passed against a refusing port; stderr %q", args, stderr.String())
		}
	})
}

// FuzzHeaderFlag: a -header value is either refused or becomes exactly one
// valid header whose value has no line break.
func FuzzHeaderFlag(f *testing.F) {
	for _, s := range []string{"A: b", "Host:svc.local", "Authorization: Bearer t0k", "no colon", ": v", "X A: b",
		"X-A: b\r\nX-B: c", "X-A:\x00", "User-Agent:", "Accept:  */*  ", "Ω: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var h headerFlags
		if err := h.Set(s); err != nil {
			if v := strings.TrimSpace(s[strings.IndexByte(s, ':')+1:]); len(v) > 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("error %q quotes the header value", err)
			}
			return
		}
		if len(h.h) != 1 {
			t.Fatalf("Set(%q) made %d headers", s, len(h.h))
		}
		for name, vs := range h.h {
			if len(vs) != 1 {
				t.Fatalf("Set(%q) made %d values", s, len(vs))
			}
			if err := httpprobe.ValidHeader(name, vs[0]); err != nil {
				t.Fatalf("Set(%q) accepted an invalid header: %v", s, err)
			}
		}
	})
}

// stuckAction never returns until released, ignoring its timeout.
type stuckAction struct{ release chan struct{} }

func (s stuckAction) Probe(context.Context, time.Duration) (probe.Outcome, error) {
	<-s.release
	return probe.Outcome{Result: probe.Success}, nil
}

// TestWatchdog: a probe that does not honour its timeout still ends the run
// shortly after it, as a failure.
func TestWatchdog(t *testing.T) {
	a := stuckAction{release: make(chan struct{})}
	defer close(a.release)
	start := time.Now()
	out, err := probeWithin(a, 100*time.Millisecond)
	if err != nil || out.Result != probe.Failure || !strings.Contains(out.Message, "gave up") {
		t.Fatalf("got %v, %v; want a Failure that gave up", out, err)
	}
	if took := time.Since(start); took > 100*time.Millisecond+watchdogGrace+2*time.Second {
		t.Fatalf("took %v", took)
	}
}
